"""Finance re-forecasts the months left of a budget's year: one adjustment entry for the
difference, rounded to cents, booked once per submitted form; the months left are counted in
settings.TIME_ZONE."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from budgets import services
from budgets.models import LedgerEntry
from budgets.selectors import balance
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

# 2027-03-10 in Shanghai: March to December are left of 2027.
IN_MARCH_2027 = dt.datetime(2027, 3, 10, 4, 0, tzinfo=dt.UTC)


def signed_in(user: object) -> Client:
    """Signed in, in English (messages are checked by their words)."""
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def reforecast(cast: Cast, reference: str = "r:1", **figure: Any) -> LedgerEntry | None:
    return services.budget_reforecast(
        budget=cast.budget_a, reference=reference, user=cast.finance, memo="Q1 复核", **figure
    )


def test_months_left_are_counted_in_the_configured_time_zone() -> None:
    # 16:30 UTC on New Year's Eve is already 00:30 on 1 January in Shanghai.
    with time_machine.travel(dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)):
        timezone.activate("America/New_York")  # a request's zone does not move the fiscal year
        try:
            assert services.months_remaining(2027) == 12
            assert services.months_remaining(2026) == 0
        finally:
            timezone.deactivate()
    with time_machine.travel(dt.datetime(2027, 11, 30, 15, 59, tzinfo=dt.UTC)):  # 23:59 in Shanghai
        assert services.months_remaining(2027) == 2
        assert services.months_remaining(2028) == 12


@time_machine.travel(IN_MARCH_2027)
def test_a_new_full_year_figure_books_the_difference_rounded_to_cents(cast: Cast) -> None:
    entry = reforecast(cast, full_year=Decimal("150.005"))  # allocated 100 so far
    assert entry is not None
    assert (entry.kind, entry.amount, entry.reference) == ("adjustment", Decimal("50.01"), "r:1")
    assert balance(cast.budget_a).allocated == Decimal("150.01")
    assert reforecast(cast, reference="r:2", full_year=Decimal("150.01")) is None  # no change


@time_machine.travel(IN_MARCH_2027)
def test_the_remaining_months_amount_comes_on_top_of_what_is_committed_and_paid(
    cast: Cast,
) -> None:
    services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("900"), user=cast.finance, memo="m"
    )
    for ref, amount in (("c:1", "300"), ("c:2", "200")):
        services.budget_commit(
            department=cast.dept_a,
            year=2027,
            amount=Decimal(amount),
            reference=ref,
            user=cast.finance,
            memo="m",
        )
    services.budget_book_actual(
        department=cast.dept_a,
        year=2027,
        paid_on=dt.date(2027, 3, 1),  # booked in the year it is paid
        amount=Decimal("190.50"),
        reference="c:2",
        user=cast.finance,
        memo="m",
    )
    # Committed 300 + paid 190.50 + 400 for the rest of the year = 890.50: 109.50 less.
    entry = reforecast(cast, remaining=Decimal("400"))
    assert entry is not None and entry.amount == Decimal("-109.50")
    assert balance(cast.budget_a).allocated == Decimal("890.50")


@time_machine.travel(IN_MARCH_2027)
def test_a_repeated_reforecast_books_once(cast: Cast) -> None:
    first = reforecast(cast, full_year=Decimal("500"))
    again = reforecast(cast, full_year=Decimal("800"))  # same reference: a retry, not a new one
    assert again == first
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 1
    assert balance(cast.budget_a).allocated == Decimal("500.00")


@time_machine.travel(IN_MARCH_2027)
def test_refused_reforecasts_change_nothing(cast: Cast) -> None:
    services.budget_commit(
        department=cast.dept_a,
        year=2027,
        amount=Decimal("80"),
        reference="c:1",
        user=cast.finance,
        memo="m",
    )
    with pytest.raises(services.BudgetExceeded):  # a cut below what is committed (5 left)
        reforecast(cast, full_year=Decimal("50"))
    for figure in (
        {"full_year": 150.5},  # a float: Decimal only
        {"full_year": Decimal("NaN")},
        {"full_year": Decimal("-1")},
        {"remaining": Decimal("1" * 13)},
        {},
        {"full_year": Decimal("1"), "remaining": Decimal("1")},
    ):
        with pytest.raises(ValidationError):
            reforecast(cast, **figure)
    with pytest.raises(ValidationError):
        reforecast(cast, reference="", full_year=Decimal("200"))
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 0


def test_a_year_that_is_over_cannot_be_reforecast(cast: Cast) -> None:
    with (
        time_machine.travel(dt.datetime(2027, 12, 31, 16, 0, tzinfo=dt.UTC)),  # 2028 in Shanghai
        pytest.raises(ValidationError, match="已结束"),
    ):
        reforecast(cast, full_year=Decimal("200"))


@time_machine.travel(IN_MARCH_2027)
def test_finance_reforecasts_through_the_page_and_a_double_submit_books_once(cast: Cast) -> None:
    client = signed_in(cast.finance)
    page = client.get(cast.budget_a.get_absolute_url()).content.decode()
    assert "10 months left in fiscal year 2027 (counted in Asia/Shanghai)." in page
    token = re.search(r'name="reference" value="(reforecast:[0-9a-f]{32})"', page).group(1)  # type: ignore[union-attr]
    form = {"basis": "full_year", "amount": "120000.5", "memo": "三月复核", "reference": token}
    url = reverse("budgets:budget-reforecast", args=[cast.budget_a.pk])
    first = client.post(url, form, follow=True)
    second = client.post(url, form, follow=True)
    assert [str(m) for m in first.context["messages"]] == [
        "Re-forecast recorded: the allocation changes by 119900.50."
    ]
    assert [str(m) for m in second.context["messages"]] == [
        "This re-forecast was already recorded."
    ]
    assert balance(cast.budget_a).allocated == Decimal("120000.50")
    assert "三月复核" in second.content.decode()
    # The ledger names the source (not the form's token); the fresh form carries a new one.
    html = second.content.decode()
    assert "<td >Re-forecast form</td>" in html and token not in html


@time_machine.travel(IN_MARCH_2027)
@pytest.mark.parametrize(
    "form",
    [
        {"basis": "full_year", "amount": "5e4", "memo": "m"},
        {"basis": "full_year", "amount": "50000", "memo": ""},
        {"basis": "monthly", "amount": "50000", "memo": "m"},
        {"basis": "full_year", "amount": "50000", "memo": "m", "reference": "r:1"},
        {"basis": "full_year", "amount": "-5", "memo": "m"},
    ],
)
def test_bad_reforecast_forms_are_refused_with_a_message(cast: Cast, form: dict[str, str]) -> None:
    data = {"reference": "reforecast:" + "a" * 32, **form}
    response = signed_in(cast.finance).post(
        reverse("budgets:budget-reforecast", args=[cast.budget_a.pk]), data, follow=True
    )
    assert any(m.level_tag == "error" for m in response.context["messages"])
    assert not LedgerEntry.objects.filter(kind="adjustment").exists()


@time_machine.travel(IN_MARCH_2027)
def test_only_finance_sees_the_reforecast_form(cast: Cast) -> None:
    for user, shown in ((cast.finance, True), (cast.head_a, False), (cast.auditor, False)):
        page = signed_in(user).get(cast.budget_a.get_absolute_url()).content.decode()
        assert ('data-testid="reforecast-form"' in page) == shown
        assert 'data-testid="months-remaining"' in page
