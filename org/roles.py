"""Roles are Django groups with fixed names; this module is the only place that spells them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from org.models import User


class Role(models.TextChoices):
    IT_ADMIN = "it_admin", _("IT admin")
    FINANCE = "finance", _("Finance")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    SOFTWARE_ADMIN = "software_admin", _("Department software admin")
    AUDITOR = "auditor", _("Auditor")
    LEGAL = "legal", _("Legal")


# Roles whose holders see every department (the others see only the departments they are
# assigned to, and those departments' sub-departments). Legal reads every contract and request
# it may be asked to review (never budgets or system pages).
SEE_ALL_ROLES = frozenset({Role.IT_ADMIN, Role.FINANCE, Role.AUDITOR, Role.LEGAL})
# Roles whose holders may change inventory data of every department.
MANAGE_ALL_ROLES = frozenset({Role.IT_ADMIN})
# Who may open which pages: the main menu (config/navigation.py) and the views use the same sets.
DIRECTORY_ROLES = frozenset(
    {
        Role.IT_ADMIN,
        Role.FINANCE,
        Role.AUDITOR,
        Role.DEPARTMENT_HEAD,
        Role.SOFTWARE_ADMIN,
        Role.LEGAL,
    }
)
SYSTEM_ROLES = frozenset({Role.IT_ADMIN, Role.AUDITOR})
IMPORT_ROLES = frozenset({Role.IT_ADMIN, Role.SOFTWARE_ADMIN})
APPROVER_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.FINANCE, Role.IT_ADMIN, Role.LEGAL})
BUDGET_ROLES = frozenset({Role.FINANCE, Role.AUDITOR, Role.IT_ADMIN, Role.DEPARTMENT_HEAD})
# The exchange-rates table: finance and IT admins keep it, auditors read it.
RATE_ROLES = frozenset({Role.FINANCE, Role.IT_ADMIN, Role.AUDITOR})


def roles_of(user: User | Any) -> frozenset[str]:
    """The role names a user holds, read once per user object (one query, then cached)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_role_cache", None)
    if cached is None:
        if getattr(user, "is_superuser", False):
            cached = frozenset(Role.values)
        else:
            names = user.groups.values_list("name", flat=True)
            cached = frozenset(name for name in names if name in Role.values)
        setattr(user, "_role_cache", cached)  # noqa: B010 - a per-object cache, not a model field
    return cached


def has_role(user: User | Any, *roles: str) -> bool:
    """True when the user holds at least one of ``roles``."""
    return bool(roles_of(user) & set(roles))
