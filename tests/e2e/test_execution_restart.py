"""#15's done-when in Chromium: on the demo's data, quote "Jira Software Premium, CNY, annual"
with its module, choose it, get it approved, record the execution through the page (pre-filled
from the quote), restart as `python3 dev.py start` does, and find everything as it was: Premium
in CNY with the module converted, the paid term in the history, the request executed, one
actual in the ledger. Screenshots under var/screenshots/execution-<language>/."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from budgets.models import LedgerEntry
from org.models import User
from renewals.inventory.models import Subscription
from renewals.requests import services
from renewals.requests.models.requests import RenewalRequest
from tests.e2e.test_journey import sign_out
from tests.e2e.test_navigation import SIGN_IN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRICE = Decimal("1100.00")  # CNY a seat a year
# Advanced Roadmaps: 3.50 USD a seat a month at the demo's 7.2 = 302.40 CNY a seat a year.
ROADMAPS_CNY = Decimal("302.40")


def start_as_dev_py_does() -> None:
    """What `python3 dev.py start` runs before serving (devtools/start.py: its manage(...) calls)."""
    out = io.StringIO()
    call_command("migrate", "--noinput", verbosity=0, stdout=out)
    call_command("createcachetable", stdout=out)
    call_command("sync_schedules", stdout=out)
    call_command("seed_demo", stdout=out)


def state(jira: Subscription, request: RenewalRequest) -> dict[str, Any]:
    jira.refresh_from_db()
    request.refresh_from_db()
    return {
        "subscription": (
            jira.edition, jira.currency, jira.unit_price, jira.billing_cycle,
            jira.seats_purchased, jira.term_start, jira.term_end,
        ),
        "modules": sorted(jira.modules.values_list("name", "unit_price", "licensed_seats")),
        "terms": sorted(
            jira.terms.values_list("term_start", "actual_amount", "order_ref", "fapiao_no")
        ),
        "request": (request.status, request.order_ref, request.fapiao_no, request.actual_amount),
        "actuals": LedgerEntry.objects.filter(
            reference=request.budget_reference, kind=LedgerEntry.Kind.ACTUAL
        ).count(),
    }  # fmt: skip


def sign_in(page: Any, base: str, username: str, language: str) -> None:
    """Sign in as a demo user (the demo's password, not the test factories')."""
    page.goto(base + "/accounts/login/")
    if language == "en":
        page.select_option("#language-select", "en")
        page.wait_for_selector('html[lang="en"]')
    page.fill("#id_username", username)
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.get_by_role("button", name=SIGN_IN[language]).click()
    page.wait_for_selector("[data-testid=main-nav]")


def shot(page: Any, folder: Path, name: str) -> None:
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1600, "height": 900})


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_premium_in_cny_is_executed_from_the_quote_and_survives_a_restart(
    page: Any, live_server: Any, language: str
) -> None:
    base = live_server.url
    folder = Path(settings.BASE_DIR) / "var" / "screenshots" / f"execution-{language}"
    folder.mkdir(parents=True, exist_ok=True)
    # A browser test before this one flushed the database, data migrations' rows included: the
    # default approval tiers come back as their migration writes them (a fresh database has them).
    import_module("renewals.migrations.0006_default_approval_tiers").create_tiers(apps, None)
    start_as_dev_py_does()
    jira = Subscription.objects.get(product="Jira Software", department__code="rd")
    assert (jira.edition, jira.currency, jira.billing_cycle) == ("Standard", "USD", "monthly")
    assert jira.modules.get(name="Advanced Roadmaps").unit_price == Decimal("3.50")
    admin = User.objects.get(username="admin")
    for under_way in jira.renewal_requests.filter(status__in=RenewalRequest.OPEN):
        services.request_cancel(request=under_way, user=admin, reason="e2e: a fresh start")
    seats = jira.seats_purchased
    new_start = jira.term_end + dt.timedelta(days=1)

    # The software admin opens the request and adds the Premium quote in CNY; the module row
    # arrives from the subscription and, left without a price, is converted at the recorded rate.
    sign_in(page, base, "swadmin_rd", language)
    page.goto(base + reverse("renewals:request-create", args=[jira.pk]))
    page.get_by_test_id("start-request").click()
    page.get_by_test_id("add-quote").click()
    page.fill("#id_vendor_name", "Atlassian")
    page.fill("#id_product", "Jira Software")
    page.fill("#id_edition", "Premium")
    page.fill("#id_seats", str(seats))
    page.fill("#id_unit_price", str(PRICE))
    page.fill("#id_currency", "CNY")
    page.select_option("#id_billing_cycle", "annual")
    page.fill("#id_term_months", "12")
    assert page.input_value("#id_modules-0-name") == "Advanced Roadmaps"
    assert page.input_value("#id_modules-0-unit_price") == ""
    shot(page, folder, "1-quote-form")
    page.get_by_test_id("save").click()
    premium = page.locator("[data-testid=quote-row]", has_text="Premium")
    includes = premium.get_by_test_id("quote-includes").inner_text()
    assert "Advanced Roadmaps" in includes and "302.40 CNY" in includes
    premium.locator("form[action*='/choose/'] button").click()
    page.get_by_test_id("submit").click()
    page.get_by_test_id("request-status").wait_for()
    shot(page, folder, "2-request-submitted")
    request = RenewalRequest.objects.get(subscription=jira, status__in=RenewalRequest.DECIDING)
    assert request.chosen_quote is not None and request.chosen_quote.edition == "Premium"
    assert request.amount == seats * (PRICE + ROADMAPS_CNY)
    sign_out(page)

    # Approved: the head, then finance when the amount or the budget asks for it.
    for approver in ("head_rd", "finance"):
        request.refresh_from_db()
        if request.status not in RenewalRequest.DECIDING:
            break
        sign_in(page, base, approver, language)
        page.goto(base + request.get_absolute_url())
        page.get_by_test_id("approve").click()
        page.get_by_test_id("approve").wait_for(state="detached")
        sign_out(page)
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.APPROVED

    # Finance records the execution: the form arrives filled in from the chosen quote.
    sign_in(page, base, "finance", language)
    page.goto(base + request.get_absolute_url())
    page.get_by_test_id("execute").click()
    assert page.input_value("#id_edition") == "Premium"
    assert page.input_value("#id_seats") == str(seats)
    assert page.input_value("#id_unit_price") == str(PRICE)
    assert page.input_value("#id_currency") == "CNY"
    assert page.input_value("#id_billing_cycle") == "annual"
    assert page.input_value("#id_term_start") == new_start.isoformat()
    assert page.input_value("#id_modules-0-name") == "Advanced Roadmaps"
    assert page.input_value("#id_modules-0-unit_price") == str(ROADMAPS_CNY)
    assert Decimal(page.input_value("#id_actual_amount")) == request.amount
    page.fill("#id_order_ref", "PO-JIRA-PREMIUM")
    page.fill("#id_fapiao_no", "FP-88001234")
    shot(page, folder, "3-execution-form")
    page.get_by_test_id("save").click()
    page.get_by_test_id("execution").wait_for()
    execution = page.get_by_test_id("execution").inner_text()
    order = {"zh-hans": "订单号 PO-JIRA-PREMIUM", "en": "order PO-JIRA-PREMIUM"}[language]
    assert order in execution and "顺序" not in execution

    before = state(jira, request)
    assert before["subscription"][:5] == ("Premium", "CNY", PRICE, "annual", seats)
    assert ("Advanced Roadmaps", ROADMAPS_CNY, None) in before["modules"]
    assert before["request"][0] == RenewalRequest.Status.EXECUTED
    assert before["actuals"] == 1

    def term_history() -> str:
        page.goto(base + jira.get_absolute_url())
        text: str = page.get_by_test_id("term-table").inner_text()
        return text

    history = term_history()
    paid = f"{request.amount:,.2f} CNY"
    assert paid in history and "PO-JIRA-PREMIUM" in history and "FP-88001234" in history
    shot(page, folder, "4-term-history")

    # Restart: everything as it was, on the pages too.
    start_as_dev_py_does()
    assert state(jira, request) == before
    history = term_history()
    assert paid in history and "PO-JIRA-PREMIUM" in history and "FP-88001234" in history
    modules = page.get_by_test_id("module-table").inner_text()
    assert "302.40 CNY" in modules
