"""The ledger under load: locks under parallel calls, and random sequences that always reconcile
(with the expected figures, and the kept totals with the sums of the entries)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from budgets import services
from budgets.models import LedgerEntry
from budgets.selectors import (
    balance,
    balances,
    balances_from_entries,
    total_mismatches,
)
from tests.conftest import Cast

YEAR = 2028  # the cast already has a 2027 budget for department A


# --- concurrency ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_100_parallel_commitments_for_a_budget_that_fits_10(cast: Cast) -> None:
    budget = services.budget_create(department=cast.dept_a, year=YEAR, reserve_percent=Decimal("0"))
    services.budget_allocate(budget=budget, amount=Decimal("10000"), user=cast.finance, memo="m")
    start = threading.Barrier(20)

    def commit(i: int) -> bool:
        try:
            if i < 20:
                start.wait()
            services.budget_commit(
                department=cast.dept_a,
                year=YEAR,
                amount=Decimal("1000"),
                reference=f"r:{i}",
                user=cast.finance,
                memo="m",
            )
            return True
        except services.BudgetExceeded:
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(commit, range(100)))
    assert results.count(True) == 10
    assert balance(budget).available == 0 and balance(budget).committed == Decimal("10000.00")


# --- random sequences always reconcile --------------------------------------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "allocate",
                "adjust",
                "commit",
                "release",
                "actual",
                "reverse",
                "reverse_commitment",
                "release_reserve",
                "transfer",
            ]
        ),
        st.integers(min_value=1, max_value=50_000),
    ),
    max_size=25,
)


@pytest.mark.django_db
@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_any_sequence_of_operations_reconciles(
    cast: Cast, operations: list[tuple[str, int]]
) -> None:
    with transaction.atomic():
        a = services.budget_for(department=cast.dept_a, year=YEAR)
        b = services.budget_for(department=cast.dept_b, year=YEAR)
        expected = {"allocated": Decimal(0), "committed": Decimal(0), "actual": Decimal(0)}
        open_refs: list[str] = []
        for n, (op, value) in enumerate(operations):
            amount = Decimal(value)
            try:
                if op == "allocate":
                    services.budget_allocate(budget=a, amount=amount, user=cast.finance, memo="m")
                    expected["allocated"] += amount
                elif op == "adjust":
                    services.budget_adjust(
                        budget=a, amount=-amount if n % 2 else amount, user=cast.finance, memo="m"
                    )
                    expected["allocated"] += -amount if n % 2 else amount
                elif op == "commit":
                    services.budget_commit(
                        department=cast.dept_a,
                        year=YEAR,
                        amount=amount,
                        reference=f"h:{n}",
                        user=cast.finance,
                        memo="m",
                    )
                    expected["committed"] += amount
                    open_refs.append(f"h:{n}")
                elif op == "release" and open_refs:
                    ref = open_refs.pop(0)
                    entry = LedgerEntry.objects.get(budget=a, kind="commitment", reference=ref)
                    services.budget_release(
                        department=cast.dept_a,
                        year=YEAR,
                        reference=ref,
                        user=cast.finance,
                        memo="m",
                    )
                    expected["committed"] -= entry.amount
                elif op == "actual" and open_refs:
                    ref = open_refs.pop()
                    entry = LedgerEntry.objects.get(budget=a, kind="commitment", reference=ref)
                    services.budget_book_actual(
                        department=cast.dept_a,
                        year=YEAR,
                        paid_on=dt.date(YEAR, 3, 1),  # booked in the year it is paid
                        amount=amount,
                        reference=ref,
                        user=cast.finance,
                        memo="m",
                    )
                    expected["committed"] -= entry.amount
                    expected["actual"] += amount
                elif op == "reverse":
                    last = LedgerEntry.objects.filter(
                        budget=a, kind="allocation", reversed_by__isnull=True
                    ).last()
                    if last:
                        services.budget_reverse(entry=last, user=cast.finance, memo="m")
                        expected["allocated"] -= last.amount
                elif op == "reverse_commitment" and open_refs:
                    # A reversal counts in the kind it reverses: the commitment is gone.
                    ref = open_refs.pop()
                    entry = LedgerEntry.objects.get(budget=a, kind="commitment", reference=ref)
                    services.budget_reverse(entry=entry, user=cast.finance, memo="m")
                    expected["committed"] -= entry.amount
                elif op == "release_reserve":
                    services.budget_release_reserve(
                        budget=a, amount=amount / 100, user=cast.finance, memo="m"
                    )
                elif op == "transfer":
                    services.budget_transfer(
                        source=a, target=b, amount=amount, user=cast.finance, memo="m"
                    )
                    expected["allocated"] -= amount
            except services.BudgetExceeded:
                continue_checks = False  # refused: nothing changed, which the totals below check
            else:
                continue_checks = True
            current = balances([a.pk])[a.pk]
            assert (current.allocated, current.committed, current.actual) == (
                expected["allocated"], expected["committed"], expected["actual"],
            )  # fmt: skip
            # The totals the pages read are the sums of the entries, kind by kind.
            assert balances([a.pk, b.pk]) == balances_from_entries([a.pk, b.pk])
            assert total_mismatches() == []
            # Only a booked actual (money already paid) or a reversed allocation may leave the
            # budget overdrawn; everything that checks first keeps it at or above zero.
            if continue_checks and (op in ("commit", "transfer") or (op == "adjust" and n % 2)):
                assert current.available >= 0
        transaction.set_rollback(True)
