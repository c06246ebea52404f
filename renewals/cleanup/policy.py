"""Who runs clean-up campaigns and who decides an account: read-only predicates shared by the
views, the services and the pages that offer a revoke (subscription page, bulk actions)."""

from __future__ import annotations

from org.models import Department, User
from org.roles import Role, has_role


def may_run_campaigns(user: User) -> bool:
    """Finance and IT admins open and close campaigns."""
    return has_role(user, Role.FINANCE, Role.IT_ADMIN)


def may_decide(user: User, department: Department) -> bool:
    """IT admins decide for every department; software admins for the departments they
    administer (and their sub-departments). Department heads read their checklist only: the
    software admin does the clean-up, the head sees it done."""
    if has_role(user, Role.IT_ADMIN):
        return True
    if not has_role(user, Role.SOFTWARE_ADMIN):
        return False
    # The software-admin half of org.scoping's subtree (heads left out on purpose).
    from org.scoping import _assigned_subtree

    return _assigned_subtree(user, as_head=False, as_admin=True).filter(pk=department.pk).exists()
