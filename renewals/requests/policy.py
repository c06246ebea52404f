"""Who may do what with a renewal request: read-only checks, no writes.

The services (renewals.requests.services) refuse what these deny; views, the API and templates
ask the same questions to show or hide an action.
"""

from __future__ import annotations

from org.models import Department, User
from org.roles import Role, has_role
from org.scoping import can_manage_department, headed_departments
from renewals.requests.models.requests import Assessment, Purpose, RenewalRequest


def may_change(user: User, request: RenewalRequest) -> bool:
    """Who may change, submit or cancel a request: its requester and IT admins (an approver
    decides on someone else's proposal, never edits or withdraws it)."""
    return request.requested_by_id == user.pk or has_role(user, Role.IT_ADMIN)


def is_own_new_purchase(user: User | object, pk: int) -> bool:
    """Whether request ``pk`` is a new purchase ``user`` asked for (whoever they are: an
    employee follows their own 新购申请 on its pages)."""
    return RenewalRequest.objects.filter(
        pk=pk, purpose=Purpose.NEW, requested_by_id=getattr(user, "pk", None)
    ).exists()


def may_execute(user: User) -> bool:
    return has_role(user, Role.IT_ADMIN, Role.FINANCE)


def holds_step_role(user: User, role: str, department: Department) -> bool:
    """Whether ``user`` may sign a step of ``role`` for ``department`` (heads: their own
    departments and those below; finance and IT admins: every department)."""
    if role == Role.DEPARTMENT_HEAD:
        return headed_departments(user).filter(pk=department.pk).exists()
    return has_role(user, role)


def perspectives_for(user: User, request: RenewalRequest) -> list[str]:
    """The sides a user may assess from: IT admins for IT, finance for finance, the department's
    heads and software admins (and IT admins) for project management."""
    result: list[str] = []
    if has_role(user, Role.IT_ADMIN):
        result.append(Assessment.Perspective.IT)
    if has_role(user, Role.FINANCE):
        result.append(Assessment.Perspective.FINANCE)
    if can_manage_department(user, request.department):
        result.append(Assessment.Perspective.PROJECT)
    return result
