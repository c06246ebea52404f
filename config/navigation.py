"""The main menu, by role. Each entry names the roles that may open its page; the page's view
enforces the same roles on the server (tests/test_permissions.py checks both agree)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from org.roles import (
    APPROVER_ROLES,
    BUDGET_ROLES,
    DIRECTORY_ROLES,
    IMPORT_ROLES,
    RATE_ROLES,
    SYSTEM_ROLES,
    Role,
    has_role,
)


@dataclass(frozen=True)
class NavItem:
    """One menu entry; ``roles`` None means every signed-in user."""

    key: str
    label: str | Promise
    url_name: str
    icon: str
    roles: frozenset[str] | None = None
    staff_only: bool = False
    # Findings and reports sit in a "Reports" drop-down and administrative pages in a "Manage"
    # one, so the bar (from 1400 px) stays on one line in English too.
    reports: bool = False
    manage: bool = False

    def visible_to(self, user: object) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        if self.staff_only:
            return bool(getattr(user, "is_staff", False))
        return self.roles is None or has_role(user, *self.roles)


NAVIGATION: list[NavItem] = [
    NavItem("home", _("Dashboard"), "home", "speedometer2"),
    NavItem(
        "subscriptions", _("Subscriptions"), "renewals:subscription-list", "boxes", DIRECTORY_ROLES
    ),
    NavItem("requests", _("Renewals"), "renewals:request-list", "arrow-repeat", DIRECTORY_ROLES),
    NavItem(
        "approvals", _("Approvals"), "renewals:approval-inbox", "check2-square", APPROVER_ROLES
    ),
    NavItem(
        "seat_requests",
        _("Seat requests"),
        "renewals:seat-request-inbox",
        "person-plus",
        frozenset({Role.IT_ADMIN, Role.SOFTWARE_ADMIN, Role.DEPARTMENT_HEAD}),
        manage=True,
    ),
    NavItem("calendar", _("Calendar"), "renewals:calendar", "calendar3", DIRECTORY_ROLES),
    NavItem(
        "contracts", _("Contracts"), "contracts:contract-list", "file-earmark-text", DIRECTORY_ROLES
    ),
    NavItem("budgets", _("Budgets"), "budgets:overview", "cash-coin", BUDGET_ROLES),
    NavItem(
        "findings",
        _("Findings"),
        "renewals:findings",
        "exclamation-triangle",
        DIRECTORY_ROLES,
        reports=True,
    ),  # fmt: skip
    NavItem(
        "briefings",
        _("Usage briefings"),
        "renewals:briefing-list",
        "file-earmark-bar-graph",
        DIRECTORY_ROLES,
        reports=True,
    ),  # fmt: skip
    NavItem(
        "risks",
        _("Risk register"),
        "renewals:risk-list",
        "shield-exclamation",
        DIRECTORY_ROLES,
        reports=True,
    ),  # fmt: skip
    NavItem(
        "cleanup",
        _("Account clean-up"),
        "renewals:cleanup-list",
        "person-x",
        DIRECTORY_ROLES,
        reports=True,
    ),  # fmt: skip
    NavItem(
        "suggestions",
        _("Savings suggestions"),
        "renewals:suggestion-list",
        "lightbulb",
        reports=True,
    ),  # fmt: skip
    NavItem(
        "departments",
        _("Departments"),
        "org:department-list",
        "diagram-3",
        DIRECTORY_ROLES,
        manage=True,
    ),  # fmt: skip
    NavItem("people", _("People"), "org:person-list", "people", DIRECTORY_ROLES, manage=True),
    NavItem("vendors", _("Vendors"), "renewals:vendor-list", "shop", DIRECTORY_ROLES, manage=True),
    NavItem("imports", _("Imports"), "renewals:import-list", "upload", IMPORT_ROLES, manage=True),
    NavItem(
        "channels",
        _("Chat channels"),
        "renewals:channel-list",
        "chat-dots",
        frozenset({Role.IT_ADMIN}),
        manage=True,
    ),
    NavItem(
        "tiers",
        _("Approval tiers"),
        "renewals:tier-list",
        "signpost-split",
        DIRECTORY_ROLES,
        manage=True,
    ),  # fmt: skip
    NavItem(
        "rates",
        _("Exchange rates"),
        "renewals:rate-list",
        "currency-exchange",
        RATE_ROLES,
        manage=True,
    ),  # fmt: skip
    NavItem(
        "directory",
        _("Directory sources"),
        "integrations:source-list",
        "diagram-3",
        SYSTEM_ROLES,
        manage=True,
    ),
    NavItem(
        "connectors",
        _("Usage connectors"),
        "integrations:connector-list",
        "plug",
        SYSTEM_ROLES,
        manage=True,
    ),
    NavItem(
        "chat",
        _("Chat apps"),
        "integrations:chat-app-list",
        "chat-square-text",
        SYSTEM_ROLES,
        manage=True,
    ),
    NavItem("system", _("System status"), "system-status", "activity", SYSTEM_ROLES, manage=True),
    NavItem("audit", _("Audit trail"), "audit-list", "journal-text", SYSTEM_ROLES, manage=True),
    NavItem("admin", _("Administration"), "admin:index", "gear", staff_only=True, manage=True),
]


def items_for(user: object) -> list[NavItem]:
    return [item for item in NAVIGATION if item.visible_to(user)]
