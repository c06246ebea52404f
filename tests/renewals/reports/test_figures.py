"""Seat, usage and cost figures: idle seats, departed holders, utilisation, yearly cost in CNY,
cost per active user, module under-use with its saving, recommendations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from renewals.inventory import selectors as subs
from renewals.inventory.models import CurrencyRate, Module, Subscription
from renewals.usage import selectors as usage
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast
from tests.factories import ModuleFactory, PersonFactory, SeatFactory, SubscriptionFactory
from tests.renewals.conftest import Inventory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 26)


def figures(sub: Subscription) -> Any:
    """The subscription with its annotated figures (typed Any: they are query annotations)."""
    return subs.with_figures(Subscription.objects.filter(pk=sub.pk), today=TODAY).get()


def listed(user: object, pk: int) -> Any:
    return subs.subscription_list(user=user).get(pk=pk)


def test_idle_means_no_activity_for_60_days(cast: Cast, inventory: Inventory) -> None:
    jira = inventory.jira
    SeatFactory.create(subscription=jira, last_active_on=TODAY - dt.timedelta(days=60))  # not yet
    SeatFactory.create(subscription=jira, last_active_on=TODAY - dt.timedelta(days=61))  # idle
    SeatFactory.create(
        subscription=jira, last_active_on=None, assigned_on=TODAY - dt.timedelta(days=90)
    )  # never used
    SeatFactory.create(
        subscription=jira, last_active_on=None, assigned_on=TODAY - dt.timedelta(days=5)
    )  # new
    SeatFactory.create(
        subscription=jira, last_active_on=dt.date(2026, 1, 1), revoked_on=dt.date(2026, 2, 1)
    )  # revoked: not counted at all
    f = figures(jira)
    assert (f.used_seats, f.idle_seats, f.free_seats) == (4, 2, 6)
    flags = {s.pk: getattr(s, "is_idle") for s in usage.seats_of(jira, today=TODAY)}  # noqa: B009
    assert sorted(flags.values()) == [False, False, True, True]


def test_a_subscriptions_seats_list_departed_then_idle_then_by_name(
    cast: Cast, inventory: Inventory
) -> None:
    jira, recent = inventory.jira, TODAY - dt.timedelta(days=3)

    def seat(name: str, *, left: bool = False, active: dt.date | None = recent) -> Any:
        person = PersonFactory.create(
            department=cast.dept_a, name=name, status="left" if left else "active",
            left_on=dt.date(2026, 10, 1) if left else None,
        )  # fmt: skip
        return SeatFactory.create(subscription=jira, person=person, last_active_on=active)

    busy_b, busy_a = seat("Bo"), seat("Ada")
    idle_c = seat("Cy", active=TODAY - dt.timedelta(days=61))
    never = seat("Al", active=None)  # assigned 2026-01-01, never active: idle
    left_idle, left_z = seat("Ed", left=True, active=None), seat("Zoe", left=True)
    SeatFactory.create(subscription=jira, revoked_on=dt.date(2026, 2, 1))  # not listed
    wiki = ModuleFactory.create(subscription=jira, name="Wiki")
    busy_a.modules.add(wiki, inventory.gantt)
    rows: list[Any] = usage.seats_of(jira, today=TODAY)
    assert [s.pk for s in rows] == [
        left_idle.pk, left_z.pk, never.pk, idle_c.pk, busy_a.pk, busy_b.pk,
    ]  # fmt: skip
    assert [(s.is_departed, s.is_idle) for s in rows] == [
        (True, True), (True, False), (False, True), (False, True), (False, False), (False, False),
    ]  # fmt: skip
    assert [s.module_names for s in rows][4:] == [["Gantt", "Wiki"], []]


def test_idle_threshold_is_a_setting(cast: Cast, inventory: Inventory, settings: object) -> None:
    settings.IDLE_AFTER_DAYS = 10  # type: ignore[attr-defined]
    SeatFactory.create(subscription=inventory.jira, last_active_on=TODAY - dt.timedelta(days=11))
    assert figures(inventory.jira).idle_seats == 1


def test_departed_holders_are_a_security_finding(cast: Cast, inventory: Inventory) -> None:
    leaver = PersonFactory.create(
        department=cast.dept_a, status="left", left_on=dt.date(2026, 10, 1)
    )
    SeatFactory.create(subscription=inventory.jira, person=leaver)
    SeatFactory.create(
        subscription=inventory.jira, person=PersonFactory.create(department=cast.dept_a)
    )
    assert figures(inventory.jira).departed_holders == 1
    assert [s.person for s in usage.departed_holders(user=cast.head_a)] == [leaver]
    assert list(usage.departed_holders(user=cast.head_b)) == []
    kinds = [r.kind for r in usage.recommendations(figures(inventory.jira), today=TODAY)]
    assert "revoke_departed" in kinds


def test_yearly_cost_in_cny_counts_modules_cycle_and_rate(cast: Cast, inventory: Inventory) -> None:
    # 10 seats x 8.00 USD + Gantt 2.00 x 10 seats, per month -> x12 -> x7.2 CNY
    assert figures(inventory.jira).annual_cost == Decimal("8640.00")


@pytest.mark.parametrize(
    ("cycle", "start", "end", "expected"),
    [
        ("annual", dt.date(2026, 1, 1), dt.date(2027, 1, 1), Decimal("10000.00")),
        ("quarterly", dt.date(2026, 1, 1), dt.date(2027, 1, 1), Decimal("40000.00")),
        ("monthly", dt.date(2026, 1, 1), dt.date(2027, 1, 1), Decimal("120000.00")),
        ("multi_year", dt.date(2026, 1, 1), dt.date(2028, 12, 31), Decimal("3333.33")),  # 1095 days
        ("perpetual", dt.date(2026, 1, 1), dt.date(2027, 1, 1), Decimal("10000.00")),
    ],
)
def test_billing_cycles(
    cast: Cast, cycle: str, start: dt.date, end: dt.date, expected: Decimal
) -> None:
    sub = SubscriptionFactory.create(
        department=cast.dept_a, seats_purchased=10, unit_price=Decimal("1000.00"),
        billing_cycle=cycle, term_start=start, term_end=end,
    )  # fmt: skip
    assert figures(sub).annual_cost == expected


def test_the_rate_in_force_on_the_day_is_used(cast: Cast, inventory: Inventory) -> None:
    CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("7.5"), valid_from=dt.date(2027, 1, 1)
    )
    assert figures(inventory.jira).annual_cost == Decimal(
        "8640.00"
    )  # the 2027 rate is not yet valid
    eur = SubscriptionFactory.create(department=cast.dept_a, currency="EUR")
    assert figures(eur).annual_cost is None  # no EUR rate: unknown, not guessed


def test_utilisation_and_cost_per_active_user_use_the_latest_month(
    cast: Cast, inventory: Inventory
) -> None:
    MonthlyUsage.objects.create(
        subscription=inventory.jira, month=dt.date(2026, 9, 1), active_users=2
    )
    MonthlyUsage.objects.create(
        subscription=inventory.jira, month=dt.date(2026, 10, 1), active_users=4
    )
    f = figures(inventory.jira)
    assert (f.active_users, f.usage_month, f.utilisation) == (
        4,
        dt.date(2026, 10, 1),
        Decimal("40.0"),
    )
    assert f.monthly_cost_per_active_user == Decimal("180.00")  # 8640 / 12 / 4


def _module_usage(module: Module, values: list[int], months: list[dt.date]) -> None:
    for month, active in zip(months, values, strict=True):
        MonthlyUsage.objects.create(
            subscription=module.subscription, module=module, month=month, active_users=active
        )


AUG, SEP, OCT = dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 1)


def test_a_module_under_30_percent_for_3_months_is_flagged_with_its_saving(
    cast: Cast, inventory: Inventory
) -> None:
    _module_usage(inventory.gantt, [2, 1, 2], [AUG, SEP, OCT])  # of 10 seats
    [found] = usage.underused_modules(Subscription.objects.all(), today=TODAY)
    assert (found.module, found.seats, found.max_active) == ("Gantt", 10, 2)
    assert found.yearly_cost == Decimal("1728.00")  # 2.00 USD x 10 x 12 x 7.2
    assert found.right_size_saving == Decimal("1382.40")  # keep 2 of 10 seats
    # The subscription page's form (SQL compiled once a day, ids as a parameter) agrees.
    assert usage.underused_modules_of([inventory.jira.pk], today=TODAY) == [found]
    assert usage.underused_modules_of([inventory.jira.pk + 1000], today=TODAY) == []
    [rec] = [
        r
        for r in usage.recommendations(figures(inventory.jira), today=TODAY)
        if r.kind == "drop_module"
    ]
    assert rec.yearly_saving == Decimal("1728.00")


@pytest.mark.parametrize(
    ("values", "months"),
    [
        ([2, 3, 2], [AUG, SEP, OCT]),  # 30% in September is not "under 30%"
        ([2, 2], [SEP, OCT]),  # August missing: not proven
        ([2, 2, 2], [dt.date(2026, 7, 1), SEP, OCT]),  # July is outside the window
    ],
)
def test_a_module_is_not_flagged_without_three_full_months_under(
    cast: Cast, inventory: Inventory, values: list[int], months: list[dt.date]
) -> None:
    _module_usage(inventory.gantt, values, months)
    assert usage.underused_modules(Subscription.objects.all(), today=TODAY) == []
    assert usage.underused_modules_of([inventory.jira.pk], today=TODAY) == []


def test_under_use_uses_licensed_seats_when_set_and_the_settings(
    cast: Cast, inventory: Inventory, settings: object
) -> None:
    module = ModuleFactory.create(
        subscription=inventory.jira, name="Portfolio", licensed_seats=4, unit_price=Decimal("1")
    )
    _module_usage(module, [2, 2, 2], [AUG, SEP, OCT])  # 50% of 4 licensed seats
    assert usage.underused_modules(Subscription.objects.all(), today=TODAY) == []
    assert usage.underused_modules_of([inventory.jira.pk], today=TODAY) == []
    settings.UNDERUSE_PERCENT = 60  # type: ignore[attr-defined]
    assert [m.module for m in usage.underused_modules(Subscription.objects.all(), today=TODAY)] == [
        "Portfolio"
    ]
    # The compiled form follows the setting too (it is part of the cache key).
    [found] = usage.underused_modules_of([inventory.jira.pk], today=TODAY)
    assert found.module == "Portfolio"


def test_idle_seat_saving(cast: Cast, inventory: Inventory) -> None:
    SeatFactory.create(subscription=inventory.jira, last_active_on=TODAY - dt.timedelta(days=100))
    [rec] = usage.recommendations(figures(inventory.jira), today=TODAY)
    assert rec.kind == "reclaim_idle" and rec.yearly_saving == Decimal("691.20")  # 8 USD x 12 x 7.2


def test_usage_trend_has_12_months_per_series(cast: Cast, inventory: Inventory) -> None:
    MonthlyUsage.objects.create(subscription=inventory.jira, month=OCT, active_users=5)
    trend = usage.usage_trend(inventory.jira, today=TODAY)
    assert set(trend) == {"", "Gantt"}
    assert [p.month for p in trend[""]][0] == dt.date(2025, 12, 1) and len(trend[""]) == 12
    assert [p.utilisation for p in trend[""] if p.active_users] == [Decimal("50.0")]


def test_cancellation_deadline_is_computed_by_the_database(
    cast: Cast, inventory: Inventory
) -> None:
    assert Subscription.objects.get(pk=inventory.jira.pk).cancellation_deadline == dt.date(
        2027, 1, 29
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"term_end": dt.date(2026, 3, 1)},  # ends when it starts
        {"unit_price": Decimal("-1")},
        {"currency": "usd"},
        {"seats_purchased": -1},
    ],
)
def test_the_database_refuses_broken_subscriptions(
    cast: Cast, inventory: Inventory, changes: dict[str, object]
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.filter(pk=inventory.jira.pk).update(**changes)


def test_one_subscription_per_product_and_department(cast: Cast, inventory: Inventory) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionFactory.create(
            department=cast.dept_a, vendor=inventory.jira.vendor, product="Jira"
        )


def test_seat_and_usage_constraints(cast: Cast, inventory: Inventory) -> None:
    person = PersonFactory.create(department=cast.dept_a)
    SeatFactory.create(subscription=inventory.jira, person=person, assigned_on=dt.date(2026, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():  # a second active seat
        SeatFactory.create(
            subscription=inventory.jira, person=person, assigned_on=dt.date(2026, 2, 1)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        SeatFactory.create(subscription=inventory.jira, revoked_on=dt.date(2025, 1, 1))
    MonthlyUsage.objects.create(subscription=inventory.jira, month=OCT, active_users=1)
    with pytest.raises(IntegrityError), transaction.atomic():  # module NULL still unique
        MonthlyUsage.objects.create(subscription=inventory.jira, month=OCT, active_users=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyUsage.objects.create(
            subscription=inventory.jira, month=dt.date(2026, 10, 2), active_users=2
        )


def test_dates_follow_the_configured_time_zone(cast: Cast, inventory: Inventory) -> None:
    SeatFactory.create(subscription=inventory.jira, last_active_on=dt.date(2026, 9, 26))
    # 2026-11-25 16:30 UTC is already 2026-11-26 00:30 in Shanghai: 61 days -> idle.
    with time_machine.travel(dt.datetime(2026, 11, 25, 16, 30, tzinfo=dt.UTC)):
        assert listed(cast.it_admin, inventory.jira.pk).idle_seats == 1
    with time_machine.travel(dt.datetime(2026, 11, 25, 15, 30, tzinfo=dt.UTC)):  # 23:30 the 25th
        assert listed(cast.it_admin, inventory.jira.pk).idle_seats == 0


def test_figures_of_a_page_are_those_of_with_figures(
    cast: Cast, inventory: Inventory, settings: Any
) -> None:
    """add_figures (the list's page, from SQL compiled once a day) sets exactly what
    with_figures annotates: seats, idle and departed counts, latest usage, modules, rate."""
    today = timezone.localdate()
    leaver = PersonFactory.create(department=cast.dept_a, status="left", left_on=today)
    SeatFactory.create(subscription=inventory.jira, person=leaver, last_active_on=today)
    SeatFactory.create(subscription=inventory.jira, last_active_on=today - dt.timedelta(days=90))
    SeatFactory.create(subscription=inventory.jira, last_active_on=None)
    ModuleFactory.create(subscription=inventory.jira, name="Docs", unit_price=Decimal("1.50"))
    ModuleFactory.create(
        subscription=inventory.jira, name="Wiki", unit_price=Decimal("3.00"), licensed_seats=4
    )
    for month, active in ((dt.date(2026, 9, 1), 3), (dt.date(2026, 10, 1), 5)):
        MonthlyUsage.objects.create(subscription=inventory.jira, month=month, active_users=active)
    MonthlyUsage.objects.create(
        subscription=inventory.jira,
        module=inventory.gantt,
        month=dt.date(2026, 11, 1),
        active_users=1,
    )
    multi = SubscriptionFactory.create(
        department=cast.dept_b, billing_cycle="multi_year", currency="EUR",
        term_start=dt.date(2025, 1, 1), term_end=dt.date(2027, 12, 31),
    )  # fmt: skip
    pks = [inventory.jira.pk, inventory.feishu_b.pk, multi.pk]
    for idle_days in (60, 30):
        settings.IDLE_AFTER_DAYS = idle_days
        expected = {
            s.pk: tuple(getattr(s, name) for name in subs.FIGURES)
            for s in subs.with_figures(Subscription.objects.filter(pk__in=pks))
        }
        page = subs.add_figures(list(Subscription.objects.filter(pk__in=pks)))
        assert {s.pk: tuple(getattr(s, name) for name in subs.FIGURES) for s in page} == expected
    assert expected[inventory.jira.pk][:5] == (3, 2, 1, 5, dt.date(2026, 10, 1))
    assert subs.add_figures([]) == []
