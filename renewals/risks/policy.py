"""Who may change, review and own a risk: read-only predicates shared by the views, the forms
and the services."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from org.models import Department, User
from org.roles import Role, has_role
from org.scoping import headed_departments
from renewals.risks.models import Risk

# The roles that add risks and change them (heads: for the departments they head).
CHANGERS = (Role.IT_ADMIN, Role.FINANCE, Role.DEPARTMENT_HEAD)


def can_change(user: User, risk: Risk) -> bool:
    """IT admins and finance change every risk; heads the risks of the departments they head."""
    if has_role(user, Role.IT_ADMIN, Role.FINANCE):
        return True
    if risk.department_id is None or not has_role(user, Role.DEPARTMENT_HEAD):
        return False
    return headed_departments(user).filter(pk=risk.department_id).exists()


def can_review(user: User, risk: Risk) -> bool:
    """The owner reviews their risk; whoever may change it may review it too."""
    if risk.status == Risk.Status.CLOSED:
        return False
    return (risk.owner_id is not None and risk.owner_id == user.pk) or can_change(user, risk)


def owner_choices(department: Department | None) -> Any:
    """Who may own a risk: active IT admins and finance, and the heads and software admins of
    the risk's department."""
    query = Q(groups__name__in=[Role.IT_ADMIN, Role.FINANCE])
    if department is not None:
        query |= Q(headed_departments=department) | Q(administered_departments=department)
    return User.objects.filter(query, is_active=True).distinct().order_by("username")
