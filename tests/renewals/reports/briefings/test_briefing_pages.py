"""Monthly usage briefings' pages: who may see what (404 for another department's head), the
worker-only PDF with its stored file and download, bad months and languages, hostile names."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django_q.models import Success

from core import pdf
from org.models import Department
from renewals.reports.models import Briefing
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast
from tests.factories import (
    ModuleFactory,
    SubscriptionFactory,
    VendorFactory,
)
from tests.renewals.reports.briefings.conftest import (
    HOSTILE_CSS,
    HOSTILE_IMG,
    HOSTILE_LINK,
    MONTH,
    NOON,
    pdf_text,
    render,
    signed_in,
)

# --- Pages and permissions ---------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOON)
def test_the_head_asks_for_the_pdf_the_worker_makes_it_and_it_downloads(
    cast: Cast, data: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(cast.head_a)
    detail = reverse("renewals:briefing-detail", args=[cast.dept_a.pk, "2026-10"])
    page = client.get(detail)
    assert page.status_code == 200
    html = page.content.decode()
    assert "研发中心 A" in html and "<svg" in html and "66.7%" in html
    with django_capture_on_commit_callbacks(execute=True):  # the worker runs on commit
        response = client.post(
            reverse("renewals:briefing-request", args=[cast.dept_a.pk, "2026-10"]),
            {"language": "zh-hans"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert Success.objects.filter(func="renewals.tasks.render_briefing").exists()
    briefing = Briefing.objects.get(department=cast.dept_a, month=MONTH, language="zh-hans")
    assert briefing.status == "ready" and briefing.requested_by == cast.head_a
    status = client.get(reverse("renewals:briefing-status", args=[briefing.pk]) + "?auto=1")
    assert b"data-download-now" in status.content
    download = client.get(reverse("renewals:briefing-download", args=[briefing.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download["Cache-Control"]
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''" in disposition
    assert "\n" not in disposition and "/" not in disposition.split("''")[1]
    assert b"".join(download.streaming_content).startswith(b"%PDF-")  # type: ignore[attr-defined]
    listing = client.get(reverse("renewals:briefing-list") + "?month=2026-10").content.decode()
    assert reverse("renewals:briefing-download", args=[briefing.pk]) in listing


@pytest.mark.django_db
@time_machine.travel(NOON)
def test_another_departments_head_gets_404_on_every_briefing_url(
    cast: Cast, data: SimpleNamespace
) -> None:
    briefing = render(cast, "zh-hans")
    client = signed_in(cast.head_b)
    urls = [
        ("get", reverse("renewals:briefing-detail", args=[cast.dept_a.pk, "2026-10"])),
        ("get", reverse("renewals:briefing-detail", args=[cast.dept_a_child.pk, "2026-10"])),
        ("post", reverse("renewals:briefing-request", args=[cast.dept_a.pk, "2026-10"])),
        ("get", reverse("renewals:briefing-status", args=[briefing.pk])),
        ("get", reverse("renewals:briefing-download", args=[briefing.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url, {"language": "zh-hans"} if method == "post" else {})
        assert response.status_code == 404, url
    listing = client.get(reverse("renewals:briefing-list") + "?month=2026-10").content.decode()
    assert "研发中心 A" not in listing and "市场部 B" in listing
    assert Briefing.objects.count() == 1  # head B's POST queued nothing


@pytest.mark.django_db
@time_machine.travel(NOON)
def test_bad_months_and_languages_are_refused_without_writing(
    cast: Cast, data: SimpleNamespace
) -> None:
    client = signed_in(cast.head_a)
    for month in ("2026-13", "2027-01", "26-10", "abcd-ef"):
        url = reverse("renewals:briefing-detail", args=[cast.dept_a.pk, month])
        assert client.get(url).status_code == 404, month
    url = reverse("renewals:briefing-request", args=[cast.dept_a.pk, "2026-10"])
    response = client.post(url, {"language": "xx"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and Briefing.objects.count() == 0


@pytest.mark.django_db
@time_machine.travel(NOON)
def test_hostile_names_are_text_on_the_page_and_in_the_pdf_which_fetches_only_static_files(
    cast: Cast, data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    Department.objects.filter(pk=cast.dept_a_child.pk).update(name=HOSTILE_IMG)
    sub = SubscriptionFactory.create(
        department=cast.dept_a, vendor=VendorFactory.create(name=HOSTILE_LINK),
        product=HOSTILE_CSS,
    )  # fmt: skip
    ModuleFactory.create(subscription=sub, name="<style>" + HOSTILE_CSS + "</style>")
    MonthlyUsage.objects.create(subscription=sub, month=MONTH, active_users=3)
    html = signed_in(cast.head_a).get(
        reverse("renewals:briefing-detail", args=[cast.dept_a.pk, "2026-10"])
    )
    body = html.content.decode()
    for name in (HOSTILE_IMG, HOSTILE_LINK, "<style>"):
        assert name not in body
    assert "&lt;img src=http://169.254.169.254&gt;" in body
    assert "&lt;link rel=attachment href=file:///etc/passwd&gt;" in body

    asked: list[str] = []
    real = pdf.static_only_fetcher

    def recording() -> Any:
        fetcher = real()
        fetch = fetcher.fetch

        def record(url: str, headers: Any = None) -> Any:
            asked.append(url)
            return fetch(url, headers)

        fetcher.fetch = record
        return fetcher

    monkeypatch.setattr(pdf, "static_only_fetcher", recording)
    text = pdf_text(render(cast, "zh-hans"))
    flat = "".join(text.split())  # table cells wrap long names across lines
    for name in (HOSTILE_IMG, HOSTILE_LINK, HOSTILE_CSS):
        assert "".join(name.split()) in flat, name
    assert asked, "the recording fetcher was not used"
    allowed = (pdf.STATIC_DIR.resolve().as_uri(), Path(settings.PDF_FONT_DIR).resolve().as_uri())
    assert all(url.startswith(allowed) for url in asked), asked
