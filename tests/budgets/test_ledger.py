"""The ledger: append-only in the database, balances as sums, idempotency, all-or-nothing writes
and strict amount parsing. Parallel calls and random sequences: test_ledger_races.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from budgets import services
from budgets.models import Budget, LedgerEntry
from budgets.money import parse_amount
from budgets.selectors import (
    Balance,
    balance,
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
