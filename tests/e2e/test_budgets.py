"""Finance's budget journey in Chromium: open a budget, allocate (once in dollars), transfer
between two departments, reverse a wrong entry, re-forecast; the overview, its chart and the
ledger agree to the cent. A department head sees only their own department, read-only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from budgets.models import Budget, LedgerEntry
from budgets.selectors import balance, balances_from_entries, total_mismatches
from tests.conftest import Cast
from tests.e2e.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YEAR = 2027  # the cast's budget for department A (100.00 allocated) is for 2027


def record(page: object, **fields: str) -> str:
    """Fill finance's ledger form, submit it, and return the message the page then shows."""
    form = page.get_by_test_id("ledger-form")  # type: ignore[attr-defined]
    for name, value in fields.items():
        if name in ("action", "target", "category"):
            form.locator(f"select[name={name}]").select_option(value)
        else:
            form.locator(f"[name={name}]").fill(value)
    with page.expect_navigation():  # type: ignore[attr-defined]
        form.locator("button[type=submit]").click()
    return page.locator("[role=alert]").first.inner_text()  # type: ignore[attr-defined]


def overview_cells(page: object, code: str) -> list[str]:
    row = page.locator(f"[data-testid=budget-overview] tr[data-department='{code}']")  # type: ignore[attr-defined]
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def test_finance_allocates_transfers_reverses_and_overview_and_ledger_agree(
    page: object, live_server: object, cast: Cast, console_errors: list[str]
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    sign_in(page, base, cast.finance.username, "zh-hans")

    # Department B has no 2027 budget yet: finance opens it from the overview.
    page.goto(f"{base}/budgets/?year={YEAR}")  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.locator("tr[data-department='b'] button[type=submit]").click()  # type: ignore[attr-defined]
    budget_b = Budget.objects.get(department=cast.dept_b, year=YEAR)
    assert page.url.endswith(budget_b.get_absolute_url())  # type: ignore[attr-defined]
    assert "已记入台账" in record(page, action="allocate", amount="50000.50", memo="市场部年度预算")

    page.goto(base + cast.budget_a.get_absolute_url())  # type: ignore[attr-defined]
    record(page, action="allocate", amount="200000", category="saas", memo="研发年度预算")
    record(page, action="allocate", amount="999", memo="录错的分配")
    record(page, action="allocate", amount="1000", currency="USD", rate="7.2", memo="美元合同")
    message = record(
        page, action="transfer", amount="30000.25", target=str(budget_b.pk), memo="调剂给市场部"
    )
    assert "已记入台账" in message
    # A bad amount is refused with a message and changes nothing.
    assert "12000.50" in record(page, action="allocate", amount="1,000", memo="格式不对")

    # Reverse the wrong allocation from the ledger page.
    page.locator("details summary").click()  # type: ignore[attr-defined]
    wrong = page.locator("details tr", has_text="录错的分配")  # type: ignore[attr-defined]
    wrong.locator("input[name=memo]").fill("金额录错，冲销")
    with page.expect_navigation():  # type: ignore[attr-defined]
        wrong.locator("button[type=submit]").click()
    assert page.locator("[role=alert]").first.inner_text()  # type: ignore[attr-defined]

    # 100 + 200000 + 999 - 999 + 7200 (1000 USD at 7.2) - 30000.25
    expected_a = Decimal("177299.75")
    ledger = page.get_by_test_id("ledger-table")  # type: ignore[attr-defined]
    assert "USD 1,000.00 @ 7.2" in ledger.inner_text()

    def number(text: str) -> Decimal:
        return Decimal(text.strip().replace(",", "").replace("\u2212", "-"))

    # The running available balance ends at the budget's available figure; the transfer out is
    # negative.
    available_on_page = page.get_by_test_id("available").inner_text().strip()  # type: ignore[attr-defined]
    running = ledger.locator("tbody tr").last.locator("td").nth(5).inner_text()
    assert number(running) == number(available_on_page)
    out = ledger.locator("tbody tr", has_text="调剂给市场部").locator("td").nth(3).inner_text()
    assert number(out) == Decimal("-30000.25")
    page.screenshot(path="var/e2e-budget-ledger.png", full_page=True)  # type: ignore[attr-defined]
    cards = page.get_by_test_id("budget-balance").inner_text()  # type: ignore[attr-defined]
    assert f"{expected_a:,}" in cards  # with separators (#15.9)

    # The overview says the same, to the cent, and draws its chart.
    page.goto(f"{base}/budgets/?year={YEAR}")  # type: ignore[attr-defined]
    a, b = overview_cells(page, "a"), overview_cells(page, "b")
    assert number(a[1]) == expected_a
    assert number(a[5]) == number(available_on_page)
    assert number(b[1]) == Decimal("80000.75")  # 50000.50 + 30000.25
    total = page.locator("[data-testid=budget-overview] tfoot td").all_inner_texts()  # type: ignore[attr-defined]
    assert number(total[1]) == expected_a + Decimal("80000.75")
    page.wait_for_selector("#budget-chart[data-drawn=true]")  # type: ignore[attr-defined]
    page.screenshot(path="var/e2e-budgets.png", full_page=True)  # type: ignore[attr-defined]

    # And so do the entries themselves (the totals the pages read reconcile with them).
    assert balance(cast.budget_a).allocated == expected_a
    assert balances_from_entries([cast.budget_a.pk, budget_b.pk]) == {
        cast.budget_a.pk: balance(cast.budget_a),
        budget_b.pk: balance(budget_b),
    }
    assert total_mismatches() == []
    assert LedgerEntry.objects.filter(kind="reversal").count() == 1


def test_finance_reforecasts_the_remaining_months(
    page: object, live_server: object, cast: Cast
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    sign_in(page, base, cast.finance.username, "en")
    page.goto(base + cast.budget_a.get_absolute_url())  # type: ignore[attr-defined]
    assert "counted in Asia/Shanghai" in page.get_by_test_id("months-remaining").inner_text()  # type: ignore[attr-defined]
    form = page.get_by_test_id("reforecast-form")  # type: ignore[attr-defined]
    form.locator("select[name=basis]").select_option("full_year")
    form.locator("[name=amount]").fill("150000")
    form.locator("[name=memo]").fill("Q1 review")
    with page.expect_navigation():  # type: ignore[attr-defined]
        form.locator("button[type=submit]").click()
    message = page.locator("[role=alert]").first.inner_text()  # type: ignore[attr-defined]
    assert message == "Re-forecast recorded: the allocation changes by 149900.00."
    # Back and submit the same figures again: nothing more is booked (whether the browser shows
    # the old form again, same reference, or fetches a fresh one, allocation already matching).
    page.go_back()  # type: ignore[attr-defined]
    form = page.get_by_test_id("reforecast-form")  # type: ignore[attr-defined]
    form.locator("[name=amount]").fill("150000")
    form.locator("[name=memo]").fill("Q1 review")
    with page.expect_navigation():  # type: ignore[attr-defined]
        form.locator("button[type=submit]").click()
    assert page.locator("[role=alert]").first.inner_text() in (  # type: ignore[attr-defined]
        "This re-forecast was already recorded.",
        "The allocation already matches this forecast: nothing to book.",
    )
    assert balance(cast.budget_a).allocated == Decimal("150000.00")
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 1


def test_a_department_head_sees_only_their_own_department_read_only(
    page: object, live_server: object, cast: Cast, console_errors: list[str]
) -> None:
    budget_b = Budget.objects.create(department=cast.dept_b, year=YEAR)
    base = live_server.url  # type: ignore[attr-defined]
    sign_in(page, base, cast.head_a.username, "zh-hans")
    page.goto(f"{base}/budgets/?year={YEAR}")  # type: ignore[attr-defined]
    rows = page.locator("[data-testid=budget-overview] tbody tr")  # type: ignore[attr-defined]
    codes = [rows.nth(i).get_attribute("data-department") for i in range(rows.count())]
    assert codes == ["a", "a-qa"]
    assert "市场部" not in page.content()  # type: ignore[attr-defined]
    page.goto(base + cast.budget_a.get_absolute_url())  # type: ignore[attr-defined]
    assert page.get_by_test_id("ledger-table").is_visible()  # type: ignore[attr-defined]
    assert page.get_by_test_id("ledger-form").count() == 0  # type: ignore[attr-defined]
    assert page.get_by_test_id("reforecast-form").count() == 0  # type: ignore[attr-defined]
    assert page.goto(base + budget_b.get_absolute_url()).status == 404  # type: ignore[attr-defined]
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    console_errors.clear()
