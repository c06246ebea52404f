"""The subscription form and its stale-edit message in Chromium (#18), in Chinese and English:
nothing sticks out sideways at 390, 1280 and 1920 px, axe finds no serious or critical
violation; screenshots in var/screenshots/subscriptions/."""

from __future__ import annotations

from pathlib import Path

import pytest

from renewals.inventory.models import Subscription
from tests.conftest import Cast
from tests.e2e.test_layout import AXE, AXE_JS, NEXT_FRAMES_JS, OVERFLOW_JS, signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path("var") / "screenshots" / "subscriptions"
WIDTHS = (390, 1280, 1920)


def _check(page: object, label: str, problems: list[str], shots: str) -> None:
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
        page.evaluate(NEXT_FRAMES_JS)  # type: ignore[attr-defined]
        for line in page.evaluate(OVERFLOW_JS):  # type: ignore[attr-defined]
            problems.append(f"{label} at {width}px: {line}")
        if width in (390, 1280):
            name = f"{shots}-{width}.png"
            page.screenshot(path=str(SCREENSHOTS / name), full_page=True)  # type: ignore[attr-defined]
        if width in (390, 1920):
            for line in page.evaluate(AXE_JS):  # type: ignore[attr-defined]
                problems.append(f"{label} at {width}px axe: {line}")


def test_the_form_and_the_stale_edit_message_fit_and_pass_axe(
    browser: object, live_server: object, cast: Cast
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url  # type: ignore[attr-defined]
    sub = cast.subscription_a
    problems: list[str] = []
    for language in ("zh-hans", "en"):
        page = signed_in_page(browser, live_server, cast.it_admin, language)
        assert page.goto(f"{base}/subscriptions/add/").status == 200  # type: ignore[attr-defined]
        _check(page, f"{language} add", problems, f"add-{language}")
        assert page.goto(f"{base}/subscriptions/{sub.pk}/edit/").status == 200  # type: ignore[attr-defined]
        _check(page, f"{language} edit", problems, f"edit-{language}")
        # Someone else saves meanwhile; this editor's save is refused with what changed.
        row = Subscription.objects.get(pk=sub.pk)
        row.notice_period_days += 15
        row.notes = "财务确认：价格上调 5%"
        row.save()
        page.fill("#id_notes", "我的备注")  # type: ignore[attr-defined]
        page.click("[data-testid=save]")  # type: ignore[attr-defined]
        page.wait_for_selector("[data-testid=stale-edit]")  # type: ignore[attr-defined]
        _check(page, f"{language} stale", problems, f"stale-{language}")
        page.context.close()  # type: ignore[attr-defined]
    assert not problems, "\n".join(problems)
