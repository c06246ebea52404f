"""Amounts as people read them (#15.9) and vendor + product named once (#15): separators on the
pages and in the PDF, 万 / K on stat cards with the exact amount as title, exports plain."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from budgets import services as budget_services
from renewals.inventory.models import Subscription, product_name
from renewals.requests import services
from tests.conftest import Cast
from tests.factories import SubscriptionFactory, VendorFactory


def client_for(user: object, language: str = "zh-hans") -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    if language != "zh-hans":
        client.post(reverse("set-language"), {"language": language, "next": "/"})
    return client


@pytest.fixture
def big(cast: Cast) -> Subscription:
    """1,250 seats at 1,000.40 CNY a year: 1,250,500.00 CNY (125万 / 1.25M)."""
    return SubscriptionFactory.create(
        ref="BIG-1",
        vendor=VendorFactory.create(name="Asana"),
        product="Asana Business",
        department=cast.dept_a,
        seats_purchased=1250,
        unit_price=Decimal("1000.40"),
    )


@pytest.mark.parametrize(
    ("vendor", "product", "shown"),
    [
        ("Atlassian", "Jira Software", "Atlassian Jira Software"),
        ("Asana", "Asana", "Asana"),
        ("Asana", "Asana Business", "Asana Business"),
        ("asana ", " ASANA", "ASANA"),
        ("禅道", "禅道项目管理", "禅道项目管理"),
        ("飞书", "项目", "飞书 项目"),
        ("", "Tool", "Tool"),
    ],
)
def test_the_vendor_is_named_once(vendor: str, product: str, shown: str) -> None:
    assert product_name(vendor, product) == shown


def test_the_list_shows_separators_right_aligned_and_the_export_stays_plain(
    cast: Cast, big: Subscription
) -> None:
    client = client_for(cast.it_admin)
    url = reverse("renewals:subscription-list")
    html = client.get(url, {"q": "BIG-1"}).content.decode()
    assert '<td class="text-end">1,250,500.00</td>' in html
    assert 'class="orderable text-end"' in html  # the amount's header is right-aligned too
    text = client.get(url, {"q": "BIG-1", "_export": "csv"}).content.decode("utf-8-sig")
    row = next(r for r in csv.reader(io.StringIO(text)) if r and r[0] == "BIG-1")
    assert "1250500.00" in row and not any("1,250" in cell for cell in row)
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(url, {"q": "BIG-1", "_export": "xlsx"}).content)
    )
    values = [cell.value for cell in list(book.active.iter_rows())[1]]
    assert Decimal("1250500.00") in [Decimal(str(v)) for v in values if isinstance(v, float | int)]


@pytest.mark.parametrize(("language", "short"), [("zh-hans", "125万"), ("en", "1.25M")])
def test_the_detail_cards_are_short_with_the_exact_amount_as_title(
    cast: Cast, big: Subscription, language: str, short: str
) -> None:
    html = (
        client_for(cast.it_admin, language)
        .get(reverse("renewals:subscription-detail", args=[big.pk]))
        .content.decode()
    )
    assert f'<span class="money-short" title="1,250,500.00">{short}</span>' in html
    assert "1250500" not in html  # nowhere without separators
    assert "Asana Asana" not in html and "Asana Business" in html


def test_the_request_page_and_its_pdf_show_separators(cast: Cast, big: Subscription) -> None:
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("5000000"), user=cast.finance, memo="年度预算"
    )
    draft = services.request_create(
        subscription=big, user=cast.software_admin, justification="继续使用"
    )
    client = client_for(cast.it_admin)
    html = client.get(reverse("renewals:request-detail", args=[draft.pk])).content.decode()
    assert "1,250,500.00" in html and "1250500" not in html
    assert "Asana Asana" not in html
    response: Any = client.get(reverse("renewals:request-pdf", args=[draft.pk]))
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "1,250,500.00" in text and "1250500" not in text
    assert "Asana Asana" not in text
    listing = client.get(reverse("renewals:request-list")).content.decode()
    assert "<td>Asana Business</td>" in listing


@pytest.mark.parametrize(("language", "short"), [("zh-hans", "100万"), ("en", "1M")])
def test_budgets_show_separators_the_dashboard_in_wan_and_exports_stay_plain(
    cast: Cast, language: str, short: str
) -> None:
    from django.core.cache import cache

    from budgets import services as budgets

    year = budgets.current_year()
    budget = budgets.budget_for(department=cast.dept_a, year=year)
    budgets.budget_allocate(
        budget=budget, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    client = client_for(cast.finance, language)

    def table(html: str, testid: str) -> str:
        return html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]

    overview = client.get(reverse("budgets:overview"), {"year": year}).content.decode()
    rows = table(overview, "budget-overview")  # (the chart's JSON keeps plain numbers)
    assert "1,000,000.00" in rows and "1000000" not in rows
    ledger = client.get(budget.get_absolute_url()).content.decode()
    entries = table(ledger, "ledger-table")
    assert "1,000,000.00" in entries and "1000000" not in entries
    assert '<th class="text-end" scope="col">' in entries  # amounts' headers right-aligned
    export = client.get(budget.get_absolute_url(), {"_export": "csv"}).content.decode("utf-8-sig")
    assert "1000000.00" in export and "1,000,000" not in export
    cache.clear()  # the dashboard's stored figures
    home = client.get(reverse("home")).content.decode()
    assert f'<span class="money-short" title="1,000,000.00">{short}</span>' in home
