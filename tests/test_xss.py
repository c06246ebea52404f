"""Stored XSS: hostile text in every free-text field a user can set is shown as text on the pages,
in the Django admin, in HTML e-mails, in chat messages and in PDFs (which fetch nothing); no
template or Python module marks user data safe outside an explicit allowlist; and every CSV/XLSX
export neutralises cells a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import json
import re
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
from openpyxl import load_workbook
from pypdf import PdfReader

from budgets.models import LedgerEntry
from contracts.services import contract_save
from org.models import Department, Person
from renewals.cleanup import services as cleanup_services
from renewals.cleanup.models import CleanupItem
from renewals.inventory.models import Module, Subscription, Vendor
from renewals.notify import webhooks
from renewals.notify.models import ChatChannel
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest, RequestEvent
from renewals.requests.services import requests as request_services
from renewals.risks import services as risk_services
from renewals.suggestions import services as suggestion_services
from renewals.suggestions.models import Suggestion
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import SubscriptionFactory

ROOT = Path(settings.BASE_DIR)
# The payload: a script, an attribute break-out with an event handler, a template expression.
P = '<script>alert(1)</script>"><img src=x onerror=alert(1)>{{7*7}}'
SHORT = "<script>alert(1)</script>"  # for fields of 40 characters
JS = "javascript:alert(1)"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
# What may never reach an HTML document unescaped.
LIVE = re.compile(r"<script>alert|<img src=x|(href|src)\s*=\s*[\"']?\s*javascript:", re.I)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_inert(html: str, where: str) -> None:
    found = LIVE.search(html)
    assert found is None, f"{where}: live markup {html[max(0, found.start() - 80) : found.end() + 80]!r}"  # fmt: skip


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


# --- no new way to mark user data safe ----------------------------------------------------------

ALLOWED: dict[tuple[str, str], tuple[int, str]] = {
    ("budgets/rendering.py", "mark_safe("): (
        1,
        "ledger rows written in Python; every value escaped",
    ),  # fmt: skip
    ("renewals/requests/tables.py", "mark_safe("): (
        2,
        "request rows written in Python; every value escaped",
    ),  # fmt: skip
    ("renewals/inventory/tables.py", "mark_safe("): (
        1,
        "subscription rows written in Python; every value escaped",
    ),  # fmt: skip
    ("contracts/tables.py", "mark_safe("): (
        1,
        "contract rows written in Python; every value escaped",
    ),  # fmt: skip
    ("core/charts.py", "mark_safe("): (
        1,
        "SVG charts; every text goes through the chart's escaper",
    ),  # fmt: skip
    ("core/rows.py", "format_html("): (
        1,
        "empty-row writer: a literal template, values as arguments",
    ),  # fmt: skip
    ("renewals/inventory/tables.py", "format_html("): (
        1,
        "vendor website link, http(s) only: a literal template, the value as argument",
    ),  # fmt: skip
    ("core/templatetags/money.py", "format_html("): (
        1,
        "short amount with the exact one as title: a literal template, values as arguments",
    ),  # fmt: skip
    ("core/columns.py", "mark_safe("): (
        1,
        "status badge column: badge_html escapes the label",
    ),  # fmt: skip
    ("core/templatetags/status.py", "format_html("): (
        1,
        "status badge: a literal template, values as arguments",
    ),  # fmt: skip
    ("renewals/risks/views.py", "format_html("): (
        1,
        "risk title link: a literal template, values as arguments",
    ),  # fmt: skip
    **{
        (f"templates/{name}", "autoescape off"): (
            1,
            "plain-text e-mail: nothing renders it as HTML",
        )  # fmt: skip
        for name in [
            "registration/password_reset_email.txt",
            "registration/password_reset_subject.txt",
            "renewals/email/suggestion-decided-body.txt",
            "renewals/email/risk-review-body.txt",
            "renewals/email/alert-body.txt",
            "renewals/email/renewal-done-body.txt",
            "renewals/email/request-event-body.txt",
            "renewals/email/cleanup-opened-body.txt",
            "renewals/email/briefing-body.txt",
        ]
    },
}
PATTERNS = {
    "|safe": re.compile(r"\|\s*safe(seq)?\b"),
    "mark_safe(": re.compile(r"\bmark_safe\("),
    "autoescape off": re.compile(r"{%\s*autoescape\s+off\s*%}"),
    "format_html(": re.compile(r"\bformat_html\("),
    "SafeString(": re.compile(r"\bSafe(String|Text)\("),
}
# format_html's template must be a literal with the values as arguments: an f-string or a
# .format()/% inside it escapes nothing.
FORMAT_HTML_MISUSE = re.compile(r"format_html\(\s*(f[\"']|[^,()]*\.format\(|[\"'][^\"']*[\"']\s*%)")


def _sources() -> list[Path]:
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("templates/**/*.txt")]
    for app in ("org", "budgets", "renewals", "contracts", "config"):
        files += [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    return sorted(files)


def _uses() -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":  # imports and type hints are not uses
            text = "\n".join(
                line for line in text.splitlines()
                if not line.lstrip().startswith(("from ", "import ", "#"))
            )  # fmt: skip
        for kind, pattern in PATTERNS.items():
            if found := len(pattern.findall(text)):
                counts[(str(path.relative_to(ROOT)), kind)] = found
    return counts


def test_only_allowlisted_code_marks_text_safe() -> None:
    uses = _uses()
    unexpected = {key: n for key, n in uses.items() if key not in ALLOWED or n > ALLOWED[key][0]}
    assert not unexpected, f"new ways to bypass escaping (allowlist them with a reason): {unexpected}"  # fmt: skip
    stale = [key for key in ALLOWED if key not in uses]
    assert not stale, f"allowlist entries with no use left: {stale}"
    for path in _sources():
        if path.suffix == ".py":
            assert not FORMAT_HTML_MISUSE.search(path.read_text(encoding="utf-8")), path
    # Only plain-text templates turn escaping off.
    assert all(path.endswith(".txt") for path, kind in uses if kind == "autoescape off")


def test_the_static_check_catches_a_new_use(tmp_path: Path) -> None:
    assert PATTERNS["|safe"].search("{{ subscription.notes|safe }}")
    assert PATTERNS["mark_safe("].search("return mark_safe(user_text)")
    assert PATTERNS["autoescape off"].search("{% autoescape off %}{{ x }}{% endautoescape %}")
    assert FORMAT_HTML_MISUSE.search('format_html(f"<b>{name}</b>")')
    assert FORMAT_HTML_MISUSE.search('format_html("<b>{}</b>".format(name))')
    assert not FORMAT_HTML_MISUSE.search('format_html("<b>{}</b>", name)')


# --- exports --------------------------------------------------------------------------------

STARTS = ["=1+1", "+1+1", "-1+1", "@SUM(1)", "\tcmd", "\rcmd"]


def _cells(response: Any, kind: str) -> list[str]:
    assert response.status_code == 200
    if kind == "csv":
        text = response.content.decode("utf-8-sig")
        return [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    # (openpyxl reads a cell's CR as a line feed)
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]


def test_every_export_neutralises_formula_cells(cast: Cast) -> None:
    """One hostile start per object: every export shows each as text starting with '."""
    subs = []
    for i, start in enumerate(STARTS):
        sub = SubscriptionFactory.create(
            department=cast.dept_a, product=f"{start} p{i}", ref=f"X-{i}", notes=start
        )
        subs.append(sub)
        contract_save(
            user=cast.it_admin,
            subscription=sub,
            data={"number": f"{start} n{i}", "counterparty": f"{start} c{i}",
                  "valid_from": date(2026, 1, 1), "valid_to": date(2027, 12, 31),
                  "total_value": 1},
        )  # fmt: skip
        LedgerEntry.objects.create(budget=cast.budget_a, kind="adjustment", amount=1, memo=f"{start} m{i}")  # fmt: skip
        risk_services.risk_create(
            user=cast.it_admin,
            data={"category": "other", "title": f"{start} r{i}", "likelihood": 1, "impact": 1,
                  "department": cast.dept_a},
        )  # fmt: skip
        suggestion = suggestion_services.suggestion_submit(user=cast.head_a, subscription=sub, title="s")  # fmt: skip
        # The form strips the title; a stored one may still start with a control character.
        Suggestion.objects.filter(pk=suggestion.pk).update(title=f"{start} s{i}")
        Seat.objects.create(
            subscription=sub, person=cast.person_a, assigned_on=date(2026, 1, 1),
            account=f"{start} a{i}",
        )  # fmt: skip
    Person.objects.filter(pk=cast.person_a.pk).update(left_on=date(2026, 2, 1), status="left")
    campaign = cleanup_services.campaign_open(
        user=cast.finance, name="清理", due_on=timezone.localdate() + timedelta(days=30)
    )
    for i, item in enumerate(CleanupItem.objects.filter(campaign=campaign).order_by("pk")):
        CleanupItem.objects.filter(pk=item.pk).update(keep_reason=f"{STARTS[i % 6]} k{i}")
    client = client_for(cast.it_admin)
    client.post(reverse("renewals:cleanup-close", args=[campaign.pk]))
    exports = {
        "subscriptions": (reverse("renewals:subscription-list"), "p"),
        "contracts": (reverse("contracts:contract-list"), "c"),
        "ledger": (reverse("budgets:budget-detail", args=[cast.budget_a.pk]), "m"),
        "risks": (reverse("renewals:risk-list"), "r"),
        "suggestions": (reverse("renewals:suggestion-list"), "s"),
        "cleanup": (reverse("renewals:cleanup-report", args=[campaign.pk]), "k"),
    }
    for name, (url, tag) in exports.items():
        for kind in ("csv", "xlsx"):
            cells = _cells(client.get(url, {"_export": kind}), kind)
            ours = [c for c in cells if re.search(rf" {tag}\d$", c)]
            assert len(ours) >= 6, (name, kind, ours)
            for cell in ours:
                assert cell.startswith("'") and cell[1:].startswith(("\n", *(s[0] for s in STARTS))), (name, kind, cell)  # fmt: skip
            assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells), (name, kind)  # fmt: skip


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
