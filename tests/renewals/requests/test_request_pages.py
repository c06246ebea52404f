"""The renewal request pages: forms with hostile input, POST-only decisions, HTMX, the PDF."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from budgets import services as budget_services
from renewals.inventory.models import CurrencyRate
from renewals.requests import services
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def draft(cast: Cast) -> RenewalRequest:
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    return services.request_create(
        subscription=cast.subscription_a, user=cast.software_admin, justification="继续使用"
    )


def quote_data(**overrides: str) -> dict[str, str]:
    data = {
        "vendor_name": "ClickUp",
        "product": "ClickUp",
        "edition": "Business",
        "seats": "10",
        "unit_price": "84.00",
        "currency": "CNY",
        "rate_to_base": "",
        "billing_cycle": "monthly",
        "term_months": "12",
        "discount_percent": "",
        "one_off_fees": "",
        "price_increase_cap_percent": "5",
        "notes": "",
    }
    return data | overrides


def test_a_quote_is_added_and_compared(cast: Cast, draft: RenewalRequest) -> None:
    client = client_for(cast.software_admin)
    response = client.post(reverse("renewals:quote-add", args=[draft.pk]), quote_data())
    assert response.status_code == 302
    quote = Quote.objects.get(vendor_name="ClickUp")
    assert quote.seat_year_base == Decimal("1008.00")
    page = client.get(draft.get_absolute_url()).content.decode()
    assert "ClickUp" in page and "1,008.00" in page
    assert 'data-testid="cheapest"' in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unit_price", "5e4"),
        ("unit_price", "1,000"),
        ("unit_price", "NaN"),
        ("unit_price", "-0"),
        ("unit_price", "-5"),
        ("unit_price", "1234567890123456789012345"),
        ("seats", "-1"),
        ("seats", "99999999999"),
        ("currency", "usd$"),
        ("currency", "<script>"),
        ("discount_percent", "100"),
        ("discount_percent", "1e2"),
        ("price_increase_cap_percent", "101"),
        ("term_months", "0"),
        ("term_months", "121"),
        ("billing_cycle", "weekly"),
        ("vendor_name", "x" * 500),
    ],
)
def test_broken_quote_input_is_refused_and_writes_nothing(
    cast: Cast, draft: RenewalRequest, field: str, value: str
) -> None:
    client = client_for(cast.software_admin)
    before = Quote.objects.count()
    response = client.post(
        reverse("renewals:quote-add", args=[draft.pk]), quote_data(**{field: value})
    )
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode() or "alert" in response.content.decode()
    assert Quote.objects.count() == before


def test_a_foreign_currency_without_a_known_rate_asks_for_one(
    cast: Cast, draft: RenewalRequest
) -> None:
    """Rates come from the rates table: a typed one neither stands in for a missing rate nor
    overrides a recorded one (it is ignored)."""
    client = client_for(cast.software_admin)
    for typed in ("", "7.8"):
        response = client.post(
            reverse("renewals:quote-add", args=[draft.pk]),
            quote_data(currency="EUR", rate_to_base=typed),
        )
        assert response.status_code == 200 and not Quote.objects.filter(currency="EUR").exists()
    CurrencyRate.objects.create(
        currency="EUR", rate_to_base=Decimal("7.9"), valid_from=dt.date(2026, 1, 1)
    )
    response = client.post(
        reverse("renewals:quote-add", args=[draft.pk]),
        quote_data(currency="EUR", rate_to_base="7.8"),
    )
    assert response.status_code == 302
    quote = Quote.objects.get(currency="EUR")
    assert (quote.rate_to_base, quote.rate_valid_from) == (Decimal("7.9"), dt.date(2026, 1, 1))


@pytest.mark.parametrize("typed", ["0", "Infinity", "0.0001", "5e4"])
def test_a_typed_rate_is_ignored_not_stored(cast: Cast, draft: RenewalRequest, typed: str) -> None:
    """What used to be refused as a broken rate is now ignored: the form has no rate field."""
    response = client_for(cast.software_admin).post(
        reverse("renewals:quote-add", args=[draft.pk]), quote_data(rate_to_base=typed)
    )
    assert response.status_code == 302
    quote = Quote.objects.get(vendor_name="ClickUp")
    assert (quote.rate_to_base, quote.rate_valid_from) == (Decimal(1), None)


def test_hostile_text_is_stored_as_text_and_escaped(cast: Cast, draft: RenewalRequest) -> None:
    client = client_for(cast.software_admin)
    hostile = '<script>alert(1)</script>=HYPERLINK("http://x")'
    response = client.post(
        reverse("renewals:request-edit", args=[draft.pk]),
        {
            "purpose": "keep",
            "justification": hostile,
            "proposed_seats": "10",
            "proposed_modules": "Gantt, <b>mobile</b>",
            "proposed_edition": "",
            "proposed_term_start": "2027-01-01",
            "proposed_term_end": "2027-12-31",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.justification == hostile
    page = client.get(draft.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<b>mobile</b>" not in page


def test_an_oversized_justification_is_refused(cast: Cast, draft: RenewalRequest) -> None:
    client = client_for(cast.software_admin)
    response = client.post(
        reverse("renewals:request-edit", args=[draft.pk]),
        {
            "purpose": "keep",
            "justification": "长" * 5001,
            "proposed_seats": "10",
            "proposed_term_start": "2027-01-01",
            "proposed_term_end": "2027-12-31",
        },
    )
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.justification == "继续使用"


def test_a_term_that_ends_before_it_starts_is_refused(cast: Cast, draft: RenewalRequest) -> None:
    client = client_for(cast.software_admin)
    response = client.post(
        reverse("renewals:request-edit", args=[draft.pk]),
        {
            "purpose": "keep",
            "proposed_seats": "10",
            "proposed_term_start": "2027-12-31",
            "proposed_term_end": "2027-01-01",
        },
    )
    assert response.status_code == 200
    draft.refresh_from_db()
    assert str(draft.proposed_term_end) == "2027-12-31"


def test_approve_via_get_is_405(cast: Cast, draft: RenewalRequest) -> None:
    services.request_submit(request=draft, user=cast.software_admin)
    response = client_for(cast.head_a).get(reverse("renewals:request-decide", args=[draft.pk]))
    assert response.status_code == 405
    assert draft.steps.get().status == ApprovalStep.Status.PENDING


def test_extra_post_fields_are_ignored(cast: Cast, draft: RenewalRequest) -> None:
    client = client_for(cast.software_admin)
    sneaky = {
        "status": "approved",
        "approved_by": str(cast.software_admin.pk),
        "department": str(cast.dept_b.pk),
        "amount_base": "1",
        "amount": "1",
        "round": "9",
        "requested_by": str(cast.head_b.pk),
    }
    response = client.post(
        reverse("renewals:request-edit", args=[draft.pk]),
        {
            "purpose": "keep",
            "proposed_seats": "10",
            "proposed_term_start": "2027-01-01",
            "proposed_term_end": "2027-12-31",
            **sneaky,
        },
    )
    assert response.status_code == 302
    services.request_submit(request=draft, user=cast.software_admin)
    client_for(cast.head_a).post(
        reverse("renewals:request-decide", args=[draft.pk]),
        {"decision": "approve", "step": str(draft.steps.get().pk), **sneaky},
    )
    draft.refresh_from_db()
    assert draft.status == "approved" and draft.department == cast.dept_a
    assert draft.requested_by == cast.software_admin and draft.round == 1
    assert draft.amount_base == Decimal("10000.00")
    # After approval, an edit of the amount through the page is refused and changes nothing.
    response = client.post(
        reverse("renewals:quote-edit", args=[draft.pk, draft.chosen_quote_id]),
        quote_data(unit_price="1"),
    )
    draft.refresh_from_db()
    assert draft.amount_base == Decimal("10000.00") and draft.chosen_quote is not None
    assert draft.chosen_quote.unit_price == Decimal("1000.00")


def test_deciding_with_htmx_swaps_the_approval_panel(cast: Cast, draft: RenewalRequest) -> None:
    services.request_submit(request=draft, user=cast.software_admin)
    step = draft.steps.get()
    url = reverse("renewals:request-decide", args=[draft.pk])
    head = client_for(cast.head_a)
    response = head.post(url, {"decision": "approve", "step": step.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="approval-panel"') and "<html" not in body
    again = head.post(url, {"decision": "approve", "step": step.pk}, HTTP_HX_REQUEST="true")
    assert again.status_code == 409 and 'data-testid="decision-error"' in again.content.decode()


def test_the_inbox_lists_what_waits_for_me_only(cast: Cast, draft: RenewalRequest) -> None:
    services.request_submit(request=draft, user=cast.software_admin)
    mine = client_for(cast.head_a).get(reverse("renewals:approval-inbox")).content.decode()
    assert f">{draft.pk}<" in mine
    theirs = client_for(cast.head_b).get(reverse("renewals:approval-inbox")).content.decode()
    assert 'data-testid="inbox-empty"' in theirs
    finance = client_for(cast.finance).get(reverse("renewals:approval-inbox")).content.decode()
    assert 'data-testid="inbox-empty"' in finance  # below the tier: the head alone


def _pdf_text(response: Any) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_assessment_report_pdf_has_the_request_in_chinese_and_english(
    cast: Cast, draft: RenewalRequest
) -> None:
    services.quote_save(
        request=draft,
        user=cast.software_admin,
        data={
            "vendor_name": "禅道",
            "product": "禅道项目管理",
            "seats": 10,
            "unit_price": Decimal("600"),
        },
    )
    services.assessment_add(
        request=draft, user=cast.it_admin, perspective="it", recommendation="renew",
        comment="系统稳定，建议续费",
    )  # fmt: skip
    client = client_for(cast.head_a)
    response = client.get(reverse("renewals:request-pdf", args=[draft.pk]))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    text = _pdf_text(response)
    assert "续费必要性评估报告" in text
    assert "禅道项目管理" in text and "系统稳定，建议续费" in text
    assert "继续使用" in text and "研发中心 A" in text
    client.post(reverse("set-language"), {"language": "en", "next": "/"})
    english = _pdf_text(client.get(reverse("renewals:request-pdf", args=[draft.pk])))
    assert "Usage evidence" in english and "禅道项目管理" in english


def test_the_pdf_never_fetches_outside_static(cast: Cast, draft: RenewalRequest) -> None:
    from core.pdf import STATIC_DIR, static_only_fetcher

    fetcher = static_only_fetcher()
    outside = [
        "http://169.254.169.254/",
        "file:///etc/passwd",
        "https://example.com/x.png",
        (STATIC_DIR / ".." / "manage.py").as_uri(),
    ]
    for url in outside:
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    inside = fetcher.fetch((STATIC_DIR / "css" / "app.css").as_uri())
    assert inside is not None


def test_deciding_from_the_inbox_answers_in_the_row(cast: Cast, draft: RenewalRequest) -> None:
    services.request_submit(request=draft, user=cast.software_admin)
    step = draft.steps.get()
    url = reverse("renewals:request-decide", args=[draft.pk])
    head = client_for(cast.head_a)
    inbox = head.get(reverse("renewals:approval-inbox")).content.decode()
    assert 'data-testid="inbox-decision"' in inbox
    data = {"decision": "reject", "step": step.pk, "from": "inbox"}
    refused = head.post(url, data, HTTP_HX_REQUEST="true")  # no comment: refused, nothing decided
    assert refused.status_code == 403 and 'data-testid="inbox-result"' in refused.content.decode()
    assert draft.steps.get().status == ApprovalStep.Status.PENDING
    done = head.post(url, data | {"comment": "不需要"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and "<tr" not in done.content.decode()
    draft.refresh_from_db()
    assert draft.status == RenewalRequest.Status.REJECTED


def test_the_request_list_and_inbox_use_a_fixed_number_of_queries(cast: Cast) -> None:
    from tests.factories import SubscriptionFactory

    def make(count: int) -> None:
        for _ in range(count):
            subscription = SubscriptionFactory.create(department=cast.dept_a)
            request = services.request_create(subscription=subscription, user=cast.software_admin)
            services.request_submit(request=request, user=cast.software_admin)

    def counts() -> tuple[int, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        result = []
        for user, name in ((cast.it_admin, "request-list"), (cast.head_a, "approval-inbox")):
            client = client_for(user)
            client.get(reverse(f"renewals:{name}"))
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(reverse(f"renewals:{name}")).status_code == 200
            result.append(len(ctx.captured_queries))
        return result[0], result[1]

    make(2)
    few = counts()
    make(12)
    assert counts() == few
    page = client_for(cast.head_a).get(reverse("renewals:approval-inbox")).content.decode()
    assert page.count('data-testid="inbox-decision"') == 14


def test_the_request_list_escapes_what_it_shows(cast: Cast) -> None:
    cast.subscription_a.product = "<img src=x onerror=alert(1)>"
    cast.subscription_a.save()
    services.request_create(subscription=cast.subscription_a, user=cast.software_admin)
    page = client_for(cast.it_admin).get(reverse("renewals:request-list")).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
