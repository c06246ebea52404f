"""What every part of the REST API (/api/v1/) shares: paging and how the services'
refusals become HTTP answers. Each app keeps its own endpoints in ``<app>/api.py``; they call
the same selectors (department scoping) and services (every write) as the pages. The role
check (``roles``) is org's: org/api_permissions.py."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import cache
from typing import Any

import django_filters
import django_filters.fields
from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
# What a router lets through as an object's id: anything up to the next "/", so that ids like
# "1.5" reach the view and get the API's JSON 404 rather than Django's HTML page (DRF's default
# pattern stops at a dot).
LOOKUP = r"[^/]+"
_MAX_WEST, _MAX_EAST = dt.timedelta(hours=12), dt.timedelta(hours=14)


class Pagination(PageNumberPagination):
    """50 rows a page by default, ``?page_size=`` from 1 up to 500 (more is cut to 500). A page
    size or a page that is not a whole number is refused (400, 404), not quietly replaced by
    the default: a client's mistake shows at once."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not _WHOLE_NUMBER.fullmatch(raw) or int(raw) < 1:
            message = _("Enter a whole number from 1 to %(max)s.") % {"max": self.max_page_size}
            raise exceptions.ValidationError({self.page_size_query_param: [message]})
        return min(int(raw), self.max_page_size)

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        # DRF reads an empty ?page= as the first page; here it is no page (404, like ?page=x).
        number = request.query_params.get(self.page_query_param, 1)
        return paginator.num_pages if number in self.last_page_strings else number

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters


class _StrictBooleanField(forms.Field):
    """true/false (or 1/0); anything else is an error, not "no filter"."""

    widget = forms.TextInput  # Django's select widget turns unknown text into None

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if value in ("true", "True", "1"):
            return True
        if value in ("false", "False", "0"):
            return False
        raise DjangoValidationError(_("Enter true or false."), code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter of the API: ``?active=maybe`` is a 400, not the unfiltered list."""

    field_class = _StrictBooleanField


class IntegerFilter(django_filters.NumberFilter):
    """A whole number of the API: ``?year=1.5`` is a 400, not a filter on a decimal."""

    field_class = forms.IntegerField


class _IsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date and time whose offset exists on Earth (UTC-12:00 to +14:00): PostgreSQL
    refuses offsets of 16 hours and more with an error (a 500 before this check)."""

    def to_python(self, value: Any) -> Any:
        parsed = super().to_python(value)
        offset = parsed.utcoffset() if parsed is not None else None
        if offset is not None and not -_MAX_WEST <= offset <= _MAX_EAST:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _IsoDateTimeField


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id in a body, among the request user's objects (``scope(user)``): another department's
    object is refused exactly like one that does not exist (the filters' rule). ``queryset``
    names the model for the schema."""

    def __init__(self, *, scope: Callable[[Any], Any], **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        return self.scope(self.context["request"].user)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state.")
    default_code = "conflict"


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

    target_class = "core.api_auth.TokenAuthentication"
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


class ErrorSerializer(serializers.Serializer[Any]):
    """A refusal: what went wrong, translated (the code says which check, where there is one)."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class RefusalSerializer(serializers.Serializer[Any]):
    """A service's refusal (a Django ValidationError): its messages and, where set, its code."""

    detail = serializers.ListField(child=serializers.CharField())
    code = serializers.CharField(required=False)


CONFLICT = OpenApiResponse(RefusalSerializer, _("Already decided by someone else."))

# Every error answer an endpoint can give, as the exception handler writes it: a 400 names
# the fields (``{"field": ["message"]}``, nested for nested input, or ``{"detail": [...]}``).
ERRORS = {
    "400": OpenApiResponse(OpenApiTypes.OBJECT, _("The input was refused, field by field.")),
    "401": OpenApiResponse(ErrorSerializer, _("No valid token or session.")),
    "403": OpenApiResponse(ErrorSerializer, _("Your roles do not allow this.")),
    "404": OpenApiResponse(ErrorSerializer, _("No such object for you, or no such page.")),
    "429": OpenApiResponse(ErrorSerializer, _("Too many requests; try again later.")),
}


@cache
def _schema_class() -> type[Any]:
    # Imported here: DRF imports this module while its generic views load (the pagination
    # setting), and drf-spectacular's AutoSchema imports those views.
    from drf_spectacular.openapi import AutoSchema

    class ApiSchema(AutoSchema):
        """drf-spectacular's schema plus the error answers each operation can give (401, 403,
        429 everywhere; 404 for one object or a page past the end; 400 for input, a list's
        filters and page size), so a client, and the fuzzer, can rely on every answer being
        documented."""

        def _resolve_path_parameters(self, variables: Any) -> Any:
            # LOOKUP only widens what reaches the view (a JSON 404 for "1.5"); an id is still
            # the model's integer, described as with DRF's own pattern.
            self.path_regex = self.path_regex.replace(LOOKUP, "[^/.]+")
            return super()._resolve_path_parameters(variables)

        def _get_filter_parameters(self) -> Any:
            # django-filter reads an empty value (?status=) as "not filtered"; say so.
            parameters = super()._get_filter_parameters()
            for parameter in parameters:
                parameter["allowEmptyValue"] = True
            return parameters

        def _get_response_bodies(self, direction: Any = "response") -> Any:
            responses = super()._get_response_bodies(direction)
            codes = ["401", "403", "429"]
            is_list = self.method == "GET" and self._is_list_view()
            if "{" in self.path or is_list:
                codes.append("404")
            if self.method != "GET" or is_list:  # input; a list's page size and filters
                codes.append("400")
            for code in codes:
                if code not in responses:
                    responses[code] = self._get_response_for_code(ERRORS[code], code, None, direction)  # fmt: skip
            return responses

    return ApiSchema


def api_schema() -> Any:
    """The OpenAPI inspector of every API view (``schema = api_schema()``)."""
    return _schema_class()()
