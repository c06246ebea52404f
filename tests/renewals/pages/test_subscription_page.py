"""A subscription's page: seats, modules, terms, the open request, the contract trap."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from renewals.inventory.models import Subscription
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast
from tests.factories import ModuleFactory, PersonFactory, SeatFactory
from tests.renewals.conftest import Inventory

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_detail_shows_idle_departed_underused_and_history(cast: Cast, inventory: Inventory) -> None:
    today = timezone.localdate()
    leaver = PersonFactory.create(
        name="离职者", department=cast.dept_a, status="left", left_on=today - dt.timedelta(days=30)
    )
    SeatFactory.create(subscription=inventory.jira, person=leaver, last_active_on=today)
    SeatFactory.create(
        subscription=inventory.jira,
        person=PersonFactory.create(name="闲人", department=cast.dept_a),
        last_active_on=today - dt.timedelta(days=120),
    )
    first = today.replace(day=1)
    for back in (1, 2, 3):
        month = (first - dt.timedelta(days=28 * back)).replace(day=1)
        MonthlyUsage.objects.create(
            subscription=inventory.jira, module=inventory.gantt, month=month, active_users=1
        )
    inventory.jira.terms.create(
        term_start=dt.date(2025, 3, 1),
        term_end=dt.date(2026, 2, 28),
        seats=12,
        unit_price=Decimal("7.50"),
        currency="USD",
        actual_amount=Decimal("1080.00"),
        rate_to_base=Decimal("7.1"),
        order_ref="PO-2025-17",
    )
    html = (
        signed_in(cast.head_a)
        .get(reverse("renewals:subscription-detail", args=[inventory.jira.pk]))
        .content.decode()
    )
    assert "离职者" in html and "闲人" in html
    assert 'data-testid="departed-count">1<' in html and 'data-testid="idle-count">1<' in html
    assert "Gantt" in html and "1,728.00" in html  # the under-used module's yearly saving
    assert "PO-2025-17" in html and "7,668.00" in html  # last term, paid 1080 USD x 7.1
    assert "usage-chart-data" in html


def test_detail_query_count_does_not_depend_on_the_auto_renew_flag(
    cast: Cast, inventory: Inventory
) -> None:
    from contracts.services import contract_save

    sub = inventory.jira
    contract_save(
        user=cast.it_admin, subscription=sub,
        data={"number": "T-1", "counterparty": "Atlassian", "valid_from": dt.date(2026, 1, 1),
              "valid_to": dt.date(2030, 12, 31), "total_value": Decimal("1"),
              "price_cap_percent": Decimal("7.00")},
    )  # fmt: skip
    client = signed_in(cast.it_admin)
    url = reverse("renewals:subscription-detail", args=[sub.pk])
    Subscription.objects.filter(pk=sub.pk).update(auto_renew=False)
    client.get(url)
    with CaptureQueriesContext(connection) as off:
        page = client.get(url).content.decode()
    assert 'data-testid="contract-trap"' not in page
    Subscription.objects.filter(pk=sub.pk).update(auto_renew=True)
    with CaptureQueriesContext(connection) as on:
        page = client.get(url).content.decode()
    assert 'data-testid="contract-trap"' in page and "7.00%" in page
    assert len(on.captured_queries) == len(off.captured_queries)


def test_detail_links_the_open_request_even_behind_ten_closed_ones(
    cast: Cast, inventory: Inventory
) -> None:
    from renewals.requests.models.requests import RenewalRequest

    sub = inventory.jira

    def request(status: str) -> RenewalRequest:
        made = RenewalRequest.objects.create(
            subscription=sub, department=sub.department, requested_by=cast.software_admin,
            proposed_seats=10, proposed_term_start=dt.date(2026, 11, 1),
            proposed_term_end=dt.date(2027, 10, 31), status=status,
        )  # fmt: skip
        return made

    client = signed_in(cast.it_admin)
    url = reverse("renewals:subscription-detail", args=[sub.pk])
    opened = request("draft")
    assert f'href="{opened.get_absolute_url()}" data-testid="open-request"' in (
        client.get(url).content.decode()
    )
    for _ in range(10):
        request("cancelled")  # newer, closed: the open one is no longer among the ten shown
    page = client.get(url).content.decode()
    assert f'href="{opened.get_absolute_url()}" data-testid="open-request"' in page
    opened.status = "cancelled"
    opened.save(update_fields=["status"])
    assert 'data-testid="open-request"' not in client.get(url).content.decode()


def test_each_seat_lists_the_modules_it_holds_escaped(cast: Cast, inventory: Inventory) -> None:
    roadmaps = ModuleFactory.create(subscription=inventory.jira, name="Roadmaps <b>")
    holder = PersonFactory.create(department=cast.dept_a, name="模块持有人")
    seat = SeatFactory.create(subscription=inventory.jira, person=holder)
    seat.modules.set([roadmaps, inventory.gantt])
    SeatFactory.create(subscription=inventory.jira, person=PersonFactory.create(name="无模块"))
    url = reverse("renewals:subscription-detail", args=[inventory.jira.pk])
    html = signed_in(cast.it_admin).get(url).content.decode()
    holder_row = html[html.index("模块持有人") :].split("</tr>")[0]
    assert "Gantt, Roadmaps &lt;b&gt;" in holder_row  # by name, escaped
    other_row = html[html.index("无模块") :].split("</tr>")[0]
    assert "Gantt" not in other_row and "—" in other_row


def test_the_module_table_counts_active_holders(cast: Cast, inventory: Inventory) -> None:
    wiki = ModuleFactory.create(subscription=inventory.jira, name="Wiki", licensed_seats=4)
    for revoked in (None, None, dt.date(2026, 2, 1)):
        seat = SeatFactory.create(subscription=inventory.jira, revoked_on=revoked)
        seat.modules.add(inventory.gantt)
    seat.modules.add(wiki)  # the revoked one only
    url = reverse("renewals:subscription-detail", args=[inventory.jira.pk])
    html = signed_in(cast.it_admin).get(url).content.decode()
    table = html[html.index('data-testid="module-table"') :].split("</table>")[0]
    cells: dict[str, list[str]] = {}
    for row in re.findall(r"<tr data-module=.*?</tr>", table, re.S):
        values = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        cells[values[0]] = values
    # Name, unit price, licensed seats, holders (active seats holding the module).
    assert cells["Gantt"][2:4] == ["10", "2"]
    assert cells["Wiki"][2:4] == ["4", "0"]
