"""The seat requests' pages in Chromium (#18): the employee's "ask for a seat" on My software and
its form, and the software admin's inbox (a free seat to grant, a full subscription offering more
seats), in both languages at phone, laptop and desktop widths: nothing sticks out sideways and
axe-core finds no serious or critical violation. Screenshots go to var/screenshots/seats/."""

from __future__ import annotations

from pathlib import Path

import pytest

from org.models import Person
from renewals.seats import services
from tests.conftest import Cast
from tests.e2e.test_layout import (
    AXE,
    AXE_JS,
    NEXT_FRAMES_JS,
    OVERFLOW_JS,
    WIDTHS,
    signed_in_page,
)
from tests.factories import ModuleFactory, PersonFactory, SeatFactory, SubscriptionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("var") / "screenshots" / "seats"


def _scene(cast: Cast) -> None:
    me = Person.objects.create(
        employee_no="E-1", name="乙员工", department=cast.dept_a, user=cast.employee
    )
    figma = SubscriptionFactory.create(
        department=cast.dept_a, product="Figma Professional", seats_purchased=5
    )
    for name in ("Dev Mode", "FigJam"):
        ModuleFactory.create(subscription=figma, name=name)
    SubscriptionFactory.create(department=cast.dept_b, product="Miro", tags=["共享"])
    full = cast.subscription_a
    full.seats_purchased = 1
    full.save()
    SeatFactory.create(subscription=full, person=PersonFactory.create(department=cast.dept_a))
    colleague = PersonFactory.create(department=cast.dept_a, name="丙员工")
    services.seat_request_create(
        user=cast.software_admin, subscription=figma, person=colleague,
        reason="下季度参与 App 改版的设计评审，需要 Dev Mode 查看标注。",
    )  # fmt: skip
    services.seat_request_ask(user=cast.employee, subscription=full, reason="<b>需要</b>")
    assert me.pk


def _check(page: object, base: str, path: str, tag: str, problems: list[str]) -> None:
    page.set_viewport_size({"width": 390, "height": 800})  # type: ignore[attr-defined]
    response = page.goto(base + path)  # type: ignore[attr-defined]
    assert response.status == 200, (path, response.status)
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})  # type: ignore[attr-defined]
        page.evaluate(NEXT_FRAMES_JS)  # type: ignore[attr-defined]
        for line in page.evaluate(OVERFLOW_JS):  # type: ignore[attr-defined]
            problems.append(f"{tag} at {width}px: {line}")
        if width in (390, 1280):
            name = f"{tag}-{width}.png"
            page.screenshot(path=str(SCREENSHOTS / name), full_page=True)  # type: ignore[attr-defined]
        if width in (WIDTHS[0], WIDTHS[-1]):
            for line in page.evaluate(AXE_JS):  # type: ignore[attr-defined]
                problems.append(f"{tag} at {width}px axe: {line}")


def test_seat_request_pages_fit_and_pass_axe(
    browser: object, live_server: object, cast: Cast
) -> None:
    _scene(cast)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url  # type: ignore[attr-defined]
    problems: list[str] = []
    for language in ("zh-hans", "en"):
        page = signed_in_page(browser, live_server, cast.employee, language)
        _check(page, base, "/my-software/", f"my-software-{language}", problems)
        _check(page, base, "/seat-requests/add/", f"form-{language}", problems)
        page.context.close()  # type: ignore[attr-defined]
        page = signed_in_page(browser, live_server, cast.software_admin, language)
        _check(page, base, "/seat-requests/", f"inbox-{language}", problems)
        page.context.close()  # type: ignore[attr-defined]
    assert not problems, "\n".join(problems)
