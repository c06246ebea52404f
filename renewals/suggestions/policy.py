"""Who may decide on a savings suggestion: a read-only predicate shared by the views and the
services."""

from __future__ import annotations

from org.models import User
from org.roles import Role, has_role


def may_decide(user: User) -> bool:
    return has_role(user, Role.IT_ADMIN)
