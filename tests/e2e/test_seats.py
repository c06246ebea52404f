"""The seats pages in Chromium (#18), in Chinese and in English, at 390 and 1280 px: the seats
panel, the person picker (typing "wl" suggests 王磊, picking fills the field, the seat is
assigned), the bulk-assign preview; nothing sticks out sideways, axe finds nothing serious.
Screenshots go to var/screenshots/seats/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.e2e.test_layout import AXE, AXE_JS, NEXT_FRAMES_JS, OVERFLOW_JS, signed_in_page
from tests.factories import ModuleFactory, PersonFactory, SeatFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path("var") / "screenshots" / "seats"


def _check(page: object, what: str, problems: list[str]) -> None:
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
        page.evaluate(NEXT_FRAMES_JS)  # type: ignore[attr-defined]
        problems += [f"{what} at {width}px: {line}" for line in page.evaluate(OVERFLOW_JS)]  # type: ignore[attr-defined]
        problems += [f"{what} at {width}px axe: {line}" for line in page.evaluate(AXE_JS)]  # type: ignore[attr-defined]
        page.screenshot(path=str(SCREENSHOTS / f"{what}-{width}.png"), full_page=True)  # type: ignore[attr-defined]


def test_seats_panel_picker_and_bulk_preview(
    browser: object, live_server: object, cast: Cast
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sub = cast.subscription_a
    sub.seats_purchased = 6
    sub.save()
    ModuleFactory.create(subscription=sub, name="Gantt 甘特图")
    ModuleFactory.create(subscription=sub, name="Automation 自动化")
    leaver = PersonFactory.create(
        department=cast.dept_a, name="赵离职", status="left", left_on=dt.date(2026, 2, 1)
    )
    SeatFactory.create(subscription=sub, person=leaver, account="zhao.lizhi@example.cn")
    SeatFactory.create(
        subscription=sub, person=PersonFactory.create(department=cast.dept_a, name="钱多多")
    )
    wang = PersonFactory.create(
        department=cast.dept_a_child, name="王磊", email="lei.wang@example.cn"
    )
    others = [
        PersonFactory.create(department=cast.dept_a, name=f"孙{i}", email=f"sun{i}@example.cn")
        for i in range(4)
    ]
    base = live_server.url  # type: ignore[attr-defined]
    problems: list[str] = []
    errors: list[str] = []
    for language in ("zh-hans", "en"):
        page = signed_in_page(browser, live_server, cast.software_admin, language)
        page.on("pageerror", lambda e: errors.append(str(e)))  # type: ignore[attr-defined]
        page.goto(f"{base}/subscriptions/{sub.pk}/")  # type: ignore[attr-defined]
        page.locator("[data-testid=seats-panel]").scroll_into_view_if_needed()  # type: ignore[attr-defined]
        _check(page, f"panel-{language}", problems)
        # The picker: "wl" suggests 王磊; picking fills in the employee number.
        page.goto(f"{base}/subscriptions/{sub.pk}/seats/assign/")  # type: ignore[attr-defined]
        page.set_viewport_size({"width": 1280, "height": 900})  # type: ignore[attr-defined]
        field = page.locator("input[name=person]")  # type: ignore[attr-defined]
        field.fill("")
        field.type("wl", delay=50)
        option = page.locator("[role=option]", has_text="王磊")  # type: ignore[attr-defined]
        option.wait_for(timeout=5000)
        _check(page, f"picker-{language}", problems)
        page.set_viewport_size({"width": 1280, "height": 900})  # type: ignore[attr-defined]
        field.focus()
        field.press("ArrowDown")
        field.press("Enter")
        assert field.input_value() == wang.employee_no
        if language == "zh-hans":
            page.get_by_label("Gantt 甘特图").check()  # type: ignore[attr-defined]
            page.locator("[data-testid=seat-assign-form] button[type=submit]").click()  # type: ignore[attr-defined]
            page.wait_for_url(f"**/subscriptions/{sub.pk}/")  # type: ignore[attr-defined]
            seat = Seat.objects.get(subscription=sub, person=wang)
            assert [m.name for m in seat.modules.all()] == ["Gantt 甘特图"]
        # The bulk preview: three known, one unknown, one repeat, one holder.
        page.goto(f"{base}/subscriptions/{sub.pk}/seats/bulk-assign/")  # type: ignore[attr-defined]
        pasted = "\n".join(
            [
                *(p.email for p in others[:3]),
                "nobody@example.cn",
                others[0].employee_no,
                wang.employee_no,
            ]
        )
        page.locator("textarea[name=entries]").first.fill(pasted)  # type: ignore[attr-defined]
        page.locator("[data-testid=bulk-assign-form] button[type=submit]").click()  # type: ignore[attr-defined]
        page.locator("[data-testid=bulk-preview]").wait_for()  # type: ignore[attr-defined]
        _check(page, f"bulk-{language}", problems)
        page.context.close()  # type: ignore[attr-defined]
        assert not errors, errors
    assert not problems, "\n".join(problems)
