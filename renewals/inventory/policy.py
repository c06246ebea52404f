"""Who may own a subscription of a department: the bulk "change owner" action's choices and its
per-row check read the same rule here."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from org.models import Department, Person, User
from org.scoping import managed_departments


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
    or head or administer its software from one of them or from a department above it."""
    above = _with_ancestors(department_ids)
    return User.objects.filter(is_active=True).filter(
        Q(
            person__department__in=department_ids,
            person__status=Person.Status.ACTIVE,
        )
        | Q(headed_departments__in=above)
        | Q(administered_departments__in=above)
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
