"""Subscription list (filters, scoping, exports, sorting by figures); query counts of the list,
vendors, findings and a subscription's page."""

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
    # Room for the seats below (the purchased count is a hard limit).
    Subscription.objects.filter(pk=inventory.jira.pk).update(seats_purchased=100)
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
