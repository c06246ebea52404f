"""The whole journey of #9 in Chromium, in Chinese and in English, with a screenshot of every step
saved under var/screenshots/journey-<language>/ for review:

an IT admin imports usage → the renewal alert arrives → a renewal request with two quotes is
raised → the department head and finance approve → the budget shows the commitment → execution,
with the signed contract uploaded, closes the loop → the users are told → the monthly briefing
shows the change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from budgets import services as budget_services
from budgets.selectors import balance as balance_of
from contracts.models import ContractDocument
from org.models import Person
from renewals.alerts.services import alerts_deliver, alerts_sweep
from renewals.inventory.models import Subscription
from renewals.notify.models import Notification
from renewals.requests.models.requests import RenewalRequest
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast
from tests.contracts.helpers import make_pdf
from tests.e2e.test_navigation import sign_in
from tests.factories import SeatFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(page: object) -> None:
    page.get_by_test_id("user-menu").click()  # type: ignore[attr-defined]
    page.get_by_test_id("logout").click()  # type: ignore[attr-defined]


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Iterator[Callable[[object, str], None]]:
    """Save a full-page screenshot per step; the folder is emptied first."""
    language = request.node.callspec.params["language"]
    folder = Path(settings.BASE_DIR) / "var" / "screenshots" / f"journey-{language}"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    count = [0]

    def shot(page: object, name: str) -> None:
        count[0] += 1
        path = folder / f"{count[0]:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        assert path.stat().st_size > 5000, f"{path} looks empty"

    yield shot


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_whole_journey(
    page: object, live_server: object, cast: Cast, tmp_path: Path, language: str,
    shots: Callable[[object, str], None], console_errors: list[str],
) -> None:  # fmt: skip
    def t(text: str) -> str:
        with translation.override(language):
            return gettext(text)

    base = live_server.url  # type: ignore[attr-defined]
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    subscription = cast.subscription_a
    subscription.product = "飞书项目"
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
    SeatFactory.create(subscription=subscription, person=holder, last_active_on=today)
    for user in (cast.it_admin, cast.software_admin, cast.head_a, cast.finance, cast.employee):
        user.language = language
        user.save(update_fields=["language"])

    # 1. The IT admin imports last month's and this month's usage through the browser.
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "subscription,module,month,active_users,tasks_completed\n"
        f"A-1,,{last_month:%Y-%m},6,120\nA-1,,{this_month:%Y-%m},7,140\n",
        encoding="utf-8",
    )
    sign_in(page, base, cast.it_admin.username, language)
    page.goto(base + "/imports/")  # type: ignore[attr-defined]
    page.select_option("select[name=kind]", label=t("Monthly usage"))  # type: ignore[attr-defined]
    page.set_input_files("input[name=file]", str(usage))  # type: ignore[attr-defined]
    page.get_by_role("button", name=t("Upload and check")).click()  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=import-status][data-status=ready]")  # type: ignore[attr-defined]
    shots(page, "usage-import-preview")
    page.get_by_test_id("commit").click()  # type: ignore[attr-defined]
    page.get_by_test_id("import-summary").wait_for()  # type: ignore[attr-defined]
    shots(page, "usage-imported")
    assert (
        MonthlyUsage.objects.filter(subscription=subscription, month=this_month).get().active_users
        == 7
    )
    sign_out(page)

    # 2. The daily sweep (the scheduled job) sends the 30-day alert: the owner's bell shows it.
    alerts_sweep(today=today)
    alerts_deliver()
    sign_in(page, base, cast.software_admin.username, language)
    page.goto(base + "/notifications/")  # type: ignore[attr-defined]
    alert = page.get_by_test_id("notification-list").inner_text()  # type: ignore[attr-defined]
    assert "飞书项目" in alert
    shots(page, "alert-in-the-bell")

    # 3. From the alert: a renewal request, the incumbent's quote plus an alternative.
    page.locator("[data-testid=notification-list] button").first.click()  # type: ignore[attr-defined]
    page.fill("#id_justification", "继续使用，对比 ClickUp 报价 / keep it, compare ClickUp")  # type: ignore[attr-defined]
    page.get_by_test_id("start-request").click()  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=request-status]")  # type: ignore[attr-defined]
    request = RenewalRequest.objects.get()
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
    rows.filter(has_text="ClickUp Enterprise").get_by_role("button").first.click()
    page.get_by_test_id("submit").click()  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=steps]")  # type: ignore[attr-defined]
    request.refresh_from_db()
    assert request.amount_base == Decimal("60000.00")  # 12 seats × 5,000: the finance tier
    shots(page, "request-submitted")
    sign_out(page)

    # 4. The head of department A approves in the inbox, finance on the request page.
    sign_in(page, base, cast.head_a.username, language)
    page.goto(base + "/approvals/")  # type: ignore[attr-defined]
    row = page.locator("[data-testid=inbox] tbody tr").first  # type: ignore[attr-defined]
    row.locator("input[name=comment]").fill("同意 / agreed")
    shots(page, "head-inbox")
    row.get_by_role("button", name=t("Approve")).click()
    page.get_by_test_id("inbox-result").wait_for()  # type: ignore[attr-defined]
    request.refresh_from_db()
    assert request.status == "in_approval"
    sign_out(page)
    sign_in(page, base, cast.finance.username, language)
    page.goto(base + request.get_absolute_url())  # type: ignore[attr-defined]
    page.get_by_test_id("approve").click()  # type: ignore[attr-defined]
    page.get_by_test_id("approve").wait_for(state="detached")  # type: ignore[attr-defined]
    request.refresh_from_db()
    assert request.status == "approved"
    shots(page, "approved-by-finance")

    # 5. The budget shows the commitment.
    page.goto(base + budget.get_absolute_url())  # type: ignore[attr-defined]
    balance_text = page.get_by_test_id("budget-balance").inner_text()  # type: ignore[attr-defined]
    assert "60000.00" in balance_text.replace(",", "")
    assert balance_of(budget).committed == Decimal("60000.00")
    shots(page, "budget-committed")

    # 6. Finance records the execution; the IT admin attaches the signed contract to it.
    page.goto(base + request.get_absolute_url())  # type: ignore[attr-defined]
    page.get_by_test_id("execute").click()  # type: ignore[attr-defined]
    page.fill("#id_order_ref", "PO-2027-0042")  # type: ignore[attr-defined]
    page.fill("#id_fapiao_no", "FP-0042")  # type: ignore[attr-defined]
    page.fill("#id_actual_amount", "58800.00")  # type: ignore[attr-defined]
    page.get_by_test_id("save").click()  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=execution]")  # type: ignore[attr-defined]
    shots(page, "executed")
    sign_out(page)
    contract_pdf = tmp_path / "signed-contract.pdf"
    contract_pdf.write_bytes(make_pdf("第八条 合同期满前三十日未书面通知的，本合同自动续约一年。"))
    sign_in(page, base, cast.it_admin.username, language)
    page.goto(base + request.get_absolute_url())  # type: ignore[attr-defined]
    page.get_by_test_id("attach-contract").click()  # type: ignore[attr-defined]
    assert page.input_value("#id_number") == "PO-2027-0042"  # type: ignore[attr-defined]
    page.fill("#id_counterparty", "北京飞书科技有限公司")  # type: ignore[attr-defined]
    page.get_by_test_id("save").click()  # type: ignore[attr-defined]
    page.set_input_files("input[name=file]", str(contract_pdf))  # type: ignore[attr-defined]
    page.get_by_test_id("upload").click()  # type: ignore[attr-defined]
    page.get_by_test_id("download").wait_for()  # type: ignore[attr-defined]
    assert ContractDocument.objects.get().contract.renewal_request_id == request.pk
    shots(page, "contract-archived")
    sign_out(page)
    # Released from the new term's budget; paid from the budget of the year it was paid in.
    paid_in = budget_services.budget_for(
        department=cast.dept_a, year=budget_services.local_today().year
    )
    assert balance_of(budget).committed == 0
    assert balance_of(paid_in).actual == Decimal("58800.00")
    renewed = Subscription.objects.get(pk=subscription.pk)
    assert renewed.term_start == new_start and renewed.seats_purchased == 12

    # 7. The seat holder is told that the service continues.
    assert Notification.objects.filter(user=cast.employee).exists()
    sign_in(page, base, cast.employee.username, language)
    page.goto(base + "/notifications/")  # type: ignore[attr-defined]
    told = page.get_by_test_id("notification-list").inner_text()  # type: ignore[attr-defined]
    assert "飞书项目" in told and f"{renewed.term_end:%Y-%m-%d}" in told
    shots(page, "seat-holder-told")
    sign_out(page)

    # 8. The head's monthly briefing (the month that just ended) shows the change: the new seats,
    # and the active users the IT admin imported for that month.
    sign_in(page, base, cast.head_a.username, language)
    page.get_by_test_id("reports-menu").click()  # type: ignore[attr-defined]
    page.locator("[data-nav=briefings]").click()  # type: ignore[attr-defined]
    departments = page.get_by_test_id("briefing-departments")  # type: ignore[attr-defined]
    departments.locator("tr", has_text=cast.dept_a.name).first.get_by_role(
        "link", name=t("Open")
    ).click()
    page.get_by_test_id("briefing-subscriptions").wait_for()  # type: ignore[attr-defined]
    table = page.get_by_test_id("briefing-subscriptions").inner_text()  # type: ignore[attr-defined]
    assert "飞书项目" in table and "12" in table
    assert f"/{last_month:%Y-%m}/" in page.url  # type: ignore[attr-defined]
    assert page.get_by_test_id("kpi-active").inner_text().strip() == "6"  # type: ignore[attr-defined]
    shots(page, "briefing-after-renewal")
    assert console_errors == []
