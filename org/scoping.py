"""Which departments a user may see or act for. Every view, export and API call asks here.

IT admins, finance and auditors see every department; department heads and software admins see
the departments they are assigned to and all their sub-departments. Acting (changing inventory
data) is narrower: IT admins everywhere, heads and software admins in their own subtree, auditors
and finance nowhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from org.models import Department, Person
from org.roles import MANAGE_ALL_ROLES, SEE_ALL_ROLES, Role, roles_of

if TYPE_CHECKING:
    from org.models import User

# The departments a user is assigned to (as head and/or software admin), plus every department
# below them, in one recursive query.
_SUBTREE_SQL = """
WITH RECURSIVE subtree(id) AS (
    SELECT department_id FROM org_department_heads WHERE user_id = %s AND %s
    UNION
    SELECT department_id FROM org_department_software_admins WHERE user_id = %s AND %s
    UNION
    SELECT d.id FROM org_department d JOIN subtree s ON d.parent_id = s.id
)
SELECT id FROM subtree
"""


def _assigned_subtree(user: User, *, as_head: bool, as_admin: bool) -> QuerySet[Department]:
    return Department.objects.filter(
        pk__in=RawSQL(_SUBTREE_SQL, [user.pk, as_head, user.pk, as_admin])
    )


def _departments_for(user: User | object, every: frozenset[str]) -> QuerySet[Department]:
    """Every department for a holder of one of the ``every`` roles; otherwise the subtrees of
    the departments the user heads or is software admin of (as far as they hold those roles)."""
    roles = roles_of(user)
    if roles & every:
        return Department.objects.all()
    as_head = Role.DEPARTMENT_HEAD in roles
    as_admin = Role.SOFTWARE_ADMIN in roles
    if not (as_head or as_admin):
        return Department.objects.none()
    return _assigned_subtree(user, as_head=as_head, as_admin=as_admin)  # type: ignore[arg-type]


def visible_departments(user: User | object) -> QuerySet[Department]:
    """Departments whose data the user may read."""
    return _departments_for(user, SEE_ALL_ROLES)


def managed_departments(user: User | object) -> QuerySet[Department]:
    """Departments whose inventory data (seats, usage, people) the user may change."""
    return _departments_for(user, MANAGE_ALL_ROLES)


def headed_departments(user: User | object) -> QuerySet[Department]:
    """Departments the user heads (with sub-departments): where they approve as department head."""
    if Role.DEPARTMENT_HEAD not in roles_of(user):
        return Department.objects.none()
    return _assigned_subtree(user, as_head=True, as_admin=False)  # type: ignore[arg-type]


def administered_departments(user: User | object) -> QuerySet[Department]:
    """Departments the user is software admin of (with sub-departments): whose renewals they
    prepare (the home page lists the ones due)."""
    if Role.SOFTWARE_ADMIN not in roles_of(user):
        return Department.objects.none()
    return _assigned_subtree(user, as_head=False, as_admin=True)  # type: ignore[arg-type]


def requestable_departments(user: User | object) -> QuerySet[Department]:
    """Where the user may ask for a new tool (新购申请): their own department as an active person
    of the directory, and every department they manage."""
    pk = getattr(user, "pk", None)
    if pk is None:
        return Department.objects.none()
    own = Person.objects.filter(user_id=pk, status=Person.Status.ACTIVE).values("department_id")
    return Department.objects.filter(Q(pk__in=own) | Q(pk__in=managed_departments(user)))


def can_view_department(user: User | object, department: Department) -> bool:
    return visible_departments(user).filter(pk=department.pk).exists()


def can_manage_department(user: User | object, department: Department) -> bool:
    return managed_departments(user).filter(pk=department.pk).exists()


def get_department_for(user: User | object, pk: int) -> Department:
    """The department ``pk`` if the user may see it; 404 otherwise (never reveals it exists)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(visible_departments(user), pk=pk)


def require_any_role(user: User | object, *roles: str) -> None:
    """Raise PermissionDenied unless the user holds one of ``roles``."""
    if not roles_of(user) & set(roles):
        raise PermissionDenied
