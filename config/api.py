"""What every part of the REST API (/api/v1/) shares: paging, role checks, and how the services'
refusals become HTTP answers. Each app keeps its own endpoints in ``<app>/api.py``; they call
the same selectors (department scoping) and services (every write) as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from org.roles import has_role


class Pagination(PageNumberPagination):
    """50 rows a page by default, ``?page_size=`` up to 500."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state.")
    default_code = "conflict"


def roles(*names: str) -> type[permissions.BasePermission]:
    """A permission class: signed in and holding one of ``names`` (403 otherwise)."""

    class HasRole(permissions.IsAuthenticated):
        def has_permission(self, request: Request, view: APIView) -> bool:
            return super().has_permission(request, view) and has_role(request.user, *names)

    HasRole.__name__ = f"HasRole({', '.join(names)})"
    return HasRole


def _messages(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}  # fmt: skip
    return {"detail": [str(m) for m in exc.messages]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the services' Django exceptions: a model/service ValidationError is
    400 with its translated messages (409 when a decision was already taken by someone else),
    PermissionDenied 403, Http404 404."""
    if isinstance(exc, DjangoValidationError):
        code = getattr(exc, "code", None)
        body = _messages(exc)
        if code == "already_decided":
            body["code"] = code
            return Response(body, status=status.HTTP_409_CONFLICT)
        if code:
            body["code"] = code
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)


class TokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes our token header (knox's format)."""

    target_class = "config.api_auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(
                _('"Token " followed by a token from your account\'s API tokens page.')
            ),
        }
