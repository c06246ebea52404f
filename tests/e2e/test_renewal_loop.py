"""The whole loop in Chromium: alert → request → two approvals → execution → new term, users told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets import services as budget_services
from budgets.selectors import balance as balance_of
from org.models import Person
from renewals.alerts.services import alerts_deliver, alerts_sweep
from renewals.inventory.models import Subscription
from renewals.notify.models import Notification
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.e2e.conftest import DESKTOP
from tests.e2e.test_navigation import sign_in
from tests.factories import SeatFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def other_page(browser: object, console_errors: list[str]) -> Iterator[object]:
    """A second browser (its own cookies) for the approvers."""
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)  # type: ignore[attr-defined]
    page = context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    yield page
    context.close()


def test_alert_to_request_to_two_approvals_to_execution(
    page: object, other_page: object, live_server: object, cast: Cast
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    today = timezone.localdate()
    subscription = cast.subscription_a
    subscription.term_start = today - dt.timedelta(days=340)
    subscription.term_end = today + dt.timedelta(days=25)
    subscription.owner = cast.software_admin
    subscription.save()
    new_start = subscription.term_end + dt.timedelta(days=1)
    budget = budget_services.budget_for(department=cast.dept_a, year=new_start.year)
    budget_services.budget_allocate(
        budget=budget, amount=Decimal("500000"), user=cast.finance, memo="年度预算"
    )
    holder = Person.objects.create(
        employee_no="E-9", name="用户甲", department=cast.dept_a, user=cast.employee
    )
    SeatFactory.create(subscription=subscription, person=holder)

    # 1. The 30-day alert reaches the owner (the software admin) in the notification centre.
    alerts_sweep(today=today)
    alerts_deliver()
    sign_in(page, base, "swadmin_a", "zh-hans")
    page.goto(base + "/notifications/")  # type: ignore[attr-defined]
    # Opening the notification marks it read and follows its link.
    page.locator("[data-testid=notification-list] button").first.click()  # type: ignore[attr-defined]

    # 2. The alert's link opens "start renewal request"; the request opens as a draft.
    page.fill("#id_justification", "继续使用，另比较 ClickUp 报价")  # type: ignore[attr-defined]
    page.get_by_test_id("start-request").click()  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=request-status]")  # type: ignore[attr-defined]
    request = RenewalRequest.objects.get()
    assert page.get_by_test_id("evidence").is_visible()  # type: ignore[attr-defined]

    # An alternative quote, above the 50,000 CNY tier, chosen for approval.
    page.get_by_test_id("add-quote").click()  # type: ignore[attr-defined]
    page.fill("#id_vendor_name", "ClickUp")  # type: ignore[attr-defined]
    page.fill("#id_product", "ClickUp Enterprise")  # type: ignore[attr-defined]
    page.fill("#id_seats", "12")  # type: ignore[attr-defined]
    page.fill("#id_unit_price", "5000")  # type: ignore[attr-defined]
    page.select_option("#id_billing_cycle", "annual")  # type: ignore[attr-defined]
    page.fill("#id_term_months", "12")  # type: ignore[attr-defined]
    page.get_by_test_id("save").click()  # type: ignore[attr-defined]
    rows = page.get_by_test_id("quote-row")  # type: ignore[attr-defined]
    assert rows.count() == 2
    clickup = rows.filter(has_text="ClickUp Enterprise")
    clickup.get_by_role("button").first.click()  # "choose"
    page.get_by_test_id("submit").click()  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=steps]")  # type: ignore[attr-defined]
    request.refresh_from_db()
    assert request.status == "submitted" and request.amount_base == Decimal("60000.00")

    # 3. The head of A approves from the inbox (HTMX swaps the panel in place).
    sign_in(other_page, base, "head_a", "zh-hans")
    other_page.goto(base + "/approvals/")  # type: ignore[attr-defined]
    row = other_page.locator("[data-testid=inbox] tbody tr").first  # type: ignore[attr-defined]
    row.locator("input[name=comment]").fill("同意")
    row.get_by_role("button", name="批准").click()
    other_page.get_by_test_id("inbox-result").wait_for()  # type: ignore[attr-defined]
    assert "审批中" in other_page.get_by_test_id("inbox-result").inner_text()  # type: ignore[attr-defined]
    # The request page shows who signed and who is next.
    other_page.goto(base + request.get_absolute_url())  # type: ignore[attr-defined]
    assert other_page.get_by_test_id("waiting-for").is_visible()  # type: ignore[attr-defined]
    request.refresh_from_db()
    assert request.status == "in_approval"

    # 4. Finance gives the final approval; the budget is committed.
    other_page.context.clear_cookies()  # type: ignore[attr-defined]
    sign_in(other_page, base, "finance", "zh-hans")
    other_page.goto(base + request.get_absolute_url())  # type: ignore[attr-defined]
    other_page.get_by_test_id("approve").click()  # type: ignore[attr-defined]
    other_page.get_by_test_id("approve").wait_for(state="detached")  # type: ignore[attr-defined]
    request.refresh_from_db()
    assert request.status == "approved"
    assert balance_of(budget).committed == Decimal("60000.00")

    # 5. Finance records the execution.
    other_page.reload()  # type: ignore[attr-defined]
    other_page.get_by_test_id("execute").click()  # type: ignore[attr-defined]
    other_page.fill("#id_order_ref", "PO-2027-0042")  # type: ignore[attr-defined]
    other_page.fill("#id_fapiao_no", "FP-0042")  # type: ignore[attr-defined]
    other_page.fill("#id_actual_amount", "58800.00")  # type: ignore[attr-defined]
    other_page.get_by_test_id("save").click()  # type: ignore[attr-defined]
    other_page.wait_for_selector("[data-testid=execution]")  # type: ignore[attr-defined]

    # 6. The new term is visible on the subscription page, the ledger booked the actual, and
    # the seat holder was told.
    other_page.goto(base + subscription.get_absolute_url())  # type: ignore[attr-defined]
    terms = other_page.get_by_test_id("term-table").inner_text()  # type: ignore[attr-defined]
    refreshed = Subscription.objects.get(pk=subscription.pk)
    assert refreshed.term_start == new_start
    assert f"{new_start:%Y-%m-%d} – {refreshed.term_end:%Y-%m-%d}" in terms
    assert f"{subscription.term_start:%Y-%m-%d}" in terms  # the old term kept in history
    # The commitment is released in the term's budget; the actual is booked in the budget of the
    # year it was paid (BUDGET_ACTUALS_YEAR=payment, the default).
    assert balance_of(budget).committed == 0
    paid_in = budget_services.budget_for(
        department=cast.dept_a, year=budget_services.local_today().year
    )
    assert balance_of(paid_in).actual == Decimal("58800.00")
    assert Notification.objects.filter(user=cast.employee).exists()
    other_page.context.clear_cookies()  # type: ignore[attr-defined]
    sign_in(other_page, base, "employee", "zh-hans")
    other_page.goto(base + "/notifications/")  # type: ignore[attr-defined]
    told = other_page.get_by_test_id("notification-list").inner_text()  # type: ignore[attr-defined]
    assert subscription.product in told and f"{refreshed.term_end:%Y-%m-%d}" in told
