"""Issue #16.1: the exchange rate decides the tier and the budget, so nobody types it.

A quote in another currency is converted with the rates table's rate (kept by finance, with its
date), recorded on the quote; a currency without a recorded rate is refused and nothing changes.
Tiers and the budget see the converted amount over the request's whole proposed term. One test
per path a rate or a term could come in by: the quote form, the service (scripts, the demo), the
API, the execution form, the model itself.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from budgets import services as budget_services
from budgets.models import LedgerEntry
from org import services as org_services
from org.models import User
from renewals.inventory.models import CurrencyRate, Subscription
from renewals.requests import services
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.factories import SubscriptionFactory

RATE_DAY = dt.date(2026, 1, 1)
FINANCE_TIER = ["department_head", "finance"]


@pytest.fixture
def funded(cast: Cast) -> Cast:
    """Department A has 100,000,000 CNY for 2027: every amount below fits, so a finance step
    comes from the tier alone."""
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("100000000"), user=cast.finance, memo="年度预算"
    )
    return cast


@pytest.fixture
def usd(db: None) -> CurrencyRate:
    return CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("7.2"), valid_from=RATE_DAY
    )


def page_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client(user: User, language: str = "en") -> Client:
    token = org_services.api_token_create(user=user)
    return Client(headers={"Authorization": f"Token {token}", "Accept-Language": language})


def api_post(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def quote_form(**overrides: str) -> dict[str, str]:
    data = {
        "vendor_name": "Acme", "product": "Acme Suite", "edition": "", "seats": "1",
        "unit_price": "2000000.00", "currency": "USD", "billing_cycle": "annual",
        "term_months": "12", "discount_percent": "", "one_off_fees": "",
        "price_increase_cap_percent": "", "notes": "",
    }  # fmt: skip
    return data | overrides


def roles_of(request: RenewalRequest) -> list[str]:
    steps = request.steps.filter(round=request.round).order_by("position")
    return list(steps.values_list("role", flat=True))


def add_quote_on_the_page(cast: Cast, request: RenewalRequest, **fields: str) -> Quote:
    """Add a quote through the form, choose it and submit the request through the pages."""
    client = page_client(cast.software_admin)
    response = client.post(reverse("renewals:quote-add", args=[request.pk]), quote_form(**fields))
    assert response.status_code == 302, response.content.decode()[:3000]
    quote = Quote.objects.filter(request=request).latest("pk")
    client.post(reverse("renewals:quote-choose", args=[request.pk, quote.pk]))
    client.post(reverse("renewals:request-submit", args=[request.pk]))
    quote.refresh_from_db()
    return quote


def approve_all(cast: Cast, request: RenewalRequest) -> None:
    for user in (cast.head_a, cast.finance):
        request.refresh_from_db()
        if request.status in RenewalRequest.DECIDING:
            services.step_decide(request=request, user=user, decision="approve")
    request.refresh_from_db()


# --- the quote form ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["0.0001", "0", "Infinity", "7.2", "1"])
def test_a_rate_typed_into_the_quote_form_is_ignored_and_routes_to_finance(
    funded: Cast, usd: CurrencyRate, typed: str
) -> None:
    # 2,000,000 USD with 0.0001 typed was 200 CNY: one head signature, 200 CNY committed.
    request = services.request_create(
        subscription=funded.subscription_a, user=funded.software_admin
    )
    quote = add_quote_on_the_page(funded, request, rate_to_base=typed)
    request.refresh_from_db()
    assert request.amount_base == Decimal("14400000.00")
    assert (quote.rate_to_base, quote.rate_valid_from) == (Decimal("7.2"), RATE_DAY)
    assert (request.rate_to_base, request.rate_valid_from) == (Decimal("7.2"), RATE_DAY)
    assert request.budget_fit == "fits"  # the finance step comes from the tier
    assert roles_of(request) == FINANCE_TIER
    approve_all(funded, request)
    commitment = LedgerEntry.objects.get(reference=request.budget_reference, kind="commitment")
    assert commitment.amount == Decimal("14400000.00")


def test_a_currency_without_a_recorded_rate_is_refused_on_the_form(
    funded: Cast,
) -> None:
    request = services.request_create(
        subscription=funded.subscription_a, user=funded.software_admin
    )
    before = Quote.objects.count()
    response = page_client(funded.software_admin).post(
        reverse("renewals:quote-add", args=[request.pk]),
        quote_form(currency="EUR", rate_to_base="7.8"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "No exchange rate for EUR is recorded in the rates table" in response.content.decode()
    assert Quote.objects.count() == before


def test_49999_for_one_month_counts_the_whole_proposed_year(funded: Cast) -> None:
    # A 1-month quote on a request proposing 12 months: ~600,000 a year, not 49,999.
    request = services.request_create(
        subscription=funded.subscription_a, user=funded.software_admin
    )
    add_quote_on_the_page(
        funded, request, currency="CNY", unit_price="49999.00", billing_cycle="monthly",
        term_months="1",
    )  # fmt: skip
    request.refresh_from_db()
    assert request.amount_base == Decimal("599988.00")  # 49,999 × 12
    assert roles_of(request) == FINANCE_TIER
    approve_all(funded, request)
    commitment = LedgerEntry.objects.get(reference=request.budget_reference, kind="commitment")
    assert commitment.amount == Decimal("599988.00")


def test_one_off_fees_count_once_and_a_longer_quote_counts_its_own_term(funded: Cast) -> None:
    request = services.request_create(
        subscription=funded.subscription_a, user=funded.software_admin
    )
    quarter = Quote(
        request=request, vendor_name="A", product="A", seats=2, unit_price=Decimal("1000"),
        billing_cycle="quarterly", term_months=3, one_off_fees=Decimal("500"),
        discount_percent=Decimal("10"),
    )  # fmt: skip
    # 2 × 1000 a quarter, −10%: 1,800 a quarter, 7,200 over 12 months; the fee once.
    assert quarter.amount_over(12) == Decimal("7700.00")
    three_years = Quote(
        request=request, vendor_name="B", product="B", seats=1, unit_price=Decimal("90000"),
        billing_cycle="multi_year", term_months=36,
    )  # fmt: skip
    # The vendor binds 36 months: never less than what the quote itself costs.
    assert three_years.amount_over(12) == Decimal("90000.00")
    assert three_years.amount_over(48) == Decimal("120000.00")


# --- the service (scripts, the demo, any other caller) ------------------------------------------


def test_the_service_ignores_a_rate_in_its_data(funded: Cast, usd: CurrencyRate) -> None:
    request = services.request_create(
        subscription=funded.subscription_a, user=funded.software_admin
    )
    quote = services.quote_save(
        request=request, user=funded.software_admin, quote=request.chosen_quote,
        data={"currency": "USD", "rate_to_base": Decimal("0.0001"), "seats": 1,
              "unit_price": Decimal("10000"), "rate_valid_from": dt.date(2020, 1, 1)},
    )  # fmt: skip
    services.request_submit(request=request, user=funded.software_admin)
    request.refresh_from_db()
    assert request.amount_base == Decimal("72000.00")
    assert roles_of(request) == FINANCE_TIER
    quote.refresh_from_db()
    assert (quote.rate_to_base, quote.rate_valid_from) == (Decimal("7.2"), RATE_DAY)


def test_submission_takes_todays_rate_and_records_it(funded: Cast, usd: CurrencyRate) -> None:
    request = services.request_create(
        subscription=funded.subscription_a, user=funded.software_admin
    )
    services.quote_save(
        request=request, user=funded.software_admin, quote=request.chosen_quote,
        data={"currency": "USD", "seats": 1, "unit_price": Decimal("1000")},
    )  # fmt: skip
    # Finance records a newer rate after the quote was saved: the submission uses it.
    CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("7.3"), valid_from=dt.date(2026, 6, 1)
    )
    CurrencyRate.objects.create(  # not valid yet on the day of submission
        currency="USD", rate_to_base=Decimal("1"), valid_from=dt.date(2026, 7, 1)
    )
    services.request_submit(request=request, user=funded.software_admin, today=dt.date(2026, 6, 15))
    request.refresh_from_db()
    quote = request.chosen_quote
    assert quote is not None
    assert (quote.rate_to_base, quote.rate_valid_from) == (Decimal("7.3"), dt.date(2026, 6, 1))
    assert (request.rate_to_base, request.rate_valid_from) == (Decimal("7.3"), dt.date(2026, 6, 1))
    assert request.amount_base == Decimal("7300.00")


def test_a_rate_gone_from_the_table_refuses_the_submission_and_changes_nothing(
    funded: Cast, usd: CurrencyRate
) -> None:
    request = services.request_create(
        subscription=funded.subscription_a, user=funded.software_admin
    )
    services.quote_save(
        request=request, user=funded.software_admin, quote=request.chosen_quote,
        data={"currency": "USD", "seats": 1, "unit_price": Decimal("1000")},
    )  # fmt: skip
    usd.delete()
    with pytest.raises(ValidationError) as refused:
        services.request_submit(request=request, user=funded.software_admin)
    assert refused.value.code == "no_rate"
    request.refresh_from_db()
    assert (request.status, request.round, request.amount_base) == ("draft", 0, None)
    assert not request.steps.exists()


def test_a_request_for_a_currency_without_a_rate_is_not_opened(cast: Cast) -> None:
    """The incumbent's quote took a rate of 1 when the table had none: 1 USD counted as 1 CNY."""
    subscription = SubscriptionFactory.create(department=cast.dept_a, currency="USD")
    with pytest.raises(ValidationError, match="USD"):
        services.request_create(subscription=subscription, user=cast.software_admin)
    assert not RenewalRequest.objects.filter(subscription=subscription).exists()
    assert not Quote.objects.filter(request__subscription=subscription).exists()


# --- the model: any other writer (admin, shell, a future import) ----------------------------------


def test_a_quote_whose_rate_is_not_a_row_of_the_table_is_invalid(
    funded: Cast, usd: CurrencyRate
) -> None:
    request = services.request_create(
        subscription=funded.subscription_a, user=funded.software_admin
    )
    fields = dict(request=request, vendor_name="X", product="X", seats=1, unit_price=Decimal(1))
    for currency, rate, day in (
        ("USD", Decimal("0.0001"), RATE_DAY),
        ("USD", Decimal("7.2"), None),
        ("USD", Decimal("7.2"), dt.date(2026, 1, 2)),
        ("CNY", Decimal("0.0001"), None),
    ):
        quote = Quote(currency=currency, rate_to_base=rate, rate_valid_from=day, **fields)
        with translation.override("en"), pytest.raises(ValidationError, match="rates table"):
            quote.full_clean()
    Quote(
        currency="USD", rate_to_base=Decimal("7.2"), rate_valid_from=RATE_DAY, **fields
    ).full_clean()


# --- the API ----------------------------------------------------------------------------------


def test_the_api_refuses_a_currency_without_a_rate_and_ignores_a_typed_one(
    funded: Cast,
) -> None:
    subscription = SubscriptionFactory.create(
        department=funded.dept_a, currency="USD", seats_purchased=1,
        unit_price=Decimal("2000000.00"), billing_cycle="annual",
    )  # fmt: skip
    client = api_client(funded.software_admin)
    url = reverse("api:request-list")
    body = {"subscription": subscription.pk, "rate_to_base": "0.0001", "amount_base": "200"}
    refused = api_post(client, url, body)
    assert refused.status_code == 400, refused.content
    assert "No exchange rate for USD is recorded in the rates table" in refused.content.decode()
    assert not RenewalRequest.objects.filter(subscription=subscription).exists()
    CurrencyRate.objects.create(currency="USD", rate_to_base=Decimal("7.2"), valid_from=RATE_DAY)
    opened = api_post(client, url, body)
    assert opened.status_code == 201, opened.content
    pk = opened.json()["id"]
    submitted = api_post(client, reverse("api:request-submit", args=[pk]), {})
    assert submitted.status_code == 200, submitted.content
    data = submitted.json()
    assert Decimal(data["amount_base"]) == Decimal("14400000.00")
    assert (Decimal(data["rate_to_base"]), data["rate_valid_from"]) == (
        Decimal("7.2"),
        "2026-01-01",
    )
    assert roles_of(RenewalRequest.objects.get(pk=pk)) == FINANCE_TIER


def test_a_term_stretched_through_the_api_counts_in_full(funded: Cast) -> None:
    # The incumbent's quote covers 12 months at 20,000 a year; the request, changed through the
    # API, proposes three years: 60,000 is what tiers and the budget see.
    subscription = SubscriptionFactory.create(
        department=funded.dept_a, seats_purchased=1, unit_price=Decimal("20000.00")
    )
    client = api_client(funded.software_admin)
    opened = api_post(client, reverse("api:request-list"), {"subscription": subscription.pk})
    assert opened.status_code == 201, opened.content
    pk = opened.json()["id"]
    changed = client.patch(
        reverse("api:request-detail", args=[pk]),
        json.dumps({"proposed_term_end": "2029-12-31"}),
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    submitted = api_post(client, reverse("api:request-submit", args=[pk]), {})
    assert submitted.status_code == 200, submitted.content
    assert Decimal(submitted.json()["amount_base"]) == Decimal("60000.00")
    assert roles_of(RenewalRequest.objects.get(pk=pk)) == FINANCE_TIER


# --- execution --------------------------------------------------------------------------------


def test_the_execution_form_converts_the_invoice_with_the_recorded_rate(
    funded: Cast, usd: CurrencyRate
) -> None:
    request = services.request_create(
        subscription=funded.subscription_a, user=funded.software_admin
    )
    add_quote_on_the_page(funded, request, unit_price="10000.00")  # 72,000 CNY committed
    approve_all(funded, request)
    assert request.status == RenewalRequest.Status.APPROVED
    # The invoice says 10,500 USD; 0.0001 typed as its rate is not used.
    client = page_client(funded.finance)
    form = client.get(reverse("renewals:request-execute", args=[request.pk])).context["form"]
    data = {name: form[name].value() for name in form.fields} | {
        "order_ref": "PO-9", "actual_amount": "10500.00", "actual_currency": "USD",
        "rate_to_base": "0.0001", "modules-TOTAL_FORMS": "0", "modules-INITIAL_FORMS": "0",
    }  # fmt: skip
    data = {k: ("" if v is None else str(v)) for k, v in data.items()}
    response = client.post(reverse("renewals:request-execute", args=[request.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    request.refresh_from_db()
    assert request.actual_amount_base == Decimal("75600.00")  # 10,500 × 7.2
    actual = LedgerEntry.objects.get(reference=request.budget_reference, kind="actual")
    assert actual.amount == Decimal("75600.00")  # 3,600 more than committed, booked here
    assert Subscription.objects.get(pk=funded.subscription_a.pk).currency == "USD"
