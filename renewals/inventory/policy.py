"""Who may own a subscription of a department (the bulk "change owner" action's choices and its
per-row check read the same rule here), who may be told of its alerts, and which of a
subscription's fields a user may change."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from org.models import Department, Person, User
from org.roles import SEE_ALL_ROLES, Role, roles_of
from org.scoping import managed_departments

# Every field of a subscription a person edits (IT admins: all of them, on any department's).
FULL_FIELDS = (
    "ref", "vendor", "product", "edition", "category", "department", "owner",
    "seats_purchased", "unit_price", "currency", "billing_cycle", "term_start", "term_end",
    "auto_renew", "notice_period_days", "alert_thresholds", "alert_recipients", "tags", "notes",
)  # fmt: skip
# What the department's heads and software admins keep themselves: no prices, seats or term.
DEPARTMENT_FIELDS = ("owner", "category", "alert_thresholds", "alert_recipients", "tags", "notes")


def _with_ancestors(department_ids: set[int]) -> set[int]:
    """The departments and every department above them (the tree is small: one query)."""
    parents = dict(Department.objects.values_list("pk", "parent_id"))
    found = set(department_ids)
    for pk in department_ids:
        parent = parents.get(pk)
        while parent is not None and parent not in found:
            found.add(parent)
            parent = parents.get(parent)
    return found


def _candidates(department_ids: set[int]) -> QuerySet[User]:
    """Active users who work in one of the departments (an active person of it with an account),
    or head or administer its software from one of them or from a department above it, and the
    IT admins (who own the company-wide tools). The import checks the same in SQL
    (renewals.inventory.rules.owner_sql)."""
    above = _with_ancestors(department_ids)
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(
                person__department__in=department_ids,
                person__status=Person.Status.ACTIVE,
            )
            | Q(headed_departments__in=above)
            | Q(administered_departments__in=above)
            | Q(groups__name=Role.IT_ADMIN)
        )
        .distinct()
    )


def owner_candidate(user: User, department: Department) -> bool:
    """Whether ``user`` may own a subscription of ``department``."""
    return _candidates({department.pk}).filter(pk=user.pk).exists()


def owner_choices(*, actor: Any) -> QuerySet[User]:
    """The people the actor may make owner of a subscription in one of the departments whose
    data they may change (each row is checked again for its own department)."""
    managed = set(managed_departments(actor).values_list("pk", flat=True))
    if not managed:
        return User.objects.none()
    pks = _candidates(managed).values("pk")
    return User.objects.filter(pk__in=pks).order_by("display_name", "username")


def recipient_candidates(department: Department) -> QuerySet[User]:
    """Who may be told of a subscription's alerts: its possible owners and the active users of
    the roles that see every department (IT admins, finance, auditors)."""
    everywhere = User.objects.filter(is_active=True).filter(
        Q(groups__name__in=[str(r) for r in SEE_ALL_ROLES]) | Q(is_superuser=True)
    )
    return User.objects.filter(
        Q(pk__in=_candidates({department.pk}).values("pk")) | Q(pk__in=everywhere.values("pk"))
    ).order_by("display_name", "username")


def may_create_subscription(user: Any) -> bool:
    return Role.IT_ADMIN in roles_of(user)


def editable_fields(user: Any, subscription: Any) -> tuple[str, ...]:
    """The fields of ``subscription`` the user may change: every one for IT admins, the
    department's own for its heads and software admins, none for anyone else (and none of an
    archived subscription)."""
    if subscription.archived_at is not None:
        return ()
    if Role.IT_ADMIN in roles_of(user):
        return FULL_FIELDS
    if managed_departments(user).filter(pk=subscription.department_id).exists():
        return DEPARTMENT_FIELDS
    return ()
