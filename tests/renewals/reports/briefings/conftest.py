"""Monthly usage briefings' tests share a hand-built data set (``build``, the ``data`` fixture)
and the helpers that render, read and fetch a briefing."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from pypdf import PdfReader

from budgets.models import Budget, LedgerEntry
from org.models import User
from renewals.inventory.models import Subscription
from renewals.reports.models import Briefing
from renewals.reports.services import briefings as service
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast
from tests.factories import (
    ModuleFactory,
    PersonFactory,
    SeatFactory,
    SubscriptionFactory,
    VendorFactory,
)

TODAY = dt.date(2026, 11, 3)
MONTH = dt.date(2026, 10, 1)
NOON = dt.datetime(2026, 11, 3, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai
HOSTILE_IMG = "<img src=http://169.254.169.254>"
HOSTILE_LINK = "<link rel=attachment href=file:///etc/passwd>"
HOSTILE_CSS = "@import url(http://169.254.169.254/x.css);"


def build(cast: Cast) -> SimpleNamespace:
    """Department A (研发中心 A) and its sub-department with two running subscriptions whose
    figures are worked out by hand in the comments."""
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(status="cancelled")
    # Jira: 10 seats × 1,200 + module 10 × 120 = 13,200 a year, 1,100 a month.
    jira = SubscriptionFactory.create(
        ref="JIRA", department=cast.dept_a, vendor=VendorFactory.create(name="Atlassian"),
        product="Jira", seats_purchased=10, unit_price=Decimal("1200.00"),
        term_start=dt.date(2026, 7, 1), term_end=dt.date(2027, 6, 30),
    )  # fmt: skip
    roadmaps = ModuleFactory.create(
        subscription=jira, name="Roadmaps", unit_price=Decimal("120.00"), licensed_seats=10
    )
    # WPS in the sub-department: 20 seats × 300 = 6,000 a year, 500 a month; renews in 30 days.
    wps = SubscriptionFactory.create(
        ref="WPS", department=cast.dept_a_child, vendor=VendorFactory.create(name="金山办公"),
        product="WPS 365", seats_purchased=20, unit_price=Decimal("300.00"),
        term_start=dt.date(2025, 12, 4), term_end=dt.date(2026, 12, 3),
    )  # fmt: skip
    active = PersonFactory.create(department=cast.dept_a, name="在用员工")
    idle = PersonFactory.create(department=cast.dept_a, name="闲置员工")
    leaver = PersonFactory.create(
        department=cast.dept_a, name="离职员工", status="left", left_on=dt.date(2026, 9, 30)
    )
    SeatFactory.create(subscription=jira, person=active, last_active_on=dt.date(2026, 10, 20))
    SeatFactory.create(subscription=jira, person=idle, last_active_on=dt.date(2026, 6, 1))
    SeatFactory.create(subscription=jira, person=leaver, last_active_on=dt.date(2026, 9, 25))
    for month, users, done in [(8, 4, 30), (9, 6, 35), (10, 5, 40)]:
        MonthlyUsage.objects.create(
            subscription=jira, month=dt.date(2026, month, 1), active_users=users,
            tasks_completed=done,
        )  # fmt: skip
        # 2 of 10 module seats in each of the last 3 months: under 30 %, drop it (1,200 a year).
        MonthlyUsage.objects.create(
            subscription=jira, module=roadmaps, month=dt.date(2026, month, 1), active_users=2
        )
    MonthlyUsage.objects.create(subscription=wps, month=MONTH, active_users=15)
    budget = Budget.objects.create(department=cast.dept_a, year=2026)
    LedgerEntry.objects.create(budget=budget, kind="allocation", amount=50000, memo="年度预算")
    LedgerEntry.objects.create(budget=budget, kind="actual", amount=18000, memo="已付")
    # Department B's subscription must not appear in A's briefing.
    SubscriptionFactory.create(ref="B-ONLY", department=cast.dept_b, product="B 专用")
    return SimpleNamespace(jira=jira, wps=wps, roadmaps=roadmaps, leaver=leaver)


@pytest.fixture
def data(cast: Cast) -> SimpleNamespace:
    return build(cast)


def pdf_text(briefing: Briefing) -> str:
    with default_storage.open(briefing.stored_name, "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def render(cast: Cast, language: str) -> Briefing:
    briefing = service.briefing_request(
        user=cast.head_a, department=cast.dept_a, month=MONTH, language=language, enqueue=False
    )
    rendered = service.briefing_render(briefing_id=briefing.pk, today=TODAY)
    assert rendered is not None
    return rendered


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
