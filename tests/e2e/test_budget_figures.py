"""#15 points 6 and 7 in Chromium: finance sees department A's figure incl. its sub-department,
labelled, the same on the overview, A's budget page, the dashboard and A's briefing, and reads
A's ledger (signed amounts,
the running available balance, the request as a link), at 390 and 1280 px in both languages,
without the page scrolling sideways. Screenshots under var/screenshots/budget-figures/."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from budgets import services
from renewals.requests import services as request_services
from tests.conftest import Cast
from tests.e2e.test_navigation import sign_in
from tests.factories import SubscriptionFactory

SHOTS = Path("var/screenshots/budget-figures")
LABEL = {"zh-hans": "含下属部门", "en": "incl. sub-departments"}


def number(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", "").replace("\u2212", "-").replace("¥", ""))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_finance_reads_one_figure_per_department_and_the_ledger(
    page: object, live_server: object, cast: Cast, language: str
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    year = services.current_year()
    f = cast.finance
    own = services.budget_for(department=cast.dept_a, year=year)
    services.budget_allocate(budget=own, amount=Decimal("1200000"), user=f, memo="年度预算")
    child = services.budget_for(department=cast.dept_a_child, year=year)
    services.budget_allocate(budget=child, amount=Decimal("250000"), user=f, memo="年度预算")
    request = request_services.request_create(
        subscription=SubscriptionFactory.create(department=cast.dept_a), user=cast.it_admin
    )
    services.budget_commit(
        department=cast.dept_a, year=year, amount=Decimal("60000"),
        reference=request.budget_reference, user=f, memo="续费",
    )  # fmt: skip
    services.budget_release(
        department=cast.dept_a, year=year, reference=request.budget_reference, user=f,
        memo="撤回",
    )  # fmt: skip
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, base, f.username, language)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
        page.goto(f"{base}/budgets/?year={year}")  # type: ignore[attr-defined]
        row = page.locator("[data-testid=budget-overview] tr[data-department='a']")  # type: ignore[attr-defined]
        cells = row.locator("td").all_inner_texts()
        assert LABEL[language] in cells[0]
        allocated = number(cells[1])
        assert allocated == Decimal("1450000.00")
        overflow = page.evaluate(  # type: ignore[attr-defined]
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (width, overflow)
        page.screenshot(path=str(SHOTS / f"overview-{language}-{width}.png"), full_page=True)  # type: ignore[attr-defined]

        page.goto(base + own.get_absolute_url())  # type: ignore[attr-defined]
        rollup = page.get_by_test_id("budget-rollup")  # type: ignore[attr-defined]
        assert LABEL[language] in rollup.inner_text()
        assert number(rollup.locator("td").first.inner_text()) == allocated
        ledger = page.get_by_test_id("ledger-table")  # type: ignore[attr-defined]
        rows = ledger.locator("tbody tr")
        release = rows.last.locator("td")
        assert number(release.nth(3).inner_text()) == Decimal("-60000.00")
        link = release.nth(7).locator("a")
        assert link.get_attribute("href") == request.get_absolute_url()
        assert "renewals.RenewalRequest" not in ledger.inner_text()
        # After the commitment available fell by 60,000; the release gave it back.
        n = rows.count()
        after = [number(rows.nth(i).locator("td").nth(5).inner_text()) for i in range(n - 3, n)]
        assert after[1] - after[2] == Decimal("-60000.00")
        assert after[2] == number(page.get_by_test_id("available").inner_text())  # type: ignore[attr-defined]
        overflow = page.evaluate(  # type: ignore[attr-defined]
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (width, overflow)
        page.screenshot(path=str(SHOTS / f"ledger-{language}-{width}.png"), full_page=True)  # type: ignore[attr-defined]

        # The dashboard and the briefing show the same figure, labelled.
        page.goto(base + "/")  # type: ignore[attr-defined]
        row = page.locator("[data-testid=kpi-budgets] tr[data-department='a']")  # type: ignore[attr-defined]
        assert LABEL[language] in row.locator("td").first.inner_text()
        title = row.locator("td").nth(1).locator("[title]")
        shown = (
            title.get_attribute("title") if title.count() else row.locator("td").nth(1).inner_text()
        )
        assert number(shown) == allocated
        page.screenshot(path=str(SHOTS / f"dashboard-{language}-{width}.png"), full_page=True)  # type: ignore[attr-defined]
        page.goto(f"{base}/briefings/{cast.dept_a.pk}/{services.local_today():%Y-%m}/")  # type: ignore[attr-defined]
        assert LABEL[language] in page.get_by_test_id("briefing-rollup").inner_text()  # type: ignore[attr-defined]
        page.get_by_test_id("briefing-budget").scroll_into_view_if_needed()  # type: ignore[attr-defined]
        page.screenshot(path=str(SHOTS / f"briefing-{language}-{width}.png"))  # type: ignore[attr-defined]
