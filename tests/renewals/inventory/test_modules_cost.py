"""Subscription.modules_cost, kept by the database (migration 0010): right after every way a
module or a seat count changes, and the yearly cost and its sort built on it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import translation

from renewals.imports import services as imports
from renewals.inventory import selectors as subs
from renewals.inventory.models import CurrencyRate, Module, Subscription
from tests.conftest import Cast
from tests.factories import ModuleFactory, SubscriptionFactory
from tests.renewals.conftest import Inventory

TODAY = dt.date(2026, 11, 26)

# The definition the selectors summed per row before the column existed.
DEFINITION = """
SELECT s.id, s.modules_cost,
       COALESCE((SELECT SUM(m.unit_price * COALESCE(m.licensed_seats, s.seats_purchased))
                 FROM renewals_module m
                 WHERE m.subscription_id = s.id AND m.unit_price IS NOT NULL), 0)
FROM renewals_subscription s
"""


def stored_and_defined() -> dict[int, tuple[Decimal, Decimal]]:
    with connection.cursor() as cursor:
        cursor.execute(DEFINITION)
        return {pk: (stored, defined) for pk, stored, defined in cursor.fetchall()}


def cost(sub: Subscription) -> Decimal:
    """The stored value, checked against the definition for every subscription."""
    rows = stored_and_defined()
    assert all(stored == defined for stored, defined in rows.values()), rows
    return rows[sub.pk][0]


@pytest.mark.django_db
def test_the_stored_modules_cost_follows_every_change(cast: Cast, inventory: Inventory) -> None:
    jira, gantt = inventory.jira, inventory.gantt  # 10 seats, Gantt 2.00 for every seat
    assert cost(jira) == Decimal("20.00")
    docs = ModuleFactory.create(subscription=jira, name="Docs", unit_price=Decimal("1.50"))
    assert cost(jira) == Decimal("35.00")
    ModuleFactory.create(subscription=jira, name="Wiki")  # included in the price
    assert cost(jira) == Decimal("35.00")
    docs.licensed_seats = 4
    docs.save()
    assert cost(jira) == Decimal("26.00")
    gantt.unit_price = Decimal("2.25")
    gantt.save()
    assert cost(jira) == Decimal("28.50")
    # A seat count change reprices the modules without licensed seats (Gantt), not Docs.
    jira.seats_purchased = 20
    jira.save()
    assert cost(jira) == Decimal("51.00")
    Subscription.objects.filter(pk=jira.pk).update(seats_purchased=12)
    assert cost(jira) == Decimal("33.00")
    # A module moved to another subscription counts there (10 seats, 1 licensed) and no more here.
    other = SubscriptionFactory.create(department=cast.dept_a, seats_purchased=7)
    Module.objects.filter(pk=docs.pk).update(subscription=other)
    assert (cost(jira), cost(other)) == (Decimal("27.00"), Decimal("6.00"))
    gantt.delete()
    assert cost(jira) == Decimal("0.00")
    # Raw SQL, several subscriptions in one statement.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO renewals_module (subscription_id, name, unit_price, licensed_seats) "
            "VALUES (%s, 'A', 1.10, NULL), (%s, 'B', 0.05, 3), (%s, 'C', 3.00, NULL)",
            [jira.pk, jira.pk, other.pk],
        )
    assert (cost(jira), cost(other)) == (Decimal("13.35"), Decimal("27.00"))
    # A value written by hand does not stick.
    Subscription.objects.filter(pk=jira.pk).update(modules_cost=Decimal("999.99"))
    assert cost(jira) == Decimal("13.35")
    # The subscriptions import (set-based SQL): a new subscription, then new prices and seats.
    header = (
        "Ref,Vendor,Product,Edition,Department,Owner,Seats,Unit_Price,Currency,Billing_Cycle,"
        "Term_Start,Term_End,Auto_Renew,Notice_Period_Days,Tags,Modules\n"
    )
    with translation.override("en"):
        for row in (
            "NEW-1,ClickUp,ClickUp,,A,head_a,25,12.00,USD,monthly,2026-01-01,2026-12-31,no,45,,"
            "Automations;Docs=3.50\n",
            "NEW-1,ClickUp,ClickUp,,A,head_a,30,12.00,USD,monthly,2026-01-01,2026-12-31,no,45,,"
            "Automations=1.00;Docs=3.50\n",
        ):
            job = imports.import_upload(
                user=cast.it_admin,
                kind="subscriptions",
                upload=SimpleUploadedFile("s.csv", (header + row).encode()),
            )
            assert job.status == "ready", job.errors
            assert imports.import_commit(user=cast.it_admin, job=job).status == "done"
            new = Subscription.objects.get(ref="NEW-1")
            expected = Decimal("87.50") if "=1.00" not in row else Decimal("135.00")
            assert cost(new) == expected
    # Deleting a subscription with its modules.
    other.delete()
    assert other.pk not in stored_and_defined()


@pytest.mark.django_db
def test_yearly_cost_uses_the_stored_modules_cost_and_the_days_rate(
    cast: Cast, inventory: Inventory
) -> None:
    def annual(sub: Subscription) -> Decimal | None:
        figures = subs.with_figures(Subscription.objects.filter(pk=sub.pk), today=TODAY).get()
        page = subs.add_figures([Subscription.objects.get(pk=sub.pk)], today=TODAY)[0]
        assert page.annual_cost == figures.annual_cost
        sql = (
            Subscription.objects.filter(pk=sub.pk)
            .annotate(a=subs.figure_expression("annual_cost", today=TODAY))
            .values_list("a", flat=True)
            .get()
        )
        assert sql == figures.annual_cost  # the sort's SQL and the figure shown agree
        return figures.annual_cost

    jira = inventory.jira
    # (10 × 8.00 + Gantt 10 × 2.00) USD a month × 12 × 7.2
    assert annual(jira) == Decimal("8640.00")
    ModuleFactory.create(
        subscription=jira, name="Docs", unit_price=Decimal("0.33"), licensed_seats=3
    )
    assert annual(jira) == Decimal("8725.54")  # (100.99 × 12 × 7.2 = 8725.536)
    # Another currency: the modules are priced in it too; the rate of the day applies.
    CurrencyRate.objects.create(
        currency="EUR", rate_to_base=Decimal("7.851234"), valid_from=dt.date(2026, 11, 1)
    )
    jira.currency = "EUR"
    jira.save()
    assert annual(jira) == Decimal("9514.75")  # 1211.88 × 7.851234 = 9514.7534…
    CurrencyRate.objects.create(
        currency="EUR", rate_to_base=Decimal("8"), valid_from=dt.date(2026, 11, 26)
    )
    assert annual(jira) == Decimal("9695.04")


@pytest.mark.django_db(transaction=True)
def test_two_transactions_adding_modules_at_once_both_count(
    cast: Cast, inventory: Inventory
) -> None:
    """The second transaction's sum is taken after the first commits (it waits for the row);
    emptying the module table empties every cost."""
    jira = inventory.jira
    first = connection.copy()
    blocked = threading.Event()
    errors: list[BaseException] = []
    try:
        first.set_autocommit(False)
        with first.cursor() as cursor:
            cursor.execute(
                "INSERT INTO renewals_module (subscription_id, name, unit_price) "
                "VALUES (%s, 'First', 1.00)",
                [jira.pk],
            )

        def add_second() -> None:
            second = connection.copy()  # a connection belongs to the thread that made it
            try:
                second.set_autocommit(False)
                with second.cursor() as cursor:
                    blocked.set()
                    cursor.execute(
                        "INSERT INTO renewals_module (subscription_id, name, unit_price) "
                        "VALUES (%s, 'Second', 0.50)",
                        [jira.pk],
                    )
                second.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                blocked.set()
                second.close()

        thread = threading.Thread(target=add_second)
        thread.start()
        assert blocked.wait(timeout=30)
        # Wait until the second transaction really waits for the first one's row lock.
        with connection.cursor() as cursor:
            for _ in range(500):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.02)
            else:
                pytest.fail(f"the second transaction never waited for the first: {errors}")
        first.commit()
        thread.join()
    finally:
        first.close()
    assert not errors
    # 10 seats × (Gantt 2.00 + First 1.00 + Second 0.50)
    assert cost(jira) == Decimal("35.00")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE renewals_module CASCADE")
    assert cost(jira) == Decimal("0.00")
