"""Monthly usage briefings: figures on a hand-built data set, the PDF's text in Chinese and
English, who may see what (404 for another department's head), hostile names, the worker-only
PDF with its stored file, the monthly schedule with its time limit, sending once."""

from __future__ import annotations

import datetime as dt
import io
import threading
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django_q.models import Schedule, Success
from django_q.scheduler import scheduler
from django_q.signals import pre_enqueue
from pypdf import PdfReader

from budgets.models import Budget, LedgerEntry
from core import pdf
from core.schedules import PREFIX
from org.models import Department, User
from renewals.inventory.models import Subscription
from renewals.notify.models import ChatChannel, Notification
from renewals.reports.models import Briefing
from renewals.reports.selectors.briefings import briefing_figures
from renewals.reports.services import briefings as service
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast
from tests.factories import (
    ModuleFactory,
    PersonFactory,
    SeatFactory,
    SubscriptionFactory,
    VendorFactory,
)
from tests.renewals.notify.test_webhooks import Receiver, receiver  # noqa: F401 - a fixture

TODAY = dt.date(2026, 11, 3)
MONTH = dt.date(2026, 10, 1)
NOON = dt.datetime(2026, 11, 3, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai
HOSTILE_IMG = "<img src=http://169.254.169.254>"
HOSTILE_LINK = "<link rel=attachment href=file:///etc/passwd>"
HOSTILE_CSS = "@import url(http://169.254.169.254/x.css);"


def build(cast: Cast) -> SimpleNamespace:
    """Department A (研发中心 A) and its sub-department with two running subscriptions whose
    figures are worked out by hand in the comments."""
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(status="cancelled")
    # Jira: 10 seats × 1,200 + module 10 × 120 = 13,200 a year, 1,100 a month.
    jira = SubscriptionFactory.create(
        ref="JIRA", department=cast.dept_a, vendor=VendorFactory.create(name="Atlassian"),
        product="Jira", seats_purchased=10, unit_price=Decimal("1200.00"),
        term_start=dt.date(2026, 7, 1), term_end=dt.date(2027, 6, 30),
    )  # fmt: skip
    roadmaps = ModuleFactory.create(
        subscription=jira, name="Roadmaps", unit_price=Decimal("120.00"), licensed_seats=10
    )
    # WPS in the sub-department: 20 seats × 300 = 6,000 a year, 500 a month; renews in 30 days.
    wps = SubscriptionFactory.create(
        ref="WPS", department=cast.dept_a_child, vendor=VendorFactory.create(name="金山办公"),
        product="WPS 365", seats_purchased=20, unit_price=Decimal("300.00"),
        term_start=dt.date(2025, 12, 4), term_end=dt.date(2026, 12, 3),
    )  # fmt: skip
    active = PersonFactory.create(department=cast.dept_a, name="在用员工")
    idle = PersonFactory.create(department=cast.dept_a, name="闲置员工")
    leaver = PersonFactory.create(
        department=cast.dept_a, name="离职员工", status="left", left_on=dt.date(2026, 9, 30)
    )
    SeatFactory.create(subscription=jira, person=active, last_active_on=dt.date(2026, 10, 20))
    SeatFactory.create(subscription=jira, person=idle, last_active_on=dt.date(2026, 6, 1))
    SeatFactory.create(subscription=jira, person=leaver, last_active_on=dt.date(2026, 9, 25))
    for month, users, done in [(8, 4, 30), (9, 6, 35), (10, 5, 40)]:
        MonthlyUsage.objects.create(
            subscription=jira, month=dt.date(2026, month, 1), active_users=users,
            tasks_completed=done,
        )  # fmt: skip
        # 2 of 10 module seats in each of the last 3 months: under 30 %, drop it (1,200 a year).
        MonthlyUsage.objects.create(
            subscription=jira, module=roadmaps, month=dt.date(2026, month, 1), active_users=2
        )
    MonthlyUsage.objects.create(subscription=wps, month=MONTH, active_users=15)
    budget = Budget.objects.create(department=cast.dept_a, year=2026)
    LedgerEntry.objects.create(budget=budget, kind="allocation", amount=50000, memo="年度预算")
    LedgerEntry.objects.create(budget=budget, kind="actual", amount=18000, memo="已付")
    # Department B's subscription must not appear in A's briefing.
    SubscriptionFactory.create(ref="B-ONLY", department=cast.dept_b, product="B 专用")
    return SimpleNamespace(jira=jira, wps=wps, roadmaps=roadmaps, leaver=leaver)


@pytest.fixture
def data(cast: Cast) -> SimpleNamespace:
    return build(cast)


def pdf_text(briefing: Briefing) -> str:
    with default_storage.open(briefing.stored_name, "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def render(cast: Cast, language: str) -> Briefing:
    briefing = service.briefing_request(
        user=cast.head_a, department=cast.dept_a, month=MONTH, language=language, enqueue=False
    )
    rendered = service.briefing_render(briefing_id=briefing.pk, today=TODAY)
    assert rendered is not None
    return rendered


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Figures ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_figures_match_the_hand_computed_values(cast: Cast, data: SimpleNamespace) -> None:
    figures = briefing_figures(cast.dept_a, MONTH, today=TODAY)
    t = figures["totals"]
    assert figures["departments"] == ["研发中心 A", "测试部 A-QA"]
    assert t["subscriptions"] == 2  # the cancelled one and department B's are not counted
    assert (t["active_users"], t["utilisation"]) == (20, "66.7")  # 5 + 15 of 10 + 20 seats
    assert (t["seats_assigned"], t["idle_seats"], t["departed_holders"]) == (3, 1, 1)
    assert t["tasks_completed"] == 40  # reported by Jira only
    assert (t["monthly_cost"], t["annual_cost"]) == ("1600.00", "19200.00")
    assert t["cost_per_active_user"] == "80.00"  # 1,600 / 20
    assert t["yearly_saving"] == "2400.00"  # the module (1,200) and the idle seat (1,200)
    subs = {s["ref"]: s for s in figures["subscriptions"]}
    assert (
        subs["JIRA"]["utilisation"] == "50.0" and subs["JIRA"]["cost_per_active_user"] == "220.00"
    )
    assert subs["WPS"]["utilisation"] == "75.0" and subs["WPS"]["tasks_completed"] is None
    assert subs["WPS"]["department"] == "测试部 A-QA"
    assert figures["modules"] == [
        {"subscription": "Atlassian Jira", "module": "Roadmaps", "seats": 10,
         "active_users": 2, "utilisation": "20.0"},
    ]  # fmt: skip
    assert [r["kind"] for r in figures["recommendations"]] == [
        "drop_module", "reclaim_idle", "revoke_departed",
    ]  # fmt: skip
    assert [(d["person"], d["left_on"]) for d in figures["departed"]] == [
        ("离职员工", "2026-09-30")
    ]
    assert [(r["ref"], r["days_left"]) for r in figures["renewals"]] == [("WPS", 30)]
    assert figures["budget"] == {
        # available = 50,000 - 15 % reserve (7,500) - 18,000 paid
        "year": 2026, "allocated": "50000.00", "reserve": "7500.00", "committed": "0.00",
        "actual": "18000.00", "available": "24500.00", "used_percent": "36.0", "annual_software_cost_percent": "38.4",
        # A's figure includes its sub-department's (which has no budget): labelled, split shown.
        "includes_sub_departments": True, "own_allocated": "50000.00",
        "sub_departments_allocated": "0.00",
    }  # fmt: skip
    trend = {p["month"]: p["utilisation"] for p in figures["trend"]}
    assert len(trend) == 12 and trend["2026-09-01"] == "60.0" and trend["2026-07-01"] is None
    assert trend["2026-10-01"] == "66.7"


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_subscriptions(
    cast: Cast, data: SimpleNamespace
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            briefing_figures(cast.dept_a, MONTH, today=TODAY)
        return len(queries)

    before = count()
    for n in range(15):
        sub = SubscriptionFactory.create(department=cast.dept_a_child, seats_purchased=5)
        ModuleFactory.create(subscription=sub, licensed_seats=5)
        SeatFactory.create(subscription=sub, person=PersonFactory.create(department=cast.dept_a))
        MonthlyUsage.objects.create(subscription=sub, month=MONTH, active_users=n % 5)
    assert count() == before <= 10


# --- The PDF -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_chinese_pdf_names_the_department_and_shows_the_figures(
    cast: Cast, data: SimpleNamespace
) -> None:
    briefing = render(cast, "zh-hans")
    assert briefing.status == "ready" and briefing.stored_name.startswith("private/briefings/")
    text = pdf_text(briefing)
    assert "软件使用简报" in text and "研发中心 A" in text and "测试部 A-QA" in text
    # Separators; the yearly total in 万 (#15.9).
    for figure in ("66.7%", "1,600.00", "1.92万", "80.00", "220.00", "2,400.00", "36.0%"):
        assert figure in text, figure
    assert "离职员工" in text and "金山办公 WPS 365" in text and "B 专用" not in text
    assert "2026-10" in text
    stored = Path(settings.MEDIA_ROOT) / briefing.stored_name
    assert stored.stat().st_size == briefing.size and len(briefing.sha256) == 64
    assert briefing.figures["totals"]["active_users"] == 20


@pytest.mark.django_db
def test_the_english_pdf_has_the_same_figures_in_english(cast: Cast, data: SimpleNamespace) -> None:
    text = pdf_text(render(cast, "en"))
    assert "Software usage briefing" in text and "研发中心 A" in text
    assert "Cost per active user" in text and "Recommendations" in text
    for figure in ("66.7%", "1,600.00", "19.2K", "80.00", "2,400.00"):
        assert figure in text, figure
    assert "软件使用简报" not in text


@pytest.mark.django_db
def test_a_failed_render_leaves_neither_file_nor_ready_row(
    cast: Cast, data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_save(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    briefing = service.briefing_request(
        user=cast.head_a, department=cast.dept_a, month=MONTH, language="zh-hans", enqueue=False
    )
    monkeypatch.setattr(Briefing, "save", broken_save)  # the file is written, the row fails
    service.briefing_render(briefing_id=briefing.pk, today=TODAY)
    monkeypatch.undo()
    briefing.refresh_from_db()
    assert briefing.status == "failed" and "disk full" in briefing.error
    assert briefing.stored_name == ""
    folder = Path(settings.MEDIA_ROOT) / "private" / "briefings"
    assert not folder.exists() or not list(folder.iterdir())
    # Asked again, it is tried again and succeeds.
    again = render(cast, "zh-hans")
    assert again.pk == briefing.pk and again.status == "ready"


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


# --- Concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_briefing_make_one_row_one_file_and_one_e_mail(cast: Cast) -> None:
    build(cast)
    cast.head_a.email = "head-a@example.cn"
    cast.head_a.save()
    mail.outbox.clear()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            service.briefing_send(department_id=cast.dept_a.pk, month=MONTH, today=TODAY)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(NOON):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    [briefing] = Briefing.objects.all()
    assert briefing.status == "ready" and briefing.sent_at is not None
    files = list((Path(settings.MEDIA_ROOT) / "private" / "briefings").iterdir())
    assert [f.name for f in files] == [Path(briefing.stored_name).name]
    assert [m.to for m in mail.outbox] == [["head-a@example.cn"]]
    assert Notification.objects.filter(user=cast.head_a, title__contains="研发中心 A").count() == 1


# --- The monthly schedule ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_monthly_schedule_runs_each_department_in_the_worker_with_a_time_limit_and_sends_once(
    cast: Cast,
    data: SimpleNamespace,
    receiver: str,  # noqa: F811 - the fixture
) -> None:
    english_head = User.objects.create(username="head_a_en", language="en", email="en@example.cn")
    cast.dept_a.heads.add(english_head)
    cast.head_a.email = "head-a@example.cn"
    cast.head_a.save()
    ChatChannel.objects.create(department=cast.dept_a, name="研发群", kind="generic", url=receiver)
    mail.outbox.clear()
    queued: list[dict[str, Any]] = []

    def record(sender: str, task: dict[str, Any], **kwargs: Any) -> None:
        queued.append(dict(task))

    call_command("sync_schedules")
    job = Schedule.objects.get(name=PREFIX + "monthly-briefings")
    assert job.schedule_type == Schedule.CRON and job.cron == "0 7 1 * *"
    pre_enqueue.connect(record, dispatch_uid="briefing-test")
    try:
        # 07:00 on 1 November in Asia/Shanghai: the October briefings.
        with time_machine.travel(dt.datetime(2026, 10, 31, 23, 0, 30, tzinfo=dt.UTC)):
            Schedule.objects.filter(pk=job.pk).update(
                next_run=timezone.now() - dt.timedelta(seconds=1)
            )
            scheduler()
            assert timezone.localtime(Schedule.objects.get(pk=job.pk).next_run).day == 1
    finally:
        pre_enqueue.disconnect(dispatch_uid="briefing-test")
    per_department = [t for t in queued if t["func"] == "renewals.tasks.department_briefing"]
    assert sorted(t["args"][0] for t in per_department) == sorted([cast.dept_a.pk, cast.dept_b.pk])
    assert all(t["timeout"] == service.TIME_LIMIT for t in per_department)
    assert all(t["args"][1] == "2026-10-01" for t in per_department)
    assert Success.objects.filter(func="renewals.tasks.monthly_briefings").exists()

    rows = {b.language: b for b in Briefing.objects.filter(department=cast.dept_a)}
    assert set(rows) == {"zh-hans", "en"} and all(b.sent_at for b in rows.values())
    by_address = {m.to[0]: m for m in mail.outbox}
    chinese, english = by_address["head-a@example.cn"], by_address["en@example.cn"]
    assert "软件使用简报" in chinese.subject and "usage briefing" in english.subject.lower()
    for message, language in ((chinese, "zh-hans"), (english, "en")):
        [(name, content, mimetype)] = message.attachments
        assert mimetype == "application/pdf" and name.endswith("2026-10.pdf")
        assert content == default_storage.open(rows[language].stored_name).read()
    assert "研发中心 A" in PdfReader(io.BytesIO(chinese.attachments[0][1])).pages[0].extract_text()
    assert Notification.objects.filter(user=english_head, url__contains="/briefings/").count() == 1
    assert len(Receiver.received) == 1 and "/briefings/" in str(Receiver.received[0][1])

    # A second run (a retry, or the scheduler started twice) sends nothing again.
    mail.outbox.clear()
    service.briefing_send(department_id=cast.dept_a.pk, month=MONTH, today=TODAY)
    assert mail.outbox == [] and len(Receiver.received) == 1
    assert Briefing.objects.filter(department=cast.dept_a).count() == 2


@pytest.mark.django_db
def test_a_department_without_heads_is_not_queued(cast: Cast) -> None:
    cast.dept_b.heads.clear()
    with translation.override("en"):
        from renewals.tasks import monthly_briefings

        result = monthly_briefings(today="2026-11-01")
    assert result.startswith("1 departments")
    assert not Briefing.objects.filter(department=cast.dept_b).exists()


def test_the_pdf_lists_the_least_used_modules_and_largest_savings_the_page_lists_all() -> None:
    figures = {
        "currency": "CNY",
        "subscriptions": [],
        "trend": [],
        "modules": [
            {
                "subscription": "S",
                "module": f"M{i}",
                "seats": 10,
                "active_users": i % 10,
                "utilisation": None if i == 0 else str(Decimal(i % 100)),
            }
            for i in range(45)
        ],  # fmt: skip
        "recommendations": [
            {
                "subscription": "S",
                "kind": "reclaim_idle",
                "text": f"R{i}",
                "yearly_saving": None if i == 0 else f"{i}.00",
            }
            for i in range(40)
        ],  # fmt: skip
    }
    page = service.briefing_context(figures)
    assert len(page["modules"]) == 45 and page["modules_more"] == 0
    assert len(page["recommendations"]) == 40 and page["recommendations_more"] == 0
    pdf_context = service.briefing_context(figures, pdf=True)
    shown = pdf_context["modules"]
    assert len(shown) == service.PDF_ROWS and pdf_context["modules_more"] == 15
    assert [m["module"] for m in shown[:3]] == ["M1", "M2", "M3"]  # least used first
    advice = pdf_context["recommendations"]
    assert [r["text"] for r in advice[:2]] == ["R39", "R38"]  # largest saving first
    assert pdf_context["recommendations_more"] == 10


@pytest.mark.django_db
def test_the_pdf_sets_each_subscription_in_one_three_cell_row_with_every_figure(
    cast: Cast, data: SimpleNamespace
) -> None:
    """WeasyPrint's time grows with the cells (bench/bench_briefing.py): the PDF keeps one row
    per subscription with the page's seven figures in three cells, and charts of PDF_BARS bars."""
    import re

    from django.template.loader import render_to_string

    with translation.override("en"):
        figures = briefing_figures(cast.dept_a, MONTH, today=TODAY)
        html = render_to_string(service.PDF_TEMPLATE, service.briefing_context(figures, pdf=True))
        page = render_to_string(
            "renewals/reports/_briefing_body.html", service.briefing_context(figures)
        )
    table = html.split('data-testid="briefing-subscriptions"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], flags=re.S)
    assert len(rows) == 2 and all(row.count("<td") == 3 for row in rows)
    jira = next(row for row in rows if "Jira" in row)
    # seats assigned/purchased · active (utilisation) · idle / departed · tasks; yearly · per user
    for figure in ("3/10", "5 (50.0%)", "1 / 1", "40", "13,200.00", "220.00"):
        assert figure in jira, figure
    page_table = page.split('data-testid="briefing-subscriptions"', 1)[1].split("</table>", 1)[0]
    assert page_table.split("<tbody>", 1)[1].count("<td") == 2 * 7  # the page keeps its columns
    many = {**figures, "subscriptions": [dict(figures["subscriptions"][0], name=f"S{i}")
                                         for i in range(40)]}  # fmt: skip
    charts = service.briefing_context(many, pdf=True)["charts"]
    assert charts["utilisation"].count("<rect") == 2 * service.PDF_BARS  # track + bar
