"""Bulk approval in Chromium (#15.13): the head selects two inbox rows, approves them at once,
and sees both decided; with HTMX the inbox is swapped in place, and without script the same
form posts as a plain form. Screenshots at 390 and 1280 px in both languages."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from budgets import services as budget_services
from renewals.requests import services
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.e2e.test_navigation import SIGN_IN, sign_in
from tests.factories import PASSWORD, SubscriptionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("var/screenshots/bulk")
LABELS = {
    "zh-hans": {"all": "全选本页", "approve": "批准所选", "done": "已完成", "count": "已选：2"},
    "en": {
        "all": "Select all on this page",
        "approve": "Approve selected",
        "done": "Done",
        "count": "Selected: 2",
    },
}


def _submitted(cast: Cast, product: str) -> RenewalRequest:
    subscription = SubscriptionFactory.create(department=cast.dept_a, product=product)
    request = services.request_create(subscription=subscription, user=cast.software_admin)
    assert request.chosen_quote is not None
    services.quote_save(
        request=request,
        user=cast.software_admin,
        quote=request.chosen_quote,
        data={"seats": 1, "unit_price": Decimal("1200"), "term_months": 12},
    )
    services.request_submit(request=request, user=cast.software_admin)
    return request


def _no_sideways_scroll(page: object) -> None:
    width = page.evaluate(  # type: ignore[attr-defined]
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert width <= 0, f"the page scrolls sideways by {width}px"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_head_approves_two_inbox_rows_at_once(
    page: object, live_server: object, cast: Cast, language: str
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("500000"), user=cast.finance, memo="年度预算"
    )
    requests = [_submitted(cast, "Jira"), _submitted(cast, "Confluence"), _submitted(cast, "Miro")]
    SHOTS.mkdir(parents=True, exist_ok=True)
    labels = LABELS[language]

    page.set_viewport_size({"width": 1400, "height": 900})  # type: ignore[attr-defined]
    sign_in(page, base, "head_a", language)
    page.goto(base + "/approvals/")  # type: ignore[attr-defined]
    rows = page.locator("[data-testid=inbox] tbody tr")  # type: ignore[attr-defined]
    assert rows.count() == 3
    # "Select all" ticks every row; the count follows; then one row is unticked again.
    page.get_by_label(labels["all"]).check()  # type: ignore[attr-defined]
    assert page.get_by_test_id("bulk-count").inner_text() == labels["count"].replace("2", "3")  # type: ignore[attr-defined]
    rows.filter(has_text="Miro").locator("input[data-bulk-item]").uncheck()
    assert page.get_by_test_id("bulk-count").inner_text() == labels["count"]  # type: ignore[attr-defined]
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
        _no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / f"inbox-selected-{language}-{width}.png"), full_page=True)  # type: ignore[attr-defined]

    page.get_by_test_id("bulk-approve-comment").fill("同意续费")  # type: ignore[attr-defined]
    page.get_by_role("button", name=labels["approve"]).click()  # type: ignore[attr-defined]
    page.get_by_test_id("bulk-results").wait_for()  # type: ignore[attr-defined]
    results = page.get_by_test_id("bulk-row")  # type: ignore[attr-defined]
    assert results.count() == 2
    for i in range(2):
        assert results.nth(i).get_attribute("data-outcome") == "done"
        assert labels["done"] in results.nth(i).inner_text()
    # HTMX swapped the inbox in place: the page stayed at /approvals/, only Miro is left.
    assert page.url.endswith("/approvals/")  # type: ignore[attr-defined]
    assert page.locator("[data-testid=inbox] tbody tr").count() == 1  # type: ignore[attr-defined]
    assert "Miro" in page.locator("[data-testid=inbox] tbody").inner_text()  # type: ignore[attr-defined]
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
        _no_sideways_scroll(page)
        page.screenshot(path=str(SHOTS / f"inbox-approved-{language}-{width}.png"), full_page=True)  # type: ignore[attr-defined]

    statuses = {r.subscription.product: r.status for r in RenewalRequest.objects.all()}
    assert statuses == {"Jira": "approved", "Confluence": "approved", "Miro": "submitted"}
    assert {r.steps.get().comment for r in requests[:2]} == {"同意续费"}


def test_without_script_the_bulk_form_still_posts(
    browser: object, live_server: object, cast: Cast, console_errors: list[str]
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("500000"), user=cast.finance, memo="年度预算"
    )
    _submitted(cast, "Jira")
    _submitted(cast, "Confluence")
    context = browser.new_context(  # type: ignore[attr-defined]
        locale="zh-CN", java_script_enabled=False, viewport={"width": 1400, "height": 900}
    )
    page = context.new_page()
    try:
        page.goto(base + "/accounts/login/")
        page.fill("#id_username", "head_a")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name=SIGN_IN["zh-hans"]).click()
        page.wait_for_selector("[data-testid=main-nav]")
        page.goto(base + "/approvals/")
        # Without script there is no "select all" box: each row is ticked by hand.
        assert not page.get_by_test_id("bulk-select-all").is_visible()
        boxes = page.locator("input[data-bulk-item]")
        for i in range(boxes.count()):
            boxes.nth(i).check()
        page.get_by_test_id("bulk-approve-submit").click()
        page.get_by_test_id("bulk-results").wait_for()
        assert page.url.endswith("/approvals/bulk/")
        assert page.get_by_test_id("bulk-row").count() == 2
        assert page.get_by_test_id("inbox-empty").is_visible()
    finally:
        context.close()
    assert set(RenewalRequest.objects.values_list("status", flat=True)) == {"approved"}
