"""The per-(budget, kind) totals the database keeps for the pages: they follow every entry
(reversals in the reversed entry's kind), only the ledger's trigger can write them, they survive
concurrent writers, the migration backfills them, and the daily check reports any difference."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from importlib import import_module

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from budgets import services, tasks
from budgets.models import Budget, BudgetKindTotal, LedgerEntry
from budgets.selectors import (
    KindSum,
    balances,
    balances_from_entries,
    total_mismatches,
)
from core import db_guards
from core.schedules import SCHEDULES
from tests.conftest import Cast

YEAR = 2028


def kept(budget: Budget) -> dict[str, tuple[Decimal, int]]:
    return {t.kind: (t.total, t.entries) for t in BudgetKindTotal.objects.filter(budget=budget)}


@pytest.fixture
def budget(cast: Cast) -> Budget:
    budget = services.budget_create(department=cast.dept_a, year=YEAR, reserve_percent=Decimal(10))
    services.budget_allocate(budget=budget, amount=Decimal("1000.00"), user=cast.finance, memo="m")
    return budget


@pytest.mark.django_db
def test_totals_follow_each_entry_and_a_reversal_counts_in_the_reversed_kind(
    cast: Cast, budget: Budget
) -> None:
    commit = services.budget_commit(
        department=cast.dept_a,
        year=YEAR,
        amount=Decimal("300.10"),
        reference="r:1",
        user=cast.finance,
        memo="m",
    )
    services.budget_allocate(budget=budget, amount=Decimal("0.01"), user=cast.finance, memo="m")
    assert kept(budget) == {
        "allocation": (Decimal("1000.01"), 2),
        "commitment": (Decimal("300.10"), 1),
    }
    services.budget_reverse(entry=commit, user=cast.finance, memo="录错")
    assert kept(budget) == {
        "allocation": (Decimal("1000.01"), 2),
        "commitment": (Decimal("0.00"), 2),
    }
    assert balances([budget.pk]) == balances_from_entries([budget.pk])
    assert balances([budget.pk])[budget.pk].committed == 0


@pytest.mark.django_db
def test_a_rolled_back_entry_leaves_the_totals_as_they_were(cast: Cast, budget: Budget) -> None:
    before = kept(budget)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.budget_allocate(budget=budget, amount=Decimal("5"), user=cast.finance, memo="m")
        assert kept(budget)["allocation"] == (Decimal("1005.00"), 2)  # seen inside, at once
        raise RuntimeError("the caller failed afterwards")
    assert kept(budget) == before


@pytest.mark.django_db
def test_entries_written_in_bulk_or_without_the_services_are_counted_too(
    cast: Cast, budget: Budget
) -> None:
    other = services.budget_create(department=cast.dept_b, year=YEAR)
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(budget=other, kind="allocation", amount=Decimal("7.00"), memo="m"),
            LedgerEntry(budget=budget, kind="actual", amount=Decimal("2.50"), memo="m"),
            LedgerEntry(budget=other, kind="allocation", amount=Decimal("-1.00"), memo="m"),
        ]
    )
    assert kept(other) == {"allocation": (Decimal("6.00"), 2)}
    assert kept(budget)["actual"] == (Decimal("2.50"), 1)
    assert total_mismatches() == []


@pytest.mark.django_db
def test_balances_read_one_query_however_many_budgets_and_entries(
    cast: Cast, budget: Budget
) -> None:
    others = [
        services.budget_create(department=d, year=YEAR) for d in (cast.dept_b, cast.dept_a_child)
    ]
    for other in others:
        for i in range(5):
            services.budget_allocate(
                budget=other, amount=Decimal(i + 1), user=cast.finance, memo="m"
            )
    with CaptureQueriesContext(connection) as queries:
        result = balances([budget.pk, *(o.pk for o in others)])
    assert len(queries.captured_queries) == 1
    assert result[others[0].pk].allocated == Decimal("15.00")
    assert "budgets_ledgerentry" not in " ".join(q["sql"] for q in queries.captured_queries)


# --- only the trigger writes ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_app_cannot_write_the_totals(cast: Cast, budget: Budget) -> None:
    total = BudgetKindTotal.objects.get(budget=budget, kind="allocation")
    refused = pytest.raises(DatabaseError, match="kept by the ledger's trigger")
    with refused, transaction.atomic():
        BudgetKindTotal.objects.create(budget=budget, kind="actual", total=1, entries=1)
    total.total = Decimal("999999")
    with refused, transaction.atomic():
        total.save()
    with refused, transaction.atomic():
        BudgetKindTotal.objects.filter(pk=total.pk).update(total=0)
    with refused, transaction.atomic():
        BudgetKindTotal.objects.filter(pk=total.pk).delete()
    for sql in (
        "UPDATE budgets_budgetkindtotal SET total = 0",
        "DELETE FROM budgets_budgetkindtotal",
        f"INSERT INTO budgets_budgetkindtotal (budget_id, kind, total, entries) VALUES ({budget.pk}, 'actual', 1, 1)",
    ):
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert kept(budget) == {"allocation": (Decimal("1000.00"), 1)}


@pytest.mark.django_db
def test_truncating_the_ledger_is_refused_and_where_allowed_empties_the_totals(
    cast: Cast, budget: Budget
) -> None:
    # Refused (tests/budgets/test_truncate_guard.py); the test suite's flush may, and then the
    # totals follow the ledger.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks
        with pytest.raises(DatabaseError, match="is refused"), transaction.atomic():
            cursor.execute("TRUNCATE budgets_ledgerentry")
        assert BudgetKindTotal.objects.exists()
        cursor.execute(f"SET LOCAL {db_guards.ALLOW_SETTING} = 'on'")
        cursor.execute("TRUNCATE budgets_ledgerentry")
    assert not BudgetKindTotal.objects.exists()
    assert total_mismatches() == []


@pytest.mark.django_db
def test_the_migration_backfills_entries_written_before_it_and_reverses_cleanly(
    cast: Cast, budget: Budget
) -> None:
    migration = import_module("budgets.migrations.0004_ledger_totals_trigger")
    with connection.cursor() as cursor:
        cursor.execute(migration.REVERSE)
        # Without the triggers: entries are no longer counted, and the totals are writable.
        services.budget_allocate(budget=budget, amount=Decimal("5"), user=cast.finance, memo="m")
        cursor.execute("UPDATE budgets_budgetkindtotal SET total = total + 1")
        assert len(total_mismatches()) == 2  # this budget's and the cast's allocation
        cursor.execute(migration.SQL)
    assert kept(budget) == {"allocation": (Decimal("1005.00"), 2)}
    assert total_mismatches() == []
    services.budget_allocate(budget=budget, amount=Decimal("1"), user=cast.finance, memo="m")
    assert kept(budget) == {"allocation": (Decimal("1006.00"), 3)}


# --- concurrency ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_totals_equal_the_sums_after_concurrent_commits(cast: Cast) -> None:
    a = services.budget_create(department=cast.dept_a, year=YEAR, reserve_percent=Decimal(0))
    b = services.budget_create(department=cast.dept_b, year=YEAR, reserve_percent=Decimal(0))
    services.budget_allocate(budget=a, amount=Decimal("5000"), user=cast.finance, memo="m")
    services.budget_allocate(budget=b, amount=Decimal("5000"), user=cast.finance, memo="m")
    start = threading.Barrier(16)

    def work(i: int) -> None:
        try:
            if i < 16:  # the first wave starts together
                start.wait(timeout=30)
            if i % 4 == 0:  # through the services (budget row locked)
                services.budget_commit(
                    department=cast.dept_a if i % 8 else cast.dept_b,
                    year=YEAR,
                    amount=Decimal("123.45"),
                    reference=f"c:{i}",
                    user=cast.finance,
                    memo="m",
                )
            elif i % 4 == 1:  # opposite transfers
                source, target = (a, b) if i % 8 == 1 else (b, a)
                services.budget_transfer(
                    source=source,
                    target=target,
                    amount=Decimal("10.01"),
                    user=cast.finance,
                    memo="m",
                )
            else:  # no lock at all: several rows per statement, in opposite budget orders
                first, second = (a, b) if i % 4 == 2 else (b, a)
                with transaction.atomic():
                    LedgerEntry.objects.bulk_create(
                        [
                            LedgerEntry(
                                budget=first, kind="actual", amount=Decimal("0.07"), memo="m"
                            ),
                            LedgerEntry(
                                budget=second, kind="actual", amount=Decimal("0.05"), memo="m"
                            ),
                            LedgerEntry(
                                budget=first, kind="allocation", amount=Decimal("1"), memo="m"
                            ),
                        ]
                    )
                    LedgerEntry.objects.create(
                        budget=second, kind="allocation", amount=Decimal("2"), memo="m"
                    )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(work, range(80)))
    assert total_mismatches() == []
    assert balances([a.pk, b.pk]) == balances_from_entries([a.pk, b.pk])
    assert sum(t.entries for t in BudgetKindTotal.objects.all()) == LedgerEntry.objects.count()
    # 40 unlocked threads each booked 0.07 + 0.05 of actuals; 10 commitments per budget.
    assert balances([a.pk])[a.pk].actual + balances([b.pk])[b.pk].actual == Decimal("4.80")
    assert balances([a.pk])[a.pk].committed == Decimal("1234.50")


# --- the daily reconciliation -----------------------------------------------------------------


def test_the_reconciliation_runs_daily() -> None:
    spec = next(s for s in SCHEDULES if s.func == "budgets.tasks.reconcile_ledger_totals")
    assert (spec.schedule_type, spec.cron) == ("C", "30 2 * * *")


@pytest.mark.django_db
def test_the_reconciliation_is_quiet_when_totals_match(cast: Cast, budget: Budget) -> None:
    cast.finance.email = "cfo@example.cn"
    cast.finance.save()
    assert tasks.reconcile_ledger_totals() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_reconciliation_logs_and_mails_finance_every_difference(
    cast: Cast, budget: Budget, caplog: pytest.LogCaptureFixture
) -> None:
    cast.finance.email = "cfo@example.cn"
    cast.finance.save()
    with connection.cursor() as cursor:
        # Only the owner can do this: switch the guard off and change a total by hand.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE wants no pending checks
        cursor.execute("ALTER TABLE budgets_budgetkindtotal DISABLE TRIGGER budgets_totals_guard")
        cursor.execute(
            "UPDATE budgets_budgetkindtotal SET total = total + 0.01 WHERE budget_id = %s",
            [budget.pk],
        )
        cursor.execute(
            "INSERT INTO budgets_budgetkindtotal (budget_id, kind, total, entries) "
            "VALUES (%s, 'actual', 5, 1)",
            [budget.pk],
        )
        cursor.execute("ALTER TABLE budgets_budgetkindtotal ENABLE TRIGGER budgets_totals_guard")
    found = {(m.budget_id, m.kind): (m.kept, m.summed) for m in total_mismatches()}
    assert found == {
        (budget.pk, "actual"): (KindSum(Decimal("5.00"), 1), None),
        (budget.pk, "allocation"): (
            KindSum(Decimal("1000.01"), 1),
            KindSum(Decimal("1000.00"), 1),
        ),
    }
    with caplog.at_level(logging.ERROR, logger="budgets.tasks"):
        assert tasks.reconcile_ledger_totals() == 2
    assert len([r for r in caplog.records if "do not reconcile" in r.getMessage()]) == 2
    assert [m.to for m in mail.outbox] == [["cfo@example.cn"]]
    body = mail.outbox[0].body
    assert "研发中心 A 2028" in body and "1000.01" in body and "1000.00" in body
    assert "2" in mail.outbox[0].subject
