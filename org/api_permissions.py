"""The REST API's role check (the pages' one is ``org.permissions.role_required``): a DRF
permission class per set of roles. Apart from core.api, which imports no app of ours."""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from org.roles import has_role


def roles(*names: str) -> type[permissions.BasePermission]:
    """A permission class: signed in and holding one of ``names`` (403 otherwise)."""

    class HasRole(permissions.IsAuthenticated):
        def has_permission(self, request: Request, view: APIView) -> bool:
            return super().has_permission(request, view) and has_role(request.user, *names)

    HasRole.__name__ = f"HasRole({', '.join(names)})"
    return HasRole
