"""Which budget an executed renewal hits (#15 point 7): the commitment made at approval and its
release at execution stay in the budget of the year the new term starts; the actual goes to the
budget of the year it is paid in (BUDGET_ACTUALS_YEAR=payment, the default) or, by setting, of
the term start. Balances reconcile with the entries either way."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings

from budgets import services
from budgets.models import Budget, LedgerEntry
from budgets.selectors import balance, balances, balances_from_entries, total_mismatches
from budgets.tasks import reconcile_ledger_totals
from renewals.execution import services as execution_services
from renewals.requests import services as request_services
from tests.conftest import Cast
from tests.renewals.requests.conftest import submitted

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_default_is_the_payment_year() -> None:
    assert django_settings.BUDGET_ACTUALS_YEAR == "payment"
    assert services.actuals_year(term_year=2027, paid_on=dt.date(2028, 1, 15)) == 2028


@pytest.mark.parametrize(("mode", "paid_in"), [("payment", 2028), ("term_start", 2027)])
def test_a_january_payment_for_a_term_starting_in_december(
    cast: Cast, settings: object, mode: str, paid_in: int
) -> None:
    settings.BUDGET_ACTUALS_YEAR = mode  # type: ignore[attr-defined]
    subscription = cast.subscription_a
    subscription.term_start, subscription.term_end = dt.date(2026, 12, 1), dt.date(2027, 11, 30)
    subscription.save()
    services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="2027"
    )
    request = submitted(cast, "9000")
    assert request.proposed_term_start == dt.date(2027, 12, 1) and request.budget_year == 2027
    request_services.step_decide(request=request, user=cast.head_a, decision="approve")
    # Paid and recorded on 15 January 2028 (noon in Shanghai).
    with time_machine.travel(dt.datetime(2028, 1, 15, 4, 0, tzinfo=dt.UTC)):
        execution_services.request_execute(
            request=request, user=cast.finance, order_ref="PO-1", fapiao_no="FP-1",
            actual_amount=Decimal("8800.00"), actual_currency="CNY",
            term_start=dt.date(2027, 12, 1), term_end=dt.date(2028, 11, 30), seats=10,
            edition="", modules=[],
        )  # fmt: skip
    entries = {e.kind: e for e in LedgerEntry.objects.filter(reference=request.budget_reference)}
    assert set(entries) == {"commitment", "commitment_release", "actual"}
    # The commitment and its release: the same budget, the term start's year.
    assert entries["commitment"].budget_id == entries["commitment_release"].budget_id
    assert entries["commitment"].budget.year == 2027
    assert entries["actual"].budget.year == paid_in
    assert entries["actual"].amount == Decimal("8800.00")
    committed_in = balance(cast.budget_a)
    assert committed_in.committed == 0
    assert committed_in.actual == (Decimal("8800.00") if paid_in == 2027 else 0)
    paid_budget = Budget.objects.get(department=cast.dept_a, year=paid_in)
    assert balance(paid_budget).actual == Decimal("8800.00")
    # The kept totals agree with the entries, and the nightly check finds nothing.
    ids = list(Budget.objects.values_list("pk", flat=True))
    assert balances_from_entries(ids) == balances(ids)
    assert total_mismatches() == []
    assert reconcile_ledger_totals() == 0


def test_booking_the_actual_in_another_year_is_idempotent_and_releases_once(cast: Cast) -> None:
    f = cast.finance
    services.budget_allocate(budget=cast.budget_a, amount=Decimal("1000"), user=f, memo="m")
    services.budget_commit(
        department=cast.dept_a, year=2027, amount=Decimal("300"), reference="r:9", user=f,
        memo="m",
    )  # fmt: skip
    first = services.budget_book_actual(
        department=cast.dept_a, year=2027, amount=Decimal("290"), reference="r:9", user=f,
        memo="m", paid_on=dt.date(2028, 1, 2),
    )  # fmt: skip
    # A retry (even one that would compute another payment year) books nothing more.
    again = services.budget_book_actual(
        department=cast.dept_a, year=2027, amount=Decimal("290"), reference="r:9", user=f,
        memo="m", paid_on=dt.date(2029, 1, 2),
    )  # fmt: skip
    assert again.pk == first.pk and first.budget.year == 2028
    assert LedgerEntry.objects.filter(reference="r:9", kind="commitment_release").count() == 1
    assert not Budget.objects.filter(department=cast.dept_a, year=2029).exists()
    assert balance(cast.budget_a).committed == 0 and balance(cast.budget_a).actual == 0
    assert total_mismatches() == []


def test_an_unknown_setting_value_stops_start_up() -> None:
    env = {
        **os.environ,
        "BUDGET_ACTUALS_YEAR": "invoice",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert 'BUDGET_ACTUALS_YEAR must be "payment" or "term_start"' in result.stderr
