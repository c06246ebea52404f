"""Subscription list (filters, scoping, exports), detail, vendors, people, findings; query counts."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from renewals.inventory.models import Subscription
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast
from tests.factories import ModuleFactory, PersonFactory, SeatFactory, SubscriptionFactory
from tests.renewals.conftest import Inventory

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def refs(response: object) -> set[str]:
    return {row.record.ref for row in response.context["table"].page.object_list}  # type: ignore[attr-defined]


def test_head_sees_only_their_departments(cast: Cast, inventory: Inventory) -> None:
    assert refs(signed_in(cast.head_a).get(reverse("renewals:subscription-list"))) == {
        "JIRA-A",
        "A-1",
    }
    assert refs(signed_in(cast.head_b).get(reverse("renewals:subscription-list"))) == {"FEISHU-B"}
    assert refs(signed_in(cast.auditor).get(reverse("renewals:subscription-list"))) == {
        "JIRA-A",
        "A-1",
        "FEISHU-B",
    }
    detail = reverse("renewals:subscription-detail", args=[inventory.feishu_b.pk])
    assert signed_in(cast.head_a).get(detail).status_code == 404
    export = (
        signed_in(cast.head_a)
        .get(reverse("renewals:subscription-list") + "?_export=csv")
        .content.decode("utf-8-sig")
    )
    assert "JIRA-A" in export and "FEISHU-B" not in export


# A fixed day half a year before the factories' default term end (2026-12-31): the window
# filter counted them in from 2026-12-01 on.
@time_machine.travel(dt.datetime(2026, 6, 1, 4, tzinfo=dt.UTC), tick=False)
def test_filters(cast: Cast, inventory: Inventory) -> None:
    today = timezone.localdate()
    soon = SubscriptionFactory.create(
        ref="SOON",
        department=cast.dept_a,
        term_start=today - dt.timedelta(days=300),
        term_end=today + dt.timedelta(days=20),
    )
    SeatFactory.create(subscription=soon, last_active_on=today - dt.timedelta(days=200))
    client = signed_in(cast.it_admin)
    url = reverse("renewals:subscription-list")
    assert refs(client.get(url, {"renews_within": "30"})) == {"SOON"}
    assert refs(client.get(url, {"idle_at_least": "1"})) == {"SOON"}
    assert refs(client.get(url, {"auto_renew": "true"})) == {"JIRA-A"}
    assert refs(client.get(url, {"department": cast.dept_b.pk})) == {"FEISHU-B"}
    assert refs(client.get(url, {"vendor": inventory.jira.vendor_id})) == {"JIRA-A"}
    assert refs(client.get(url, {"q": "飞书"})) == {"FEISHU-B"}
    assert refs(client.get(url, {"status": "active"})) == {"JIRA-A", "A-1", "FEISHU-B", "SOON"}


def test_a_head_cannot_filter_into_another_department(cast: Cast, inventory: Inventory) -> None:
    response = signed_in(cast.head_a).get(
        reverse("renewals:subscription-list"), {"department": cast.dept_b.pk}
    )
    assert response.status_code == 200 and "FEISHU-B" not in refs(response)


@pytest.mark.parametrize(
    "params",
    [{"idle_at_least": "-5"}, {"idle_at_least": "x"}, {"renews_within": "9999"}, {"department": "';--"},
     {"page": "99999"}, {"sort": "nonexistent"}, {"q": "x" * 5000}, {"_export": "pdf"}],
)  # fmt: skip
def test_bad_parameters_never_break_the_list(
    cast: Cast, inventory: Inventory, params: dict[str, str]
) -> None:
    assert (
        signed_in(cast.it_admin).get(reverse("renewals:subscription-list"), params).status_code
        == 200
    )


def test_exports_escape_formulas_and_open_in_a_spreadsheet(
    cast: Cast, inventory: Inventory
) -> None:
    SubscriptionFactory.create(
        ref="EVIL",
        product='=HYPERLINK("http://evil","x")',
        edition="+cmd|' /C calc'!A0",
        department=cast.dept_a,
    )
    client = signed_in(cast.it_admin)
    response = client.get(reverse("renewals:subscription-list"), {"_export": "xlsx"})
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True)}
    evil = rows["EVIL"]
    assert '\'=HYPERLINK("http://evil","x")' in evil and "'+cmd|' /C calc'!A0" in evil
    assert all(
        not (isinstance(v, str) and v.startswith(("=", "+", "@")))
        for row in rows.values()
        for v in row
    )
    csv = client.get(reverse("renewals:subscription-list"), {"_export": "csv"}).content.decode(
        "utf-8-sig"
    )
    assert "'=HYPERLINK" in csv and "\n=HYPERLINK" not in csv and ",=HYPERLINK" not in csv


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


def test_person_page_lists_their_seats_and_is_scoped(cast: Cast, inventory: Inventory) -> None:
    SeatFactory.create(subscription=inventory.jira, person=cast.person_a)
    html = (
        signed_in(cast.head_a)
        .get(reverse("renewals:person-detail", args=[cast.person_a.pk]))
        .content.decode()
    )
    assert "JIRA-A" in html
    assert (
        signed_in(cast.head_b)
        .get(reverse("renewals:person-detail", args=[cast.person_a.pk]))
        .status_code
        == 404
    )


def test_findings_are_scoped(cast: Cast, inventory: Inventory) -> None:
    leaver = PersonFactory.create(
        name="走了的人", department=cast.dept_b, status="left", left_on=dt.date(2026, 1, 1)
    )
    SeatFactory.create(subscription=inventory.feishu_b, person=leaver)
    assert "走了的人" in signed_in(cast.head_b).get(reverse("renewals:findings")).content.decode()
    assert (
        "走了的人" not in signed_in(cast.head_a).get(reverse("renewals:findings")).content.decode()
    )


def _grow(cast: Cast, n: int) -> None:
    for i in range(n):
        sub = SubscriptionFactory.create(department=cast.dept_a if i % 2 else cast.dept_b)
        module = ModuleFactory.create(subscription=sub, unit_price=Decimal("1.00"))
        SeatFactory.create(subscription=sub, person=PersonFactory.create(department=sub.department))
        MonthlyUsage.objects.create(subscription=sub, month=dt.date(2026, 10, 1), active_users=1)
        MonthlyUsage.objects.create(
            subscription=sub, module=module, month=dt.date(2026, 10, 1), active_users=1
        )


@pytest.mark.parametrize(
    "url",
    [
        "renewals:subscription-list",
        "renewals:vendor-list",
        "renewals:findings",
        "subscription-detail",
    ],
)
def test_query_count_is_the_same_at_10_and_at_many_subscriptions(
    cast: Cast, inventory: Inventory, url: str, django_assert_max_num_queries: object
) -> None:
    client = signed_in(cast.it_admin)
    _grow(cast, 10)
    SeatFactory.create(subscription=inventory.jira, person=cast.person_a)
    target = (
        reverse("renewals:subscription-detail", args=[inventory.jira.pk])
        if url == "subscription-detail"
        else reverse(url)
    )
    client.get(target)
    with CaptureQueriesContext(connection) as small:
        assert client.get(target).status_code == 200
    _grow(cast, 60)
    for _ in range(20):
        SeatFactory.create(
            subscription=inventory.jira, person=PersonFactory.create(department=cast.dept_a)
        )
    with django_assert_max_num_queries(len(small.captured_queries)):  # type: ignore[operator]
        assert client.get(target).status_code == 200
    assert Subscription.objects.count() > 70


def test_list_query_count_is_identical_at_10_and_10000_subscriptions(cast: Cast) -> None:
    from renewals.inventory.models import Vendor

    vendor = Vendor.objects.create(name="Bulk")

    def add(start: int, end: int) -> None:
        Subscription.objects.bulk_create(
            Subscription(
                ref=f"BULK-{i:05d}", vendor=vendor, product=f"P{i}", department=cast.dept_a if i % 2 else cast.dept_b,
                seats_purchased=5, unit_price=Decimal("10.00"), currency="CNY", billing_cycle="annual",
                term_start=dt.date(2026, 1, 1), term_end=dt.date(2026, 12, 31),
            )
            for i in range(start, end)
        )  # fmt: skip

    client = signed_in(cast.it_admin)
    url = reverse("renewals:subscription-list")
    add(0, 9)  # with the cast's A-1: 10 subscriptions
    client.get(url)
    with CaptureQueriesContext(connection) as at_10:
        response = client.get(url, {"sort": "-annual_cost"})
    assert len(response.context["table"].page.object_list) == 10
    add(9, 9999)
    with CaptureQueriesContext(connection) as at_10000:
        response = client.get(url, {"sort": "-annual_cost"})
    assert response.context["table"].paginator.count == 10000
    assert len(at_10.captured_queries) == len(at_10000.captured_queries)


@pytest.mark.parametrize("column", ["annual_cost", "utilisation", "monthly_cost_per_active_user"])
def test_sorting_by_derived_figures(cast: Cast, inventory: Inventory, column: str) -> None:
    cheap = SubscriptionFactory.create(
        ref="CHEAP", department=cast.dept_a, unit_price=Decimal("1.00")
    )
    for sub, active in ((cheap, 9), (inventory.jira, 2)):
        MonthlyUsage.objects.create(
            subscription=sub, month=dt.date(2026, 10, 1), active_users=active
        )
    client = signed_in(cast.it_admin)
    url = reverse("renewals:subscription-list")

    def figures(sort: str) -> list[object]:
        rows = client.get(url, {"sort": sort}).context["table"].page.object_list
        return [getattr(row.record, column) for row in rows]

    for sort, descending in ((column, False), (f"-{column}", True)):
        values = figures(sort)
        known = [v for v in values if v is not None]
        assert len(known) >= 2 and known == sorted(known, reverse=descending)  # type: ignore[type-var]
        assert values[: len(known)] == known  # empty figures last either way


def test_sorted_by_yearly_cost_the_page_and_the_export_agree(
    cast: Cast, inventory: Inventory
) -> None:
    """Sorting by yearly cost follows the stored modules cost: a module added to the cheapest
    subscription moves it to the top, in the page and in the export."""
    cheap = SubscriptionFactory.create(
        ref="CHEAP", department=cast.dept_a, seats_purchased=10, unit_price=Decimal("1.00")
    )
    client = signed_in(cast.it_admin)
    url = reverse("renewals:subscription-list")

    def page() -> list[str]:
        rows = client.get(url, {"sort": "-annual_cost"}).context["table"].page.object_list
        return [row.record.ref for row in rows]

    def export() -> list[str]:
        csv = client.get(url, {"sort": "-annual_cost", "_export": "csv"}).content.decode(
            "utf-8-sig"
        )
        return [line.split(",")[0] for line in csv.splitlines()[1:]]

    before = page()
    assert before == export() and before.index("CHEAP") > 0
    ModuleFactory.create(subscription=cheap, name="AI", unit_price=Decimal("0.50"))
    assert page() == export() == before  # 15.00 a year: its place does not change
    ModuleFactory.create(subscription=cheap, name="Gantt", unit_price=Decimal("99999.00"))
    assert page() == export() == ["CHEAP"] + [ref for ref in before if ref != "CHEAP"]


def test_the_list_escapes_what_it_shows(cast: Cast, inventory: Inventory) -> None:
    SubscriptionFactory.create(
        ref="<b>R</b>", product="<script>alert(1)</script>", edition='"><img src=x>',
        department=cast.dept_a,
    )  # fmt: skip
    html = signed_in(cast.it_admin).get(reverse("renewals:subscription-list")).content.decode()
    assert "<script>alert(1)</script>" not in html and "<img src=x>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;R&lt;/b&gt;" in html
    assert "&quot;&gt;&lt;img src=x&gt;" in html


def test_pages_sorted_by_a_figure_follow_one_another(cast: Cast, inventory: Inventory) -> None:
    """Figure-sorted pages are read as sorted ids, then rows: together they are the whole list
    in the figure's order (ties by id), each row once."""
    from renewals.inventory.models import Vendor

    vendor = Vendor.objects.create(name="Bulk")
    Subscription.objects.bulk_create(
        Subscription(
            ref=f"S-{i:03d}", vendor=vendor, product=f"P{i}", department=cast.dept_a,
            seats_purchased=i % 7, unit_price=Decimal(i % 5), currency="CNY",
            billing_cycle="annual", term_start=dt.date(2026, 1, 1), term_end=dt.date(2026, 12, 31),
        )
        for i in range(120)
    )  # fmt: skip
    client = signed_in(cast.it_admin)
    url = reverse("renewals:subscription-list")
    shown = []
    for page in (1, 2, 3):
        rows = client.get(url, {"sort": "-annual_cost", "page": page}).context["table"]
        shown += [(row.record.annual_cost, row.record.pk) for row in rows.page.object_list]
    assert len(shown) == Subscription.objects.count() == 123
    known = [row for row in shown if row[0] is not None]
    assert known == sorted(known, key=lambda row: (-row[0], row[1]))
    assert shown[: len(known)] == known and len({pk for _, pk in shown}) == 123


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
    rows = {row.split("</td>")[0]: row for row in table.split("<tr><td>")[1:]}
    assert '<td class="text-end">10</td><td class="text-end">2</td></tr>' in rows["Gantt"]
    assert '<td class="text-end">4</td><td class="text-end">0</td></tr>' in rows["Wiki"]
