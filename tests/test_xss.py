"""Stored XSS: hostile text in every free-text field a user can set is shown as text on the pages,
in the Django admin, in HTML e-mails, in chat messages and in PDFs (which fetch nothing).
That no template or Python module marks user data safe outside an explicit allowlist:
tests/test_xss_safe_marking.py; CSV/XLSX exports: tests/test_xss_exports.py."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from budgets.models import LedgerEntry
from contracts.services import contract_save
from org import services as org_services
from org.models import Department, Person
from renewals.cleanup import services as cleanup_services
from renewals.cleanup.models import CleanupItem
from renewals.inventory.models import Module, Subscription, Vendor
from renewals.notify import webhooks
from renewals.notify.models import ChatChannel
from renewals.requests import services as request_services
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest, RequestEvent
from renewals.risks import services as risk_services
from renewals.suggestions import services as suggestion_services
from renewals.suggestions.models import Suggestion
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.xss_helpers import ESCAPED, JS, SHORT, P, assert_inert, client_for


class Hostile:
    """One object of each kind with the payload in every free-text field."""

    def __init__(self, cast: Cast) -> None:
        Department.objects.filter(pk=cast.dept_a.pk).update(name=P)
        cast.dept_a.refresh_from_db()
        Person.objects.filter(pk=cast.person_a.pk).update(name=P)
        # A website is set in the admin only, whose URL field refuses javascript: (see below); a
        # quote breaking out of the link's attribute is tried instead.
        self.vendor = Vendor.objects.create(
            name=P, website='https://example.com/"><script>alert(1)</script>', contacts=P, notes=P
        )
        sub = cast.subscription_a
        Subscription.objects.filter(pk=sub.pk).update(
            vendor=self.vendor, product=P, edition=P[:80], notes=P, tags=[SHORT]
        )
        sub.refresh_from_db()
        self.subscription = sub
        Module.objects.create(subscription=sub, name=P[:80])
        Seat.objects.create(
            subscription=sub, person=cast.person_a, assigned_on=date(2026, 1, 1), account=P[:80]
        )
        self.request = request_services.request_create(
            subscription=sub, user=cast.software_admin, justification=P
        )
        RenewalRequest.objects.filter(pk=self.request.pk).update(
            proposed_edition=P[:80], proposed_modules=[P[:80]]
        )
        Quote.objects.filter(request=self.request).update(
            vendor_name=P, product=P, edition=P[:80], notes=P
        )
        request_services.quote_save(
            request=self.request,
            user=cast.software_admin,
            data={"vendor_name": P, "product": P, "seats": 5, "unit_price": Decimal("10"),
                  "notes": P},
        )  # fmt: skip
        request_services.assessment_add(
            request=self.request, user=cast.it_admin, perspective="it", recommendation="renew",
            comment=P,
        )  # fmt: skip
        RequestEvent.objects.filter(request=self.request).update(note=P)
        self.contract = contract_save(
            user=cast.it_admin,
            subscription=sub,
            data={"number": P[:80], "counterparty": P, "valid_from": date(2026, 1, 1),
                  "valid_to": date(2027, 12, 31), "total_value": 1, "price_terms": P,
                  "auto_renew_clause": P, "payment_terms": P, "tags": [SHORT]},
        )  # fmt: skip
        self.risk = risk_services.risk_create(
            user=cast.it_admin,
            data={"category": "other", "title": P, "likelihood": 5, "impact": 5,
                  "department": cast.dept_a, "mitigation": P, "description": P},
        )  # fmt: skip
        self.suggestion = suggestion_services.suggestion_submit(
            user=cast.head_a, subscription=sub, title=P, details=P
        )
        Suggestion.objects.filter(pk=self.suggestion.pk).update(decision_note=P)
        ChatChannel.objects.filter(pk=cast.chat_channel.pk).update(name=P[:80])
        LedgerEntry.objects.create(budget=cast.budget_a, kind="adjustment", amount=1, memo=P, reference=P)  # fmt: skip
        cast.person_a.refresh_from_db()
        Person.objects.filter(pk=cast.person_a.pk).update(left_on=date(2026, 2, 1), status="left")
        self.campaign = cleanup_services.campaign_open(
            user=cast.finance, name=P, due_on=timezone.localdate() + timedelta(days=30)
        )
        CleanupItem.objects.filter(campaign=self.campaign).update(keep_reason=P)


@pytest.fixture
def hostile(cast: Cast) -> Hostile:
    return Hostile(cast)


# --- pages -----------------------------------------------------------------------------------


def test_pages_show_the_payload_as_text(cast: Cast, hostile: Hostile) -> None:
    pages = [
        ("renewals:subscription-list", []),
        ("renewals:subscription-detail", [hostile.subscription.pk]),
        ("renewals:subscription-edit", [hostile.subscription.pk]),
        ("renewals:vendor-list", []),
        ("renewals:vendor-detail", [hostile.vendor.pk]),
        ("renewals:person-detail", [cast.person_a.pk]),
        ("renewals:request-list", []),
        ("renewals:request-detail", [hostile.request.pk]),
        ("renewals:risk-list", []),
        ("renewals:risk-detail", [hostile.risk.pk]),
        ("renewals:suggestion-list", []),
        ("renewals:suggestion-detail", [hostile.suggestion.pk]),
        ("renewals:channel-list", []),
        ("renewals:cleanup-list", []),
        ("renewals:cleanup-detail", [hostile.campaign.pk]),
        ("contracts:contract-list", []),
        ("contracts:contract-detail", [hostile.contract.pk]),
        ("org:department-list", []),
        ("org:department-detail", [cast.dept_a.pk]),
        ("org:person-list", []),
        ("budgets:overview", []),
        ("budgets:budget-detail", [cast.budget_a.pk]),
    ]
    client = client_for(cast.it_admin)
    for name, args in pages:
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert_inert(html, name)
        assert ESCAPED in html, f"{name} does not show the hostile text"
    for user, name in [(cast.head_a, "renewals:approval-inbox"), (cast.head_a, "home")]:
        html = client_for(user).get(reverse(name)).content.decode()
        assert_inert(html, name)


def test_a_stale_edit_shows_the_changed_values_as_text(cast: Cast, hostile: Hostile) -> None:
    """The "changed since you opened it" table names what someone else wrote: as text."""
    from renewals.inventory.policy import FULL_FIELDS
    from tests.renewals.inventory.conftest import edit_data

    sub = hostile.subscription
    Subscription.objects.filter(pk=sub.pk).update(notes="")
    data = edit_data(sub, FULL_FIELDS, notes="mine")
    Subscription.objects.filter(pk=sub.pk).update(notes=P, edition=P[:80], tags=[SHORT, P[:40]])
    url = reverse("renewals:subscription-edit", args=[sub.pk])
    response = client_for(cast.it_admin).post(url, data)
    assert response.status_code == 200, response
    assert response.context["stale"] is not None, response.context["form"].errors
    html = response.content.decode()
    assert_inert(html, "stale edit")
    assert ESCAPED in html


def test_the_admin_change_lists_and_forms_show_the_payload_as_text(
    cast: Cast, hostile: Hostile
) -> None:
    client = client_for(cast.it_admin)  # a superuser
    shown = 0
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert_inert(html, url)
        shown += ESCAPED in html
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            page = client.get(change)
            assert page.status_code == 200, change
            assert_inert(page.content.decode(), change)
    assert shown >= 5  # the hostile objects are really listed


def test_javascript_urls_are_refused_where_a_user_sets_a_url(cast: Cast) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        Vendor(name="v", website=JS).full_clean()
    with pytest.raises(ValidationError):
        ChatChannel(department=cast.dept_a, name="c", kind="slack", url=JS).full_clean()


# --- e-mails and chat --------------------------------------------------------------------------


def test_html_emails_escape_and_chat_text_is_neutralised(
    cast: Cast, hostile: Hostile, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ChatChannel.objects.create(
        department=cast.dept_a, name="群", kind="slack",
        url="https://hooks.slack.com/services/T/B/y", is_active=True,
    )  # fmt: skip
    posted: list[bytes] = []

    def post(url: str, body: bytes) -> webhooks.Outcome:
        posted.append(body)
        return webhooks.Outcome(ok=True, retry=False, retry_after=None, error="")

    monkeypatch.setattr(webhooks, "post", post)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_services.request_submit(request=hostile.request, user=cast.software_admin)
    step = ApprovalStep.objects.get(request=hostile.request, status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        request_services.step_decide(
            request=hostile.request, user=cast.head_a, decision="return", comment=P,
            step_id=step.pk,
        )  # fmt: skip
    htmls = [
        str(body)
        for message in mail.outbox
        for body, mimetype in getattr(message, "alternatives", [])
        if mimetype == "text/html"
    ]
    assert htmls, "no HTML e-mail was sent"
    for html in htmls:
        assert_inert(html, "e-mail")
    assert any(ESCAPED in html for html in htmls)
    # Plain-text bodies carry the text as it is (nothing renders it).
    assert any("<script>alert(1)</script>" in m.body for m in mail.outbox)

    assert posted, "no chat message was posted"
    texts = [json.dumps(json.loads(body), ensure_ascii=False) for body in posted]
    for text in texts:
        assert "<" not in text and ">" not in text, text
    assert any("‹script›alert(1)‹/script›" in text for text in texts)


# --- PDFs -----------------------------------------------------------------------------------


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_pdfs_print_the_payload_as_text_and_fetch_nothing(
    cast: Cast, hostile: Hostile, monkeypatch: Any
) -> None:
    import core.pdf

    fetched: list[str] = []
    make = core.pdf.static_only_fetcher

    def recording() -> Any:
        fetcher = make()
        original = fetcher.fetch

        def fetch(url: str, headers: Any = None) -> Any:
            fetched.append(url)
            return original(url, headers)

        fetcher.fetch = fetch
        return fetcher

    monkeypatch.setattr(core.pdf, "static_only_fetcher", recording)
    client = client_for(cast.it_admin)
    closed = client.post(reverse("renewals:cleanup-close", args=[hostile.campaign.pk]))
    assert closed.status_code == 302
    for url in [
        reverse("renewals:request-pdf", args=[hostile.request.pk]),
        reverse("renewals:risk-pdf"),
        reverse("renewals:cleanup-report-pdf", args=[hostile.campaign.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.getvalue()  # streamed or not
        text = _pdf_text(content).replace("\n", "")
        assert "<script>alert(1)</script>" in text, url
    allowed = [core.pdf.STATIC_DIR.resolve().as_uri(), Path(settings.PDF_FONT_DIR).resolve().as_uri()]  # fmt: skip
    assert all(url.startswith(tuple(allowed)) for url in fetched), fetched


def test_a_stored_javascript_website_is_shown_as_text_not_as_a_link(cast: Cast) -> None:
    """The forms refuse such URLs; a row written some other way (raw SQL) must not become a
    clickable script on the vendor pages."""
    from renewals.inventory.models import Vendor

    vendor = cast.subscription_a.vendor
    Vendor.objects.filter(pk=vendor.pk).update(website="javascript:alert(1)")
    client = Client()
    client.force_login(cast.it_admin)
    for url in (
        reverse("renewals:vendor-list"),
        reverse("renewals:vendor-detail", args=[vendor.pk]),
    ):
        html = client.get(url).content.decode()
        assert "javascript:alert(1)" in html and 'href="javascript:' not in html, url
    Vendor.objects.filter(pk=vendor.pk).update(website="https://www.example.cn/")
    html = client.get(reverse("renewals:vendor-list")).content.decode()
    assert 'href="https://www.example.cn/"' in html


def test_unknown_api_paths_answer_json_404(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.auditor)
    response = client.get("/api/v1/nothing/here/")
    assert response.status_code == 404 and response.json() == {"detail": "未找到。"}


def test_vendor_and_module_forms_keep_hostile_text_as_text(cast: Cast) -> None:
    """#18: the payload typed into the vendor form (name, contacts, notes) and the module form
    (name) through the pages and the API is stored as typed and shown as text on every page
    that shows it, the forms themselves included; a javascript: website is refused."""
    client = client_for(cast.it_admin)
    response = client.post(
        reverse("renewals:vendor-add"), {"name": P, "contacts": P, "notes": P, "website": ""}
    )
    assert response.status_code == 302
    vendor = Vendor.objects.get(name=P)
    assert (vendor.contacts, vendor.notes) == (P, P)
    refused = client.post(reverse("renewals:vendor-add"), {"name": "js", "website": JS})
    assert refused.status_code == 200 and not Vendor.objects.filter(name="js").exists()
    sub = cast.subscription_a
    response = client.post(reverse("renewals:module-add", args=[sub.pk]), {"name": P[:80]})
    assert response.status_code == 302
    module = Module.objects.get(subscription=sub, name=P[:80])
    token = org_services.api_token_create(user=cast.it_admin)
    token_client = Client(headers={"Authorization": f"Token {token}"})
    api_vendor = token_client.post(
        reverse("api:vendor-list"),
        json.dumps({"name": SHORT + "api", "contacts": P, "notes": P}),
        content_type="application/json",
    )
    assert api_vendor.status_code == 201
    pages = [
        reverse("renewals:vendor-list"),
        reverse("renewals:vendor-detail", args=[vendor.pk]),
        reverse("renewals:vendor-edit", args=[vendor.pk]),
        reverse("renewals:vendor-detail", args=[api_vendor.json()["id"]]),
        reverse("renewals:subscription-detail", args=[sub.pk]),
        reverse("renewals:module-edit", args=[module.pk]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert_inert(html, url)
        assert ESCAPED in html, f"{url} does not show the hostile text"
