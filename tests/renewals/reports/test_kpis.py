"""The KPI dashboard: figures on a hand-built data set against hand-computed values, scoping,
a fixed number of queries, and the rows behind each figure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from budgets.models import Budget, LedgerEntry
from renewals.inventory.models import Module, Subscription, SubscriptionTerm
from renewals.reports.selectors import kpis
from renewals.suggestions.models import Suggestion
from renewals.usage.models import MonthlyUsage, Seat
from tests.conftest import Cast
from tests.factories import PersonFactory, SubscriptionFactory

TODAY = dt.date(2026, 6, 15)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def _sub(dept: object, start: dt.date, end: dt.date, **extra: object) -> Subscription:
    return SubscriptionFactory.create(department=dept, term_start=start, term_end=end, **extra)


def _past(sub: Subscription, start: dt.date, end: dt.date, **extra: object) -> SubscriptionTerm:
    defaults: dict[str, object] = {"seats": sub.seats_purchased, "unit_price": sub.unit_price}
    defaults.update(extra)
    return SubscriptionTerm.objects.create(
        subscription=sub, term_start=start, term_end=end, currency="CNY", **defaults
    )


@pytest.fixture
def data(cast: Cast) -> dict[str, Subscription]:
    """The hand-built set; the expected figures are worked out in each test's comments."""
    a, b = cast.dept_a, cast.dept_b
    d = dt.date
    # On time (Feb 2026): renewed 8 days early, 10 -> 8 seats at 100 (saves 200 a year).
    s1 = _sub(a, d(2026, 3, 1), d(2027, 2, 28), seats_purchased=8, unit_price=Decimal(100))
    _past(s1, d(2025, 3, 1), d(2026, 2, 28), seats=10, renewed_at=_at(2026, 2, 20))
    # On time (Feb 2026): recorded at 23:30 on the last day in Shanghai (15:30 UTC).
    s6 = _sub(a, d(2026, 3, 1), d(2027, 2, 28), seats_purchased=3, unit_price=Decimal(50))
    _past(s6, d(2025, 3, 1), d(2026, 2, 28), renewed_at=_at(2026, 2, 28, 23, 30))
    # Late (Apr 2026): renewed 3 days after the end, at a higher price (no saving).
    s2 = _sub(a, d(2026, 4, 10), d(2027, 4, 9), seats_purchased=5, unit_price=Decimal(200))
    _past(s2, d(2025, 4, 10), d(2026, 4, 9), unit_price=Decimal(180), renewed_at=_at(2026, 4, 12))
    # Lapsed (May 2026): expired without a decision.
    s3 = _sub(a, d(2025, 6, 1), d(2026, 5, 31), status="expired")
    # Not due: a decision not to renew, and a cancelled subscription.
    _sub(a, d(2025, 5, 21), d(2026, 5, 20), status="expired", ends_at_term_end=True)
    _sub(a, d(2025, 5, 11), d(2026, 5, 10), status="cancelled")
    # Imported history without a renewal date: not counted.
    _past(s1, d(2024, 3, 1), d(2025, 2, 28))
    # Department B: one late renewal (Jan 2026), invisible to A's head.
    s7 = _sub(b, d(2026, 1, 20), d(2027, 1, 19))
    _past(s7, d(2025, 1, 20), d(2026, 1, 19), renewed_at=_at(2026, 1, 25))
    # Due within 7, 30 and 60 days of TODAY.
    s8 = _sub(a, d(2026, 5, 21), d(2026, 6, 20), billing_cycle="monthly", unit_price=Decimal(50))
    s9 = _sub(a, d(2025, 7, 11), d(2026, 7, 10))
    _sub(a, d(2025, 8, 11), d(2026, 8, 10))
    # Idle seats: cutoff TODAY - 60 days = 2026-04-16.
    person = PersonFactory.create(department=a)
    Seat.objects.create(subscription=s8, person=person, assigned_on=d(2025, 1, 1),
                        last_active_on=d(2026, 1, 1))  # idle: 50 a month  # fmt: skip
    Seat.objects.create(subscription=s8, person=PersonFactory.create(department=a),
                        assigned_on=d(2025, 1, 1), last_active_on=d(2026, 6, 1))  # fmt: skip
    Seat.objects.create(subscription=s8, person=PersonFactory.create(department=a),
                        assigned_on=d(2025, 1, 1), revoked_on=d(2026, 2, 1))  # fmt: skip
    Seat.objects.create(subscription=s3, person=person, assigned_on=d(2025, 1, 1))  # expired
    # Under-used module: 1-2 of 10 seats active in Mar, Apr, May; 20 x 10 a year = 200.
    module = Module.objects.create(
        subscription=s9, name="Gantt", unit_price=Decimal(20), licensed_seats=10
    )
    for month, active in ((3, 1), (4, 2), (5, 2)):
        MonthlyUsage.objects.create(
            subscription=s9, module=module, month=d(2026, month, 1), active_users=active
        )
    # Utilisation in May: (6 + 4) / (8 + 5) = 76.9 %.
    MonthlyUsage.objects.create(subscription=s1, month=d(2026, 5, 1), active_users=6)
    MonthlyUsage.objects.create(subscription=s2, month=d(2026, 5, 1), active_users=4)
    # Suggestions: 150 realised in March, 300 accepted and not yet realised; B's is not A's.
    common = {"author": cast.employee, "decided_by": cast.it_admin, "decided_at": timezone.now()}
    Suggestion.objects.create(subscription=s1, title="降级", status="realised",
                              estimated_saving=200, realised_saving=150,
                              realised_on=d(2026, 3, 1), **common)  # fmt: skip
    Suggestion.objects.create(subscription=s2, title="减席位", status="accepted",
                              estimated_saving=300, **common)  # fmt: skip
    Suggestion.objects.create(subscription=s7, title="B", status="accepted",
                              estimated_saving=999, **common)  # fmt: skip
    # Spend vs budget this year: 1,000 allocated to A.
    budget = Budget.objects.create(department=a, year=2026)
    LedgerEntry.objects.create(budget=budget, kind="allocation", amount=1000, memo="x")
    return {"s1": s1, "s2": s2, "s3": s3, "s7": s7, "s8": s8}


def test_figures_match_hand_computed_values(cast: Cast, data: dict[str, Subscription]) -> None:
    board = kpis.dashboard(user=cast.head_a, today=TODAY)
    assert board.due == {7: 1, 30: 2, 60: 3}
    by_month = {m.month: m for m in board.months if m.due}
    assert {(m.month, m.due, m.on_time, m.late, m.lapsed) for m in by_month.values()} == {
        (dt.date(2026, 2, 1), 2, 2, 0, 0),
        (dt.date(2026, 4, 1), 1, 0, 1, 0),
        (dt.date(2026, 5, 1), 1, 0, 0, 1),
    }
    assert by_month[dt.date(2026, 2, 1)].rate == Decimal("100.0")
    assert board.on_time.due == 4 and board.on_time.rate == Decimal("50.0")
    assert board.on_target is False and board.target == Decimal("99.5")
    assert board.lapsed == 1
    assert (board.idle_seats, board.idle_cost_month) == (1, Decimal("50.00"))
    assert (board.realised_renewals, board.realised_renewal_count) == (Decimal("200.00"), 1)
    assert board.realised_suggestions == Decimal(150)
    assert board.realised == Decimal("350.00")
    assert board.projected_modules == Decimal("200.00")
    assert board.projected_idle == Decimal("600.00")
    assert board.projected_suggestions == Decimal(300)
    assert board.projected == Decimal("1100.00")
    may = [p for p in board.usage if p.month == dt.date(2026, 5, 1)][0]
    assert (may.active, may.seats, may.percent) == (10, 13, Decimal("76.9"))
    assert len(board.months) == 13 and len(board.usage) == 12
    budget = {row.department.code: row for row in board.budgets}
    assert budget["a"].balance.allocated == Decimal(1000)


def test_scope_every_department_for_it_and_none_for_another_head(
    cast: Cast, data: dict[str, Subscription]
) -> None:
    everyone = kpis.dashboard(user=cast.it_admin, today=TODAY)
    # B's late January renewal joins: 2 of 5 on time.
    assert (everyone.on_time.due, everyone.on_time.rate) == (5, Decimal("40.0"))
    assert everyone.projected_suggestions == Decimal(1299)
    other = kpis.dashboard(user=cast.head_b, today=TODAY)
    assert (other.on_time.due, other.on_time.late, other.lapsed) == (1, 1, 0)
    assert other.due == {7: 0, 30: 0, 60: 0}
    assert other.idle_seats == 0 and other.realised_renewals == 0
    assert other.projected_suggestions == Decimal(999)
    assert [row.department.code for row in other.budgets] == ["b"]


def test_a_renewal_executed_through_the_app_counts_on_time(cast: Cast) -> None:
    """The execution service stamps renewed_at on the archived term (see test_requests for the
    whole loop); here the stamp's day decides on time vs late in TIME_ZONE."""
    sub = _sub(cast.dept_a, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    _past(sub, dt.date(2025, 1, 1), dt.date(2025, 12, 31), renewed_at=_at(2026, 1, 1, 0, 30))
    board = kpis.dashboard(user=cast.it_admin, today=TODAY)
    december = [m for m in board.months if m.month == dt.date(2025, 12, 1)][0]
    # 00:30 on 1 January in Shanghai is 31 December in UTC, but the day after the term: late.
    assert (december.due, december.late) == (1, 1)


def test_query_count_is_fixed(cast: Cast, data: dict[str, Subscription]) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            kpis.dashboard(user=cast.head_a, today=TODAY)
        return len(queries)

    count()  # the user's roles are read once and kept on the user
    small = count()
    for i in range(30):
        sub = _sub(cast.dept_a, dt.date(2026, 3, 1), dt.date(2027, 2, 28))
        _past(sub, dt.date(2025, 3, 1), dt.date(2026, 2, 28), renewed_at=_at(2026, 2, 1))
        MonthlyUsage.objects.create(subscription=sub, month=dt.date(2026, 5, 1), active_users=i)
    assert count() == small
    assert kpis.dashboard(user=cast.head_a, today=TODAY).on_time.due == 34


def test_home_page_shows_the_figures_with_links(
    cast: Cast, data: dict[str, Subscription], django_assert_max_num_queries: object
) -> None:
    client = Client()
    client.force_login(cast.head_a)
    board = kpis.dashboard(user=cast.head_a)
    with django_assert_max_num_queries(30):  # type: ignore[operator]
        html = client.get(reverse("home")).content.decode()
    rate = "—" if board.on_time.rate is None else f"{board.on_time.rate}%"
    assert f'data-testid="kpi-on-time-rate">{rate}<' in html
    for days in (7, 30, 60):
        assert f"?renews_within={days}" in html
    for figure in ("lapsed", "idle", "savings"):
        assert reverse("renewals:kpi-rows", args=[figure]) in html
    assert "<svg" in html and "<script" not in html.split("<body", 1)[1].split("</main>")[0]
    # An employee sees no company figures.
    client.force_login(cast.employee)
    assert "kpi-on-time-rate" not in client.get(reverse("home")).content.decode()


def test_rows_behind_the_figures(cast: Cast, data: dict[str, Subscription]) -> None:
    client = Client()
    client.force_login(cast.head_a)
    url = reverse("renewals:kpi-rows", args=["renewals"])
    html = client.get(url, {"month": "2026-02"}).content.decode()
    assert html.count('data-state="on_time"') == 2
    html = client.get(url, {"month": "2026-04"}).content.decode()
    assert html.count('data-state="late"') == 1
    html = client.get(url, {"month": "2026-05"}).content.decode()
    assert html.count('data-state="lapsed"') == 1
    # B's late renewal is not A's.
    assert 'data-state="late"' not in client.get(url, {"month": "2026-01"}).content.decode()
    lapsed = client.get(reverse("renewals:kpi-rows", args=["lapsed"])).content.decode()
    assert data["s3"].product in lapsed
    savings = client.get(reverse("renewals:kpi-rows", args=["savings"])).content.decode()
    assert data["s1"].product in savings and "¥200.00" in savings
    idle = client.get(reverse("renewals:kpi-rows", args=["idle"])).content.decode()
    assert data["s8"].product in idle
    assert client.get(url, {"month": "2026-13"}).status_code == 404
    assert client.get(url, {"month": "<script>"}).status_code == 404
    assert client.get(reverse("renewals:kpi-rows", args=["nope"])).status_code == 404


def test_rendered_figures_are_cached_per_scope_and_language(
    cast: Cast, data: dict[str, Subscription], settings: object
) -> None:
    from django.core.cache import cache

    settings.KPI_CACHE_SECONDS = 60  # type: ignore[attr-defined]
    cache.clear()
    client = Client()
    client.force_login(cast.head_a)
    first = client.get(reverse("home")).content.decode()
    assert "kpi-on-time-rate" in first
    with CaptureQueriesContext(connection) as queries:
        again = client.get(reverse("home")).content.decode()
    assert not [q for q in queries if "renewals_subscriptionterm" in q["sql"]]
    section = first.split('data-testid="kpi-due"', 1)[1].split("</main>", 1)[0]
    assert section in again
    # B's head gets B's figures, not A's cached ones; English is rendered on its own.
    client.force_login(cast.head_b)
    other = client.get(reverse("home")).content.decode()
    assert section not in other and 'data-testid="kpi-due"' in other
    cast.head_a.language = "en"
    cast.head_a.save()
    client.force_login(cast.head_a)
    english = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "On-time renewal rate" in english
    cache.clear()
