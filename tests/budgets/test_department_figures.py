"""One budget figure per department (#15 point 6): a department's figure is its own budget plus
its sub-departments' rolled up, labelled "incl. sub-departments" with the own/sub-department
split, and the overview, the dashboard, the budget page, the briefing and the API all show the
same figures for the same department."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from budgets import services
from budgets.selectors import department_budgets, total_of
from org.scoping import visible_departments
from renewals.usage.selectors import month_start
from tests.api.helpers import api
from tests.conftest import Cast
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def amount(cell: str) -> Decimal:
    """A figure as a page shows it, whatever its currency sign, thousands separators or minus
    sign; a shortened one (125万) by the exact amount it carries on hover."""
    exact = re.search(r'title="([^"]+)"', cell)
    text = exact.group(1) if exact else re.sub(r"<[^>]+>", " ", cell)
    text = text.replace("\u2212", "-")
    number = re.search(r"-?[0-9][0-9,]*(\.[0-9]+)?", text.replace("\u00a0", ""))
    assert number, cell
    return Decimal(number.group(0).replace(",", ""))


def row_cells(html: str, table: str, code: str) -> list[str]:
    """The cells of department ``code``'s row in the table with data-testid ``table``."""
    body = html.split(f'data-testid="{table}"', 1)[1].split("</table>", 1)[0]
    row = body.split(f'data-department="{code}"', 1)[1].split("</tr>", 1)[0]
    return re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)


@pytest.fixture
def year() -> int:
    return services.current_year()


@pytest.fixture
def funded(cast: Cast, year: int) -> Cast:
    """A: 1,200,000 of its own, its sub-department A-QA 250,000 with 10,000 committed."""
    own = services.budget_for(department=cast.dept_a, year=year)
    services.budget_allocate(budget=own, amount=Decimal("1200000"), user=cast.finance, memo="m")
    if own.pk == cast.budget_a.pk:  # the cast's 100 when this year is 2027
        services.budget_adjust(budget=own, amount=Decimal("-100"), user=cast.finance, memo="m")
    child = services.budget_for(department=cast.dept_a_child, year=year)
    services.budget_allocate(budget=child, amount=Decimal("250000"), user=cast.finance, memo="m")
    services.budget_commit(
        department=cast.dept_a_child, year=year, amount=Decimal("10000"), reference="t:1",
        user=cast.finance, memo="m",
    )  # fmt: skip
    return cast


def test_the_rule_own_budget_plus_every_sub_department(funded: Cast, year: int) -> None:
    grandchild = DepartmentFactory.create(code="a-qa-x", parent=funded.dept_a_child)
    deep = services.budget_for(department=grandchild, year=year)
    services.budget_allocate(budget=deep, amount=Decimal("5"), user=funded.finance, memo="m")
    rows = {r.department.code: r for r in department_budgets([funded.dept_a.pk], year)}
    # The sub-departments of a department in scope come with it, at any depth, in tree order.
    assert [r.department.code for r in department_budgets([funded.dept_a.pk], year)] == [
        "a", "a-qa", "a-qa-x",
    ]  # fmt: skip
    a = rows["a"]
    assert (a.own.allocated, a.sub_departments.allocated) == (1200000, 250005)
    assert a.balance.allocated == Decimal("1450005.00") and a.has_sub_departments
    assert a.balance.committed == Decimal("10000.00")
    assert rows["a-qa"].balance.allocated == Decimal("250005.00")
    assert not rows["a-qa-x"].has_sub_departments
    # A total counts each department once.
    assert total_of(rows.values()).allocated == Decimal("1450005.00")
    # The same figure whoever looks (the head's scope, everybody's).
    everyone = {r.department.code: r for r in department_budgets(None, year)}
    headed = department_budgets(visible_departments(funded.head_a), year)
    assert everyone["a"].balance == a.balance == headed[0].balance


def test_every_page_and_the_api_show_the_same_figures_and_label_the_roll_up(
    funded: Cast, year: int
) -> None:
    cache.clear()  # the dashboard's stored figures
    client = signed_in(funded.head_a)
    expected = department_budgets([funded.dept_a.pk], year)[0].balance
    assert expected.allocated == Decimal("1450000.00")
    label = "含下属部门"
    split = ("1200000", "250000")

    def has_split(html: str) -> bool:
        plain = re.sub(r"[,\u00a0\s]", "", re.sub(r"<[^>]+>", "", html))
        return all(part in plain for part in split)

    overview = client.get(reverse("budgets:overview")).content.decode()
    cells = row_cells(overview, "budget-overview", "a")
    assert [amount(c) for c in cells[1:6]] == [
        expected.allocated, expected.reserve, expected.committed, expected.actual,
        expected.available,
    ]  # fmt: skip
    assert label in cells[0] and has_split(cells[0])

    home = client.get(reverse("home")).content.decode()
    cells = row_cells(home, "kpi-budgets", "a")
    assert [amount(c) for c in cells[1:4]] == [
        expected.allocated, expected.committed, expected.actual,
    ]  # fmt: skip
    assert label in cells[0] and has_split(cells[0])

    own = services.budget_for(department=funded.dept_a, year=year)
    page = client.get(own.get_absolute_url()).content.decode()
    rollup = page.split('data-testid="budget-rollup"', 1)[1].split("</table>", 1)[0]
    assert [amount(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", rollup)] == [
        expected.allocated, expected.reserve, expected.committed, expected.actual,
        expected.available,
    ]  # fmt: skip
    assert label in page and has_split(page.split('data-testid="budget-rollup"', 1)[1])

    month = month_start(services.local_today())
    briefing = client.get(
        reverse("renewals:briefing-detail", args=[funded.dept_a.pk, f"{month:%Y-%m}"])
    ).content.decode()
    table = briefing.split('data-testid="briefing-budget"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", table)
    assert [amount(c) for c in cells[1:5]] == [
        expected.allocated, expected.committed, expected.actual, expected.available,
    ]  # fmt: skip
    rollup = briefing.split('data-testid="briefing-rollup"', 1)[1].split("</p>", 1)[0]
    assert label in rollup and has_split(rollup)

    listed = api(funded.head_a).get(reverse("api:budget-list"), {"year": year}).json()
    by_department = {b["department"]: b for b in listed["results"]}
    a = by_department[funded.dept_a.pk]
    assert a["has_sub_departments"] is True
    assert Decimal(a["balance"]["allocated"]) == Decimal("1200000.00")  # its own ledger
    assert {k: Decimal(v) for k, v in a["including_sub_departments"].items()} == {
        "allocated": expected.allocated, "reserve": expected.reserve,
        "committed": expected.committed, "actual": expected.actual,
        "available": expected.available,
    }  # fmt: skip
    qa = by_department[funded.dept_a_child.pk]
    assert qa["has_sub_departments"] is False
    assert qa["including_sub_departments"] == qa["balance"]


def test_english_pages_label_the_roll_up_too(funded: Cast) -> None:
    cache.clear()
    funded.head_a.language = "en"
    funded.head_a.save(update_fields=["language"])
    client = signed_in(funded.head_a)
    client.cookies["django_language"] = "en"
    for url in (reverse("budgets:overview"), reverse("home")):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "incl. sub-departments" in html, url
    # A department without sub-departments carries no label.
    head_b = signed_in(funded.head_b)
    html = head_b.get(reverse("budgets:overview"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="rollup"' not in html
