"""A hand-built inventory with overlapping tools, shared by the overlap tests (risks, findings,
KPI dashboard). Every figure below is worked out by hand in the comments.

Project management (category "project"), live:
- Jira in A:      10 seats × 600 CNY a year = 6,000; 8 active users (its latest usage report)
- jira in B:       5 seats × 600           = 3,000; 4 active users (same product, lower case)
- Asana in B:      6 seats × 1,000         = 6,000; 5 active users
- ClickUp in B:    3 seats × 10 GBP: no GBP rate is recorded, so no cost; 3 active users
- Teambition in A-QA: 4 seats × 50 USD × 7.2 = 1,440; no usage report, 2 seats assigned
Not counted: Monday in A (expired), Zoho in B (archived).

The category's tools, most active first: Jira (8 + 4 = 12), Asana (5), ClickUp (3, unpriced),
Teambition (2). Asana's and Teambition's 7 users move onto Jira A's seat at 600:
    saving = 6,000 + 1,440 − 7 × 600 = 3,240.00
Duplicate purchases: Jira (A 8 active, B 4): 3,000 − 4 × 600 = 600.00;
Figma (design; A 3 seats × 500, 3 active; B 2 × 500, 1 active): 1,000 − 1 × 500 = 500.00.
Design has one product only: no category overlap. Total: 3,240 + 600 + 500 = 4,340.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from org.models import Department, User
from org.roles import Role
from renewals.inventory.models import CurrencyRate, Subscription, Vendor
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast, make_user
from tests.factories import DepartmentFactory, SeatFactory, SubscriptionFactory, VendorFactory

TODAY = dt.date(2026, 11, 26)
LAST_MONTH = dt.date(2026, 10, 1)
TOTAL = Decimal("4340.00")


def tool(
    *,
    vendor: Vendor,
    product: str,
    department: Department,
    seats: int,
    price: str,
    category: str = "project",
    currency: str = "CNY",
    active: int | None = None,
    **extra: object,
) -> Subscription:
    sub = SubscriptionFactory.create(
        vendor=vendor, product=product, department=department, seats_purchased=seats,
        unit_price=Decimal(price), currency=currency, category=category,
        term_start=dt.date(2026, 3, 1), term_end=dt.date(2027, 2, 28), **extra,
    )  # fmt: skip
    if active is not None:
        MonthlyUsage.objects.create(subscription=sub, month=LAST_MONTH, active_users=active)
    return sub


def build(cast: Cast) -> SimpleNamespace:
    # The cast's own subscription is in no category: it overlaps with nothing.
    CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("7.2"), valid_from=dt.date(2026, 1, 1)
    )
    atlassian = VendorFactory.create(name="Atlassian")
    figma = VendorFactory.create(name="Figma")
    a, qa, b = cast.dept_a, cast.dept_a_child, cast.dept_b
    jira_a = tool(vendor=atlassian, product="Jira", department=a, seats=10, price="600", active=8)
    jira_b = tool(vendor=atlassian, product="jira", department=b, seats=5, price="600", active=4)
    asana = tool(
        vendor=VendorFactory.create(name="Asana"), product="Asana", department=b, seats=6,
        price="1000", active=5, status="renewing",
    )  # fmt: skip
    clickup = tool(
        vendor=VendorFactory.create(name="ClickUp"), product="ClickUp", department=b, seats=3,
        price="10", currency="GBP", active=3,
    )  # fmt: skip
    teambition = tool(
        vendor=VendorFactory.create(name="阿里巴巴"), product="Teambition", department=qa,
        seats=4, price="50", currency="USD",
    )  # fmt: skip
    for _ in range(2):
        SeatFactory.create(subscription=teambition)
    tool(
        vendor=VendorFactory.create(name="monday.com"), product="Monday", department=a, seats=9,
        price="2000", active=9, status="expired",
    )  # fmt: skip
    tool(
        vendor=VendorFactory.create(name="Zoho"), product="Zoho Projects", department=b, seats=9,
        price="2000", active=9, archived_at=timezone.now(),
    )  # fmt: skip
    figma_a = tool(
        vendor=figma, product="Figma", department=a, seats=3, price="500", category="design",
        active=3,
    )  # fmt: skip
    figma_b = tool(
        vendor=figma, product="Figma", department=b, seats=2, price="500", category="design",
        active=1,
    )  # fmt: skip
    dept_c = DepartmentFactory.create(code="c", name="财务部 C")
    head_c = make_user("head_c", Role.DEPARTMENT_HEAD)
    dept_c.heads.add(head_c)
    return SimpleNamespace(
        jira_a=jira_a, jira_b=jira_b, asana=asana, clickup=clickup, teambition=teambition,
        figma_a=figma_a, figma_b=figma_b, dept_c=dept_c, head_c=head_c,
    )  # fmt: skip


def more_tools(cast: Cast, count: int) -> None:
    """``count`` more project tools in B (for the query counts), each with usage and a seat."""
    for i in range(count):
        sub = tool(
            vendor=VendorFactory.create(name=f"Vendor {i}"), product=f"Tool {i}",
            department=cast.dept_b, seats=2, price="100", active=1,
        )  # fmt: skip
        SeatFactory.create(subscription=sub)


def user_of(data: SimpleNamespace, cast: Cast, name: str) -> User:
    return data.head_c if name == "head_c" else getattr(cast, name)
