"""#15 points 1-3: execution carries what was chosen, quotes compare like for like (modules
included), the term history shows what was paid; and who may change or cancel a request."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from budgets import services as budget_services
from budgets.models import Budget, LedgerEntry
from renewals.execution import services as execution_services
from renewals.inventory.models import CurrencyRate, Subscription, SubscriptionTerm
from renewals.inventory.selectors import with_figures
from renewals.inventory.services import ModuleLine
from renewals.requests import services
from renewals.requests.models.quotes import Quote, QuoteModule
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.renewals.conftest import Inventory


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def jira_request(cast: Cast, inventory: Inventory) -> RenewalRequest:
    """A draft for Jira (10 seats × 8.00 USD a month, module Gantt 2.00 USD, USD at 7.2)."""
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    return services.request_create(subscription=inventory.jira, user=cast.software_admin)


def premium_cny(cast: Cast, request: RenewalRequest, **extra: Any) -> Quote:
    """A "Jira Premium, CNY, annual" quote with the module at today's price converted."""
    quote = services.quote_save(
        request=request,
        user=cast.software_admin,
        data={
            "vendor_name": "Atlassian", "product": "Jira", "edition": "Premium", "seats": 10,
            "unit_price": Decimal("900.00"), "currency": "CNY",
            "billing_cycle": "annual", "term_months": 12,
        } | extra,
        modules=[ModuleLine(name="Gantt")],
    )  # fmt: skip
    services.quote_choose(request=request, user=cast.software_admin, quote=quote)
    return quote


def approved(cast: Cast, request: RenewalRequest) -> RenewalRequest:
    services.request_submit(request=request, user=cast.software_admin)
    services.step_decide(request=request, user=cast.head_a, decision="approve")
    request.refresh_from_db()
    if request.status != RenewalRequest.Status.APPROVED:  # a finance step for larger amounts
        services.step_decide(request=request, user=cast.finance, decision="approve")
        request.refresh_from_db()
    assert request.status == RenewalRequest.Status.APPROVED
    return request


def execute(cast: Cast, request: RenewalRequest, **extra: Any) -> RenewalRequest:
    kwargs: dict[str, Any] = dict(
        order_ref="PO-2027-7", fapiao_no="FP-2027-8", actual_amount=Decimal("10500.00"),
        actual_currency="CNY", term_start=dt.date(2027, 3, 1),
        term_end=dt.date(2028, 2, 29), seats=10, edition="Premium",
        modules=[ModuleLine(name="Gantt")],
    )  # fmt: skip
    return execution_services.request_execute(
        request=request, user=cast.finance, **(kwargs | extra)
    )


# --- 2. like-for-like quotes --------------------------------------------------------------------


def test_the_incumbents_quote_includes_the_priced_modules_and_costs_the_yearly_cost(
    jira_request: RenewalRequest, inventory: Inventory
) -> None:
    incumbent = jira_request.chosen_quote
    assert incumbent is not None
    assert [(m.name, m.unit_price, m.seats) for m in incumbent.modules.all()] == [
        ("Gantt", Decimal("2.00"), None)
    ]
    yearly = with_figures(Subscription.objects.filter(pk=inventory.jira.pk)).get().annual_cost
    # (10 × 8.00 + 10 × 2.00) USD × 12 months × 7.2 = 8,640.00 CNY (without Gantt: 6,912.00).
    assert yearly == Decimal("8640.00")
    assert incumbent.total_1y_base == yearly
    assert incumbent.term_amount == Decimal("1200.00")


def test_a_quoted_module_without_a_price_takes_todays_price_converted(
    cast: Cast, jira_request: RenewalRequest
) -> None:
    quote = premium_cny(cast, jira_request)
    # 2.00 USD a seat a month at the recorded 7.2 is 14.40 CNY a month: 172.80 a year.
    assert [(m.name, m.unit_price) for m in quote.modules.all()] == [("Gantt", Decimal("172.80"))]
    # The comparison counts it: 10 × 900 + 10 × 172.80 a year.
    assert quote.total_1y_base == Decimal("10728.00")


def test_the_comparison_says_what_each_quote_includes(
    cast: Cast, jira_request: RenewalRequest
) -> None:
    premium_cny(cast, jira_request)
    with translation.override("en"):
        page = client_for(cast.software_admin).get(jira_request.get_absolute_url())
    text = page.content.decode()
    assert text.count('data-testid="quote-includes"') == 2
    assert "Premium" in text and "Gantt (172.80 CNY)" in text and "Gantt (2.00 USD)" in text


def test_hostile_quote_module_input_is_refused_and_nothing_is_written(
    cast: Cast, jira_request: RenewalRequest
) -> None:
    client = client_for(cast.software_admin)
    url = reverse("renewals:quote-add", args=[jira_request.pk])
    base = {
        "vendor_name": "Atlassian", "product": "Jira", "edition": "Premium", "seats": "10",
        "unit_price": "900", "currency": "CNY", "billing_cycle": "annual", "term_months": "12",
        "modules-INITIAL_FORMS": "0", "modules-MIN_NUM_FORMS": "0", "modules-MAX_NUM_FORMS": "50",
    }  # fmt: skip
    hostile: list[dict[str, str]] = [
        {"modules-TOTAL_FORMS": "100000", "modules-0-name": "A"},
        {"modules-TOTAL_FORMS": "abc"},
        {"modules-TOTAL_FORMS": "1", "modules-0-name": "x" * 81, "modules-0-unit_price": "1"},
        {"modules-TOTAL_FORMS": "1", "modules-0-name": "A", "modules-0-unit_price": "1e5"},
        {"modules-TOTAL_FORMS": "1", "modules-0-name": "A", "modules-0-unit_price": "-1"},
        {"modules-TOTAL_FORMS": "1", "modules-0-name": "A", "modules-0-unit_price": "NaN"},
        {"modules-TOTAL_FORMS": "1", "modules-0-name": "A\x00", "modules-0-unit_price": "1"},
        {"modules-TOTAL_FORMS": "1", "modules-0-name": "A", "modules-0-seats": "-3",
         "modules-0-unit_price": "1"},
        {"modules-TOTAL_FORMS": "1", "modules-0-unit_price": "5"},  # a price without a name
        {"modules-TOTAL_FORMS": "2", "modules-0-name": "Gantt", "modules-0-unit_price": "1",
         "modules-1-name": "gantt", "modules-1-unit_price": "2"},
        # Not a module of the subscription and no price: nothing to convert from.
        {"modules-TOTAL_FORMS": "1", "modules-0-name": "Unknown add-on"},
    ]  # fmt: skip
    before = (Quote.objects.count(), QuoteModule.objects.count())
    with translation.override("zh-hans"):
        for extra in hostile:
            response = client.post(url, base | extra, HTTP_ACCEPT_LANGUAGE="zh-hans")
            assert response.status_code == 200, extra
            assert (Quote.objects.count(), QuoteModule.objects.count()) == before, extra
    # The last one is refused by the service, in the reader's language, with nothing written.
    assert "Unknown add-on" in response.content.decode()
    assert "请输入模块" in response.content.decode()


# --- 1. execution carries what was chosen ----------------------------------------------------


def test_the_execution_form_starts_from_the_chosen_quote(
    cast: Cast, jira_request: RenewalRequest, inventory: Inventory
) -> None:
    quote = premium_cny(cast, jira_request)
    request = approved(cast, jira_request)
    response = client_for(cast.finance).get(reverse("renewals:request-execute", args=[request.pk]))
    initial = response.context["form"].initial
    assert {k: initial[k] for k in ("edition", "seats", "unit_price", "currency")} == {
        "edition": "Premium",
        "seats": 10,
        "unit_price": quote.unit_price,
        "currency": "CNY",
    }
    assert initial["billing_cycle"] == "annual"
    # The quote's 12 months after the current term's end (2027-02-28).
    assert (initial["term_start"], initial["term_end"]) == (
        dt.date(2027, 3, 1),
        dt.date(2028, 2, 29),
    )
    assert initial["actual_amount"] == quote.term_amount
    rows = response.context["modules"].initial
    assert rows == [{"name": "Gantt", "unit_price": Decimal("172.80"), "seats": None}]
    # Saved unchanged, the page records exactly the quote.
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields} | {
        "order_ref": "PO-1",
        "modules-TOTAL_FORMS": "1",
        "modules-INITIAL_FORMS": "1",
        "modules-0-name": "Gantt",
        "modules-0-unit_price": "172.80",
    }
    data = {k: ("" if v is None else str(v)) for k, v in data.items()}
    response = client_for(cast.finance).post(
        reverse("renewals:request-execute", args=[request.pk]), data
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    jira = Subscription.objects.get(pk=inventory.jira.pk)
    assert (jira.edition, jira.currency, jira.unit_price, jira.billing_cycle) == (
        "Premium",
        "CNY",
        Decimal("900.00"),
        "annual",
    )
    assert jira.modules.get(name="Gantt").unit_price == Decimal("172.80")


def test_a_currency_change_converts_every_price_with_the_recorded_rate(
    cast: Cast, jira_request: RenewalRequest, inventory: Inventory
) -> None:
    mobile = inventory.jira.modules.create(name="Mobile", unit_price=Decimal("1.00"))
    request = approved(cast, jira_request)
    # The chosen quote is the incumbent's (USD); the execution moves to CNY and keeps Gantt at
    # its current price, dropping Mobile: both are converted at 7.2, none relabelled.
    execute(
        cast, request, currency="CNY", unit_price=Decimal("60.00"), billing_cycle="monthly",
        modules=[ModuleLine(name="Gantt")],
    )  # fmt: skip
    jira = Subscription.objects.get(pk=inventory.jira.pk)
    assert (jira.currency, jira.unit_price) == ("CNY", Decimal("60.00"))
    assert jira.modules.get(name="Gantt").unit_price == Decimal("14.40")
    mobile.refresh_from_db()
    assert (mobile.unit_price, mobile.licensed_seats) == (Decimal("7.20"), 0)
    # The yearly cost keeps the module: (10 × 60 + 10 × 14.40) × 12.
    assert jira.modules_cost == Decimal("144.00")


def test_a_missing_rate_is_refused_and_nothing_changes(
    cast: Cast, jira_request: RenewalRequest, inventory: Inventory
) -> None:
    request = approved(cast, jira_request)
    Subscription.objects.filter(pk=inventory.jira.pk).update(currency="EUR")  # no EUR rate
    before = Subscription.objects.get(pk=inventory.jira.pk)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        execute(cast, request, currency="CNY", unit_price=Decimal("60.00"))
    assert "EUR" in str(refused.value) and "汇率" in str(refused.value)
    after = Subscription.objects.get(pk=inventory.jira.pk)
    assert (after.currency, after.unit_price, after.edition, after.term_start) == (
        before.currency,
        before.unit_price,
        before.edition,
        before.term_start,
    )
    assert inventory.jira.modules.get(name="Gantt").unit_price == Decimal("2.00")
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.APPROVED
    assert not SubscriptionTerm.objects.filter(subscription=inventory.jira).exists()
    assert not LedgerEntry.objects.filter(reference=request.budget_reference, kind="actual")


def test_the_chosen_edition_is_never_wiped(
    cast: Cast, jira_request: RenewalRequest, inventory: Inventory
) -> None:
    # A quote naming the product but no edition: the form keeps the proposal's "Standard".
    inventory.jira.edition = "Standard"
    inventory.jira.save()
    jira_request.proposed_edition = "Standard"
    jira_request.save()
    request = approved(cast, jira_request)
    response = client_for(cast.finance).get(reverse("renewals:request-execute", args=[request.pk]))
    assert response.context["form"].initial["edition"] == "Standard"


# --- 3. the term history shows what was paid -------------------------------------------------


def test_the_term_history_shows_the_actual_order_and_fapiao(
    cast: Cast, jira_request: RenewalRequest, inventory: Inventory
) -> None:
    premium_cny(cast, jira_request)
    execute(cast, approved(cast, jira_request))
    # Monthly in USD to annual in CNY: the module kept at its price moves to both (2.00 × 7.2
    # × 12), the one not listed stays converted too.
    assert inventory.jira.modules.get(name="Gantt").unit_price == Decimal("172.80")
    page = client_for(cast.it_admin).get(inventory.jira.get_absolute_url())
    table = page.content.decode().split('data-testid="term-table"')[1].split("</table>")[0]
    current = table.split("<tr")[2]  # the header row first, then the current term
    assert "10,500.00 CNY" in current.replace("10500.00", "10,500.00")
    assert "PO-2027-7" in current and "FP-2027-8" in current
    # The next execution archives the term with what was paid for it.
    budget_services.budget_allocate(
        budget=Budget.objects.create(department=cast.dept_a, year=2028),
        amount=Decimal("1000000"), user=cast.finance, memo="2028",
    )  # fmt: skip
    second = services.request_create(subscription=inventory.jira, user=cast.software_admin)
    second = approved(cast, second)
    execute(
        cast, second, order_ref="PO-2028-1", fapiao_no="FP-2028-1",
        term_start=dt.date(2028, 3, 1), term_end=dt.date(2029, 2, 28),
    )  # fmt: skip
    past = SubscriptionTerm.objects.get(subscription=inventory.jira, term_start=dt.date(2027, 3, 1))
    assert (past.actual_amount, past.actual_currency, past.order_ref, past.fapiao_no) == (
        Decimal("10500.00"),
        "CNY",
        "PO-2027-7",
        "FP-2027-8",
    )
    page = client_for(cast.it_admin).get(inventory.jira.get_absolute_url())
    assert "FP-2027-8" in page.content.decode() and "FP-2028-1" in page.content.decode()


# --- 15. purchase order wording; who may change or cancel --------------------------------------


def test_the_purchase_order_is_called_an_order_in_chinese(
    cast: Cast, jira_request: RenewalRequest
) -> None:
    execute(cast, approved(cast, jira_request))
    page = client_for(cast.finance).get(
        jira_request.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    execution = page.content.decode().split('data-testid="execution"')[1].split("</dd>")[0]
    assert "订单号 PO-2027-7" in execution and "顺序" not in execution


def test_an_approver_neither_sees_nor_uses_edit_and_cancel_on_someone_elses_request(
    cast: Cast, jira_request: RenewalRequest
) -> None:
    services.request_submit(request=jira_request, user=cast.software_admin)
    head = client_for(cast.head_a)
    page = head.get(jira_request.get_absolute_url()).content.decode()
    assert 'data-testid="edit"' not in page and 'data-testid="cancel"' not in page
    assert head.get(reverse("renewals:request-edit", args=[jira_request.pk])).status_code == 403
    response = head.post(
        reverse("renewals:request-cancel", args=[jira_request.pk]), {"reason": "不需要"}
    )
    assert response.status_code == 403
    jira_request.refresh_from_db()
    assert jira_request.status == RenewalRequest.Status.SUBMITTED
    # The requester and IT admins still may.
    for user in (cast.software_admin, cast.it_admin):
        page = client_for(user).get(jira_request.get_absolute_url()).content.decode()
        assert 'data-testid="edit"' in page and 'data-testid="cancel"' in page


def test_a_rate_recorded_later_than_today_is_not_used(cast: Cast) -> None:
    from renewals.requests.services.pricing import recorded_rate

    CurrencyRate.objects.create(
        currency="GBP", rate_to_base=Decimal("9.1"), valid_from=dt.date(2999, 1, 1)
    )
    with pytest.raises(ValidationError):
        recorded_rate("GBP")


def test_the_api_shows_each_quote_with_its_modules_and_totals(
    cast: Cast, jira_request: RenewalRequest
) -> None:
    from tests.api.helpers import api

    quote = premium_cny(cast, jira_request)
    body = api(cast.software_admin).get(f"/api/v1/requests/{jira_request.pk}/").json()
    quotes = {q["id"]: q for q in body["quotes"]}
    assert quotes[quote.pk]["modules"] == [{"name": "Gantt", "unit_price": "172.80", "seats": None}]
    assert quotes[quote.pk]["chosen"] is True and quotes[quote.pk]["edition"] == "Premium"
    assert quotes[quote.pk]["total_1y_base"] == "10728.00"
    incumbent = next(q for q in body["quotes"] if q["is_incumbent"])
    assert incumbent["total_1y_base"] == "8640.00" and not incumbent["chosen"]
