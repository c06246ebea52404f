"""The renewal calendar in Chromium (#15.15): a month grid at laptop width (weeks as rows, Monday
first, today marked, each day's renewals as links, month navigation and the department filter
keeping the view), a compact grid with the month's list on a phone, no sideways scrolling at 390
or 1280 px in either language; screenshots under var/screenshots/calendar/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from renewals.usage.selectors import add_months
from tests.conftest import Cast
from tests.e2e.test_navigation import sign_in
from tests.factories import SubscriptionFactory, VendorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("var") / "screenshots" / "calendar"
OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
AXE_JS = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => `${v.id}: ` + v.nodes.slice(0, 4).map(n => n.target.join(" ") + " " + (n.any[0] && n.any[0].message)).join(" | "))"""


def serious_violations(page: object) -> list[str]:
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    return page.evaluate(AXE_JS)  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_calendar_is_a_month_grid_that_fits_phones_and_laptops(
    browser: object, live_server: object, cast: Cast, language: str
) -> None:
    # bypass_csp lets add_script_tag inject axe-core; the app's own scripts are all files.
    context = browser.new_context(bypass_csp=True, locale="zh-CN")  # type: ignore[attr-defined]
    page: object = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: errors.append(str(e)))  # type: ignore[attr-defined]
    today = timezone.localdate()
    month = today.replace(day=1)
    soon = min(today + dt.timedelta(days=3), add_months(month, 1) - dt.timedelta(days=1))
    SubscriptionFactory.create(
        ref="GRID-1", department=cast.dept_a, vendor=VendorFactory.create(name="Atlassian"),
        product="Jira Software Premium 年度订阅（研发中心全体）", term_start=soon - dt.timedelta(days=365),
        term_end=soon,
    )  # fmt: skip
    for i, (days, auto) in enumerate([(0, False), (5, True), (9, True), (14, False)]):
        SubscriptionFactory.create(
            ref=f"GRID-{i + 2}", department=cast.dept_a if i % 2 else cast.dept_b,
            vendor=VendorFactory.create(name=f"Vendor {i}"), product=f"飞书项目 {i}",
            term_start=month - dt.timedelta(days=300), term_end=month + dt.timedelta(days=days + 40),
            auto_renew=auto, notice_period_days=40,
        )  # fmt: skip
    base = live_server.url  # type: ignore[attr-defined]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1920, "height": 900})  # type: ignore[attr-defined]
    sign_in(page, base, cast.it_admin.username, language)  # (the menu is a bar from 1400 px)
    page.set_viewport_size({"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(base + "/calendar/")  # type: ignore[attr-defined]
    grid = page.get_by_test_id("calendar-grid")  # type: ignore[attr-defined]
    assert grid.is_visible()
    headers = grid.locator("thead th").all_inner_texts()
    assert headers[0] == {"zh-hans": "周一", "en": "Mon"}[language] and len(headers) == 7
    today_cell = grid.locator("td[aria-current=date]")
    assert today_cell.get_attribute("data-day") == today.isoformat()
    event = grid.locator(
        f'td[data-day="{soon.isoformat()}"] a.calendar-event', has_text="Jira Software Premium"
    )
    assert event.is_visible() and "研发中心 A" in (event.get_attribute("title") or "")
    assert page.evaluate(OVERFLOW_JS) <= 0  # type: ignore[attr-defined]
    page.screenshot(path=str(SCREENSHOTS / f"grid-1280-{language}.png"), full_page=True)  # type: ignore[attr-defined]
    assert serious_violations(page) == []

    # Filter by department, then the next month: the grid view and the department stay.
    page.select_option("select[name=department]", str(cast.dept_a.pk))  # type: ignore[attr-defined]
    page.wait_for_url(f"**department={cast.dept_a.pk}**")  # type: ignore[attr-defined]
    page.get_by_test_id("next-month").click()  # type: ignore[attr-defined]
    page.wait_for_url(f"**month={add_months(month, 1):%Y-%m}**")  # type: ignore[attr-defined]
    assert f"department={cast.dept_a.pk}" in page.url and "view=grid" in page.url  # type: ignore[attr-defined]
    assert page.get_by_test_id("calendar-grid").is_visible()  # type: ignore[attr-defined]
    page.get_by_test_id("view-list").click()  # type: ignore[attr-defined]
    page.wait_for_url("**view=list**")  # type: ignore[attr-defined]
    assert page.get_by_test_id("calendar-grid").count() == 0  # type: ignore[attr-defined]
    page.get_by_test_id("previous-month").click()  # type: ignore[attr-defined]
    page.wait_for_url(f"**month={month:%Y-%m}**view=list**")  # type: ignore[attr-defined]
    assert page.get_by_test_id("calendar-events").is_visible()  # type: ignore[attr-defined]
    page.screenshot(path=str(SCREENSHOTS / f"list-1280-{language}.png"), full_page=True)  # type: ignore[attr-defined]

    # A phone: the compact grid (day numbers, a count per day) with the month's list under it.
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    page.goto(base + "/calendar/")  # type: ignore[attr-defined]
    grid = page.get_by_test_id("calendar-grid")  # type: ignore[attr-defined]
    assert grid.is_visible() and grid.bounding_box()["width"] > 330  # the width of the screen
    assert not grid.locator("a.calendar-event").first.is_visible()
    assert grid.locator(f'td[data-day="{soon.isoformat()}"] .badge.rounded-pill').is_visible()
    listed = page.get_by_test_id("calendar-events")  # type: ignore[attr-defined]
    assert listed.is_visible() and listed.get_by_role("link").first.is_visible()
    assert page.evaluate(OVERFLOW_JS) <= 0, "the grid scrolls sideways at 390 px"  # type: ignore[attr-defined]
    page.screenshot(path=str(SCREENSHOTS / f"grid-390-{language}.png"), full_page=True)  # type: ignore[attr-defined]
    assert serious_violations(page) == []
    page.goto(base + "/calendar/?view=list")  # type: ignore[attr-defined]
    assert page.evaluate(OVERFLOW_JS) <= 0  # type: ignore[attr-defined]
    page.screenshot(path=str(SCREENSHOTS / f"list-390-{language}.png"), full_page=True)  # type: ignore[attr-defined]
    context.close()
    assert errors == []
