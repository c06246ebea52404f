"""Allocations and adjustments in another currency: the amount typed is in that currency, the
rate to CNY is required and read strictly, the ledger books amount × rate rounded half up to
cents, keeps the original currency, amount and rate, and shows them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from budgets import services
from budgets.models import LedgerEntry
from budgets.money import OriginalAmount, parse_currency, parse_rate
from budgets.selectors import balance
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    """Signed in, in English (the messages below are checked by their words)."""
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def post(client: Client, cast: Cast, **data: str) -> list[str]:
    """Post finance's ledger form; the error messages shown afterwards."""
    response = client.post(
        reverse("budgets:budget-action", args=[cast.budget_a.pk]), data, follow=True
    )
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]


@pytest.mark.parametrize(
    "text", ["7e0", "7,1", "NaN", "Infinity", "0", "0.000000", "-7", "0.0000001", "123456789", ""]
)
def test_rates_people_type_are_read_strictly(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_rate(text)
    assert parse_rate(" 7.1234 ") == Decimal("7.1234")
    assert parse_rate("12345678.123456") == Decimal("12345678.123456")


@pytest.mark.parametrize("text", ["US", "USDX", "U$D", "１２３", "", "US D"])
def test_currency_codes_are_three_letters(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_currency(text)
    assert parse_currency(" usd") == "USD"


@pytest.mark.parametrize(
    ("amount", "rate", "booked"),
    [
        ("100.01", "7.123456", "712.42"),  # 712.4168...
        ("0.50", "0.01", "0.01"),  # 0.005: half up, not to even
        ("-0.50", "0.01", "-0.01"),  # and symmetrically for a cut
        ("1000", "7.1234", "7123.40"),
    ],
)
def test_conversion_rounds_half_up_to_cents(amount: str, rate: str, booked: str) -> None:
    assert OriginalAmount("USD", Decimal(amount), Decimal(rate)).in_base() == Decimal(booked)


def test_finance_allocates_in_dollars_and_the_ledger_shows_the_original(cast: Cast) -> None:
    client = signed_in(cast.finance)
    errors = post(
        client,
        cast,
        action="allocate",
        amount="1000",
        currency="usd",
        rate="7.1234",
        memo="美元合同",
    )
    assert errors == []
    entry = LedgerEntry.objects.get(memo="美元合同")
    assert (entry.amount, entry.original_currency, entry.original_amount, entry.rate) == (
        Decimal("7123.40"),
        "USD",
        Decimal("1000.00"),
        Decimal("7.123400"),
    )
    assert balance(cast.budget_a).allocated == Decimal("7223.40")  # 100 before
    page = client.get(cast.budget_a.get_absolute_url()).content.decode()
    assert "USD 1,000.00 @ 7.1234" in page
    csv = client.get(cast.budget_a.get_absolute_url(), {"_export": "csv"}).content.decode(
        "utf-8-sig"
    )
    assert "USD 1000.00 @ 7.1234" in csv and "7123.40" in csv


def test_a_cut_in_euros_and_its_reversal_keep_the_original(cast: Cast) -> None:
    client = signed_in(cast.finance)
    post(client, cast, action="allocate", amount="20000", memo="年度")
    assert (
        post(
            client,
            cast,
            action="adjust",
            amount="-100.5",
            currency="EUR",
            rate="7.8",
            memo="欧元削减",
        )
        == []
    )
    cut = LedgerEntry.objects.get(memo="欧元削减")
    assert (cut.amount, cut.original_amount) == (Decimal("-783.90"), Decimal("-100.50"))
    reversal = services.budget_reverse(entry=cut, user=cast.finance, memo="撤销")
    assert (reversal.amount, reversal.original_currency, reversal.original_amount) == (
        Decimal("783.90"),
        "EUR",
        Decimal("100.50"),
    )
    assert balance(cast.budget_a).allocated == Decimal("20100.00")


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"action": "allocate", "currency": "USD"}, "Enter the rate from USD to CNY."),
        ({"action": "allocate", "currency": "USD", "rate": "7e0"}, "at most six decimals"),
        ({"action": "allocate", "currency": "USD", "rate": "0"}, "greater than zero"),
        ({"action": "allocate", "currency": "USD", "rate": "-7"}, "at most six decimals"),
        ({"action": "allocate", "rate": "7.2"}, "only needed for another currency"),
        ({"action": "allocate", "currency": "CNY", "rate": "1"}, "only needed for another"),
        ({"action": "allocate", "currency": "US", "rate": "7"}, "three-letter currency code"),
        ({"action": "release_reserve", "currency": "USD", "rate": "7"}, "Only allocations"),
        ({"action": "allocate", "currency": "JPY", "rate": "0.000001"}, "not an amount"),
    ],
)
def test_bad_currency_input_is_refused_and_nothing_is_written(
    cast: Cast, data: dict[str, str], field_error: str
) -> None:
    before = LedgerEntry.objects.count()
    amount = "1" if data.get("currency") == "JPY" else "1000"  # 1 JPY at 0.000001: 0.00 CNY
    errors = post(signed_in(cast.finance), cast, amount=amount, memo="m", **data)
    assert LedgerEntry.objects.count() == before
    assert any(field_error in e for e in errors), errors


def test_the_base_currency_typed_out_is_just_the_base_currency(cast: Cast) -> None:
    assert (
        post(
            signed_in(cast.finance),
            cast,
            action="allocate",
            amount="5",
            currency="cny",
            memo="本币",
        )
        == []
    )
    entry = LedgerEntry.objects.get(memo="本币")
    assert (entry.amount, entry.original_currency, entry.rate) == (Decimal("5.00"), "", None)


def test_the_service_and_the_database_refuse_an_amount_that_is_not_the_conversion(
    cast: Cast,
) -> None:
    original = OriginalAmount("USD", Decimal("10.00"), Decimal("7.2"))
    with pytest.raises(ValidationError, match="times the rate"):
        services.budget_allocate(
            budget=cast.budget_a,
            amount=Decimal("72.01"),
            user=cast.finance,
            memo="m",
            original=original,
        )
    with pytest.raises(ValidationError, match="only when it differs"):
        services.budget_allocate(
            budget=cast.budget_a,
            amount=Decimal("10.00"),
            user=cast.finance,
            memo="m",
            original=OriginalAmount("CNY", Decimal("10.00"), Decimal("1")),
        )
    for fields in (
        {"amount": Decimal("72.01"), "original_currency": "USD", "original_amount": Decimal("10"), "rate": Decimal("7.2")},
        {"amount": Decimal("72.00"), "original_currency": "USD", "original_amount": Decimal("10")},
        {"amount": Decimal("72.00"), "original_currency": "", "original_amount": Decimal("10"), "rate": Decimal("7.2")},
        {"amount": Decimal("-72.00"), "original_currency": "USD", "original_amount": Decimal("-10"), "rate": Decimal("-7.2")},
    ):  # fmt: skip
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(budget=cast.budget_a, kind="adjustment", memo="m", **fields)
    LedgerEntry.objects.create(
        budget=cast.budget_a, kind="adjustment", memo="m", amount=Decimal("72.00"),
        original_currency="USD", original_amount=Decimal("10"), rate=Decimal("7.2"),
    )  # fmt: skip
