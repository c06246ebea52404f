"""What every endpoint of the renewals API shares: who may read, and the signed-in user."""

from __future__ import annotations

from rest_framework.request import Request

from org.api_permissions import roles
from org.models import User
from org.roles import DIRECTORY_ROLES

READ = roles(*DIRECTORY_ROLES)


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # the permission classes let only signed-in users through
    return user
