"""New-purchase intake in Chromium (#18 part 5), as an employee would: the form, the "what the
company already has" panel as the product is typed, the request page; in Chinese and English,
at 390 / 1280 / 1920 px, nothing sticks out sideways and axe finds nothing serious."""

from __future__ import annotations

from pathlib import Path

import pytest

from renewals.requests.models.requests import Purpose, RenewalRequest
from tests.conftest import Cast
from tests.e2e.test_layout import AXE, AXE_JS, NEXT_FRAMES_JS, OVERFLOW_JS, signed_in_page
from tests.renewals.requests.intake_helpers import build, create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("var") / "screenshots" / "intake"
WIDTHS = (390, 1280, 1920)


def _check(page: object, language: str, path: str, problems: list[str], shot: str) -> None:
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
        page.evaluate(NEXT_FRAMES_JS)  # type: ignore[attr-defined]
        for line in page.evaluate(OVERFLOW_JS):  # type: ignore[attr-defined]
            problems.append(f"{language} {path} at {width}px: {line}")
        if width in (390, 1280):
            name = f"{shot}-{language}-{width}.png"
            page.screenshot(path=str(SCREENSHOTS / name), full_page=True)  # type: ignore[attr-defined]
        if width in (390, 1920):
            for line in page.evaluate(AXE_JS):  # type: ignore[attr-defined]
                problems.append(f"{language} {path} at {width}px axe: {line}")


def test_an_employee_asks_for_a_tool_the_company_has_and_submits(
    browser: object, live_server: object, cast: Cast
) -> None:
    intake = build(cast)
    base = live_server.url  # type: ignore[attr-defined]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    errors: list[str] = []
    page = signed_in_page(browser, live_server, cast.employee, "zh-hans")
    page.on("pageerror", lambda e: errors.append(str(e)))  # type: ignore[attr-defined]
    page.set_viewport_size({"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(base + "/my-software/")  # type: ignore[attr-defined]
    page.click("[data-testid=ask-new-tool]")  # type: ignore[attr-defined]
    page.wait_for_url("**/requests/new/")  # type: ignore[attr-defined]
    page.fill("#id_vendor_name", "Atlassian")  # type: ignore[attr-defined]
    page.select_option("#id_category", "project")  # type: ignore[attr-defined]
    page.fill("#id_product", "Jira Software")  # type: ignore[attr-defined]
    # The panel follows what is typed (HTMX): the same product in department B, then the
    # category's other tools.
    page.wait_for_selector("[data-testid=same-product]")  # type: ignore[attr-defined]
    assert "市场部 B" in page.inner_text("[data-testid=same-product]")  # type: ignore[attr-defined]
    assert "Asana" in page.inner_text("[data-testid=same-category]")  # type: ignore[attr-defined]
    page.fill("#id_seats", "5")  # type: ignore[attr-defined]
    page.fill("#id_term_start", "2027-01-01")  # type: ignore[attr-defined]
    page.fill("#id_unit_price", "600.00")  # type: ignore[attr-defined]
    page.fill("#id_justification", "测试团队需要缺陷跟踪")  # type: ignore[attr-defined]
    page.fill("#id_people", "E100\nbob@example.test")  # type: ignore[attr-defined]
    _check(page, "zh-hans", "/requests/new/", problems, "form")
    page.set_viewport_size({"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.click("[data-testid=save]")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=request-status]")  # type: ignore[attr-defined]
    request = RenewalRequest.objects.get(purpose=Purpose.NEW)
    assert page.url.endswith(request.get_absolute_url())  # type: ignore[attr-defined]
    assert page.is_visible("[data-testid=join]")  # type: ignore[attr-defined]
    _check(page, "zh-hans", request.get_absolute_url(), problems, "request")
    page.set_viewport_size({"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.click("[data-testid=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=request-status][data-status=submitted]")  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]
    # English: the form with a panel, and the head's view of another request.
    other = create(intake, product="Confluence", people=[])
    for language in ("en",):
        english = signed_in_page(browser, live_server, cast.employee, language)
        english.on("pageerror", lambda e: errors.append(str(e)))  # type: ignore[attr-defined]
        english.goto(base + "/requests/new/")  # type: ignore[attr-defined]
        english.fill("#id_vendor_name", "atlassian")  # type: ignore[attr-defined]
        english.fill("#id_product", "JIRA software")  # type: ignore[attr-defined]
        english.wait_for_selector("[data-testid=same-product]")  # type: ignore[attr-defined]
        _check(english, language, "/requests/new/", problems, "form")
        english.goto(base + other.get_absolute_url())  # type: ignore[attr-defined]
        _check(english, language, other.get_absolute_url(), problems, "request")
        english.context.close()  # type: ignore[attr-defined]
    head = signed_in_page(browser, live_server, cast.head_a, "zh-hans")
    head.goto(base + request.get_absolute_url())  # type: ignore[attr-defined]
    assert head.is_visible("[data-testid=already-has]")  # type: ignore[attr-defined]
    assert not head.is_visible("[data-testid=join]")  # type: ignore[attr-defined]
    _check(head, "zh-hans", request.get_absolute_url(), problems, "approver")
    head.context.close()  # type: ignore[attr-defined]
    assert not errors, errors
    assert not problems, "\n".join(problems)
