"""Reports and oversight in Chromium: a generated risk shows up for a leaver's account and closes
once the seat is revoked in a clean-up campaign; the dashboard's on-time rate is the one the
data gives; a department head opens this month's usage briefing on screen and as a PDF, in
Chinese and in English."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from org.models import Person
from renewals.inventory.models import SubscriptionTerm
from renewals.reports.selectors import kpis
from renewals.risks.models import Risk
from renewals.risks.services import risks_refresh
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.e2e.test_navigation import sign_in
from tests.factories import PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leaver_risk_closes_when_the_campaign_revokes_the_seat(
    page: object, live_server: object, cast: Cast, console_errors: list[str]
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    leaver = PersonFactory.create(
        department=cast.dept_a, name="离职员工王五", status=Person.Status.LEFT,
        left_on=dt.date(2026, 9, 30),
    )  # fmt: skip
    seat = Seat.objects.create(
        subscription=cast.subscription_a, person=leaver, account="wangwu@corp.example",
        assigned_on=dt.date(2025, 1, 1), last_active_on=dt.date(2026, 9, 29),
    )  # fmt: skip
    risks_refresh()
    risk = Risk.objects.get(rule="departed_holder", key=str(seat.pk))
    assert risk.status == "open"

    # Department A's head finds it in the register, in Chinese.
    sign_in(page, base, cast.head_a.username, "zh-hans")
    page.get_by_test_id("reports-menu").click()  # type: ignore[attr-defined]
    page.locator("[data-nav=risks]").click()  # type: ignore[attr-defined]
    row = page.locator("tr", has_text="离职员工王五")  # type: ignore[attr-defined]
    row.first.wait_for()
    row.first.locator("a").first.click()
    assert "离职员工王五" in page.get_by_test_id("risk-title").text_content()  # type: ignore[attr-defined]
    page.get_by_test_id("user-menu").click()  # type: ignore[attr-defined]
    page.get_by_test_id("logout").click()  # type: ignore[attr-defined]

    # IT opens this year's clean-up campaign (name and due date are proposed).
    sign_in(page, base, cast.it_admin.username, "zh-hans")
    page.goto(base + "/cleanup/")  # type: ignore[attr-defined]
    page.get_by_test_id("open-campaign").locator("button[type=submit]").click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    page.get_by_test_id("user-menu").click()  # type: ignore[attr-defined]
    page.get_by_test_id("logout").click()  # type: ignore[attr-defined]

    # Department A's software admin revokes the leaver's account from the checklist.
    sign_in(page, base, cast.software_admin.username, "zh-hans")
    page.goto(base + "/cleanup/")  # type: ignore[attr-defined]
    page.get_by_test_id("campaigns").locator("a").first.click()  # type: ignore[attr-defined]
    page.get_by_role("link", name=cast.dept_a.name).click()  # type: ignore[attr-defined]
    item = page.locator("[data-testid=item]", has_text="离职员工王五")  # type: ignore[attr-defined]
    item.get_by_test_id("revoke").click()
    page.locator(  # type: ignore[attr-defined]
        "[data-testid=item][data-decision=revoke]", has_text="离职员工王五"
    ).wait_for()
    seat.refresh_from_db()
    assert seat.revoked_on is not None
    page.get_by_test_id("user-menu").click()  # type: ignore[attr-defined]
    page.get_by_test_id("logout").click()  # type: ignore[attr-defined]

    # The risk closed by itself, with the reason in its history.
    risk.refresh_from_db()
    assert risk.status == "closed" and risk.closed_at is not None
    sign_in(page, base, cast.head_a.username, "zh-hans")
    page.goto(base + "/risks/")  # type: ignore[attr-defined]
    assert "离职员工王五" not in page.locator("main").text_content()  # type: ignore[attr-defined]
    page.goto(f"{base}/risks/{risk.pk}/")  # type: ignore[attr-defined]
    assert "已关闭" in page.get_by_test_id("risk-status").text_content()  # type: ignore[attr-defined]
    assert "自动关闭" in page.get_by_test_id("risk-history").text_content()  # type: ignore[attr-defined]
    assert console_errors == []


def test_dashboard_shows_the_on_time_rate_of_the_data(
    page: object, live_server: object, cast: Cast, console_errors: list[str]
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    month = timezone.localdate().replace(day=1)
    # Two renewals recorded in the last months: one 3 days early, one 5 days late.
    for back, days in ((40, -3), (70, 5)):
        end = month - dt.timedelta(days=back)
        SubscriptionTerm.objects.create(
            subscription=cast.subscription_a, term_start=end - dt.timedelta(days=364),
            term_end=end, seats=10, unit_price=Decimal(100), currency="CNY",
            renewed_at=dt.datetime.combine(end + dt.timedelta(days=days), dt.time(4), dt.UTC),
        )  # fmt: skip
    board = kpis.dashboard(user=cast.head_a)
    assert (board.on_time.on_time, board.on_time.late) == (1, 1)
    for language, label in (("zh-hans", "准时续费率"), ("en", "On-time renewal rate")):
        sign_in(page, base, cast.head_a.username, language)
        text = page.get_by_test_id("kpi-on-time-rate").text_content()  # type: ignore[attr-defined]
        assert text == f"{board.on_time.rate}%"
        assert label in page.locator("main").text_content()  # type: ignore[attr-defined]
        # The figure's month rows lead to the renewals behind them.
        page.get_by_test_id("kpi-months").locator("a").first.click()  # type: ignore[attr-defined]
        page.get_by_test_id("kpi-rows").wait_for()  # type: ignore[attr-defined]
        assert page.locator("[data-testid=kpi-rows] tr[data-state]").count() >= 1  # type: ignore[attr-defined]
        page.get_by_test_id("user-menu").click()  # type: ignore[attr-defined]
        page.get_by_test_id("logout").click()  # type: ignore[attr-defined]
    assert console_errors == []


def pdf_text(content: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.parametrize(
    ("language", "title", "open_label"),
    [("zh-hans", "软件使用简报", "打开"), ("en", "Software usage briefing", "Open")],
)
def test_head_opens_this_months_briefing_on_screen_and_as_pdf(
    page: object, live_server: object, cast: Cast, console_errors: list[str],
    language: str, title: str, open_label: str,
) -> None:  # fmt: skip
    base = live_server.url  # type: ignore[attr-defined]
    seat_holder = PersonFactory.create(department=cast.dept_a, name="在职员工赵六")
    Seat.objects.create(
        subscription=cast.subscription_a, person=seat_holder, assigned_on=dt.date(2025, 1, 1),
        last_active_on=timezone.localdate(),
    )  # fmt: skip
    sign_in(page, base, cast.head_a.username, language)
    page.get_by_test_id("reports-menu").click()  # type: ignore[attr-defined]
    page.locator("[data-nav=briefings]").click()  # type: ignore[attr-defined]
    departments = page.get_by_test_id("briefing-departments")  # type: ignore[attr-defined]
    # Only the head's own departments are offered.
    assert cast.dept_b.name not in departments.text_content()
    departments.locator("tr", has_text=cast.dept_a.name).first.get_by_role(
        "link", name=open_label
    ).click()
    heading = page.get_by_test_id("briefing-title")  # type: ignore[attr-defined]
    assert title in heading.text_content() and cast.dept_a.name in heading.text_content()
    assert page.locator(".briefing svg").count() >= 1  # type: ignore[attr-defined]
    # The PDF is made by the worker (synchronous in tests) and downloaded when ready.
    with page.expect_download() as download_info:  # type: ignore[attr-defined]
        page.get_by_test_id(f"briefing-request-{language}").click()  # type: ignore[attr-defined]
    path = download_info.value.path()
    text = pdf_text(open(path, "rb").read())  # noqa: PTH123 - Playwright hands a path
    assert cast.dept_a.name in text and title in text
    assert cast.subscription_a.product in text
    assert console_errors == []
