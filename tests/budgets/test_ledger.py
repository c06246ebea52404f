"""The ledger: append-only in the database, balances as sums, locks and idempotency under
parallel calls, all-or-nothing writes, strict amount parsing, and random sequences that always
reconcile (with the expected figures, and the kept totals with the sums of the entries)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from budgets import services
from budgets.models import Budget, LedgerEntry
from budgets.money import parse_amount
from budgets.selectors import (
    Balance,
    balance,
    balances,
    balances_from_entries,
    total_mismatches,
)
from tests.conftest import Cast

YEAR = 2028  # the cast already has a 2027 budget for department A


@pytest.fixture
def budget(cast: Cast) -> Budget:
    budget = services.budget_create(
        department=cast.dept_a, year=YEAR, reserve_percent=Decimal("10")
    )
    services.budget_allocate(
        budget=budget, amount=Decimal("100000.00"), user=cast.finance, memo="年度预算"
    )
    return budget


# --- append-only ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_to_edit_or_delete_ledger_rows(cast: Cast, budget: Budget) -> None:
    entry = LedgerEntry.objects.get(budget=budget)
    entry.memo = "改过的"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        entry.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        entry.delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE budgets_ledgerentry SET amount = 0 WHERE id = %s", [entry.pk])
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM budgets_ledgerentry")
    entry.refresh_from_db()
    assert (entry.amount, entry.memo) == (Decimal("100000.00"), "年度预算")


@pytest.mark.django_db
def test_the_admin_offers_no_way_to_edit_or_delete(cast: Cast, budget: Budget) -> None:
    client = Client()
    client.force_login(cast.it_admin)  # a superuser
    entry = LedgerEntry.objects.get(budget=budget)
    assert (
        client.post(
            reverse("admin:budgets_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    response = client.post(
        reverse("admin:budgets_ledgerentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


# --- balances ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_balance_is_allocated_minus_reserve_committed_and_actual(
    cast: Cast, budget: Budget
) -> None:
    services.budget_commit(
        department=cast.dept_a,
        year=YEAR,
        amount=Decimal("30000"),
        reference="r:1",
        user=cast.finance,
        memo="Jira",
    )
    services.budget_book_actual(
        department=cast.dept_a,
        year=YEAR,
        paid_on=dt.date(YEAR, 3, 1),  # booked in the year it is paid
        amount=Decimal("28000.50"),
        reference="r:1",
        user=cast.finance,
        memo="发票",
    )
    services.budget_commit(
        department=cast.dept_a,
        year=YEAR,
        amount=Decimal("10000"),
        reference="r:2",
        user=cast.finance,
        memo="飞书",
    )
    assert balance(budget) == Balance(
        allocated=Decimal("100000.00"),
        reserve=Decimal("10000.00"),
        committed=Decimal("10000.00"),
        actual=Decimal("28000.50"),
    )
    assert balance(budget).available == Decimal("51999.50")


@pytest.mark.django_db
def test_a_reversal_cancels_the_entry_it_points_at(cast: Cast, budget: Budget) -> None:
    wrong = services.budget_allocate(
        budget=budget, amount=Decimal("5000"), user=cast.finance, memo="录错了"
    )
    services.budget_reverse(entry=wrong, user=cast.finance, memo="冲销录错的分配")
    assert balance(budget).allocated == Decimal("100000.00")
    with pytest.raises(ValidationError):
        services.budget_reverse(entry=wrong, user=cast.finance, memo="again")


@pytest.mark.django_db
def test_commitments_are_idempotent_by_reference_and_released_once(
    cast: Cast, budget: Budget
) -> None:
    kwargs = {
        "department": cast.dept_a,
        "year": YEAR,
        "amount": Decimal("1000"),
        "reference": "renewals.RenewalRequest:42",
        "user": cast.finance,
        "memo": "m",
    }
    first = services.budget_commit(**kwargs)  # type: ignore[arg-type]
    assert services.budget_commit(**kwargs) == first  # type: ignore[arg-type]
    services.budget_release(
        department=cast.dept_a,
        year=YEAR,
        reference="renewals.RenewalRequest:42",
        user=cast.finance,
        memo="rejected",
    )
    services.budget_release(
        department=cast.dept_a,
        year=YEAR,
        reference="renewals.RenewalRequest:42",
        user=cast.finance,
        memo="rejected",
    )
    assert balance(budget).committed == 0
    assert LedgerEntry.objects.filter(kind="commitment_release").count() == 1


@pytest.mark.django_db
def test_check_says_fits_needs_reserve_or_does_not_fit(cast: Cast, budget: Budget) -> None:
    def check(amount: str) -> services.Fit:
        return services.budget_check(department=cast.dept_a, amount=Decimal(amount), year=YEAR)

    assert check("90000.00") == services.Fit.FITS
    assert check("90000.01") == services.Fit.NEEDS_RESERVE
    assert check("100000.01") == services.Fit.DOES_NOT_FIT
    with pytest.raises(services.BudgetExceeded):
        services.budget_commit(
            department=cast.dept_a,
            year=YEAR,
            amount=Decimal("95000"),
            reference="r:9",
            user=cast.finance,
            memo="m",
        )
    entry = services.budget_commit(
        department=cast.dept_a,
        year=YEAR,
        amount=Decimal("95000"),
        reference="r:9",
        user=cast.finance,
        memo="m",
        use_reserve=True,
    )
    assert entry.amount == Decimal("95000.00") and balance(budget).available == 0


@pytest.mark.django_db
def test_transfer_is_two_entries_or_none(cast: Cast, budget: Budget) -> None:
    target = services.budget_create(department=cast.dept_b, year=YEAR)
    services.budget_transfer(
        source=budget, target=target, amount=Decimal("20000"), user=cast.finance, memo="调剂"
    )
    assert (balance(budget).allocated, balance(target).allocated) == (
        Decimal("80000.00"),
        Decimal("20000.00"),
    )
    with pytest.raises(services.BudgetExceeded):
        services.budget_transfer(
            source=budget, target=target, amount=Decimal("75000"), user=cast.finance, memo="太多"
        )
    assert LedgerEntry.objects.filter(kind="transfer").count() == 2


@pytest.mark.django_db
def test_an_exception_after_an_entry_is_written_leaves_nothing(cast: Cast, budget: Budget) -> None:
    before = LedgerEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.budget_allocate(budget=budget, amount=Decimal("1"), user=cast.finance, memo="m")
        raise RuntimeError("the caller failed afterwards")
    assert LedgerEntry.objects.count() == before


@pytest.mark.parametrize(
    "text",
    [
        "5e4",
        "1,000",
        "NaN",
        "Infinity",
        "-0",
        "0",
        "0.00",
        "1234567890123456789012345",
        "12.345",
        " ",
        "１２",
        "1_000",
    ],
)
def test_amounts_people_type_are_read_strictly(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_amount(text)
    assert parse_amount("12000.5") == Decimal("12000.50")
    assert parse_amount("-300", allow_negative=True) == Decimal("-300.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "amount", [Decimal("NaN"), Decimal("Infinity"), Decimal("0"), Decimal("-5"), Decimal("1" * 25)]
)
def test_services_refuse_bad_amounts(cast: Cast, budget: Budget, amount: Decimal) -> None:
    with pytest.raises(ValidationError):
        services.budget_allocate(budget=budget, amount=amount, user=cast.finance, memo="m")


@pytest.mark.django_db
def test_the_reserve_must_stay_between_0_and_50_percent(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        services.budget_create(department=cast.dept_b, year=YEAR, reserve_percent=Decimal("50.01"))


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
