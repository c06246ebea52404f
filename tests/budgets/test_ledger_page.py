"""A ledger finance can read (#15 point 7): signed amounts, the running *available* balance, the
source as a link (only when the viewer may open it), filters offering what was booked, exports
with the same columns and plain signed numbers, and a fixed number of queries."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budgets import services
from budgets.models import LedgerEntry
from budgets.selectors import balance, ledger_lines
from renewals.requests import services as request_services
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def a_request(cast: Cast, department: object) -> RenewalRequest:
    subscription = SubscriptionFactory.create(department=department)
    user = cast.it_admin
    return request_services.request_create(subscription=subscription, user=user)


@pytest.fixture
def booked(cast: Cast) -> dict[str, object]:
    """Budget A 2027 (15% reserve, the cast's 100 allocated) with one entry of every kind."""
    budget, f = cast.budget_a, cast.finance
    other = services.budget_for(department=cast.dept_b, year=2027)
    request = a_request(cast, cast.dept_a)
    services.budget_allocate(budget=budget, amount=Decimal("1000"), user=f, memo="m",
                             category="saas")  # fmt: skip
    services.budget_transfer(source=budget, target=other, amount=Decimal("50"), user=f, memo="m")
    services.budget_release_reserve(budget=budget, amount=Decimal("20"), user=f, memo="m")
    ref = request.budget_reference
    services.budget_commit(department=cast.dept_a, year=2027, amount=Decimal("300"),
                           reference=ref, user=f, memo="m")  # fmt: skip
    services.budget_book_actual(department=cast.dept_a, year=2027, amount=Decimal("280"),
                                reference=ref, user=f, memo="m", paid_on=None)  # fmt: skip
    wrong = services.budget_adjust(budget=budget, amount=Decimal("-10"), user=f, memo="m")
    services.budget_reverse(entry=wrong, user=f, memo="m")
    return {"budget": budget, "request": request}


def test_amounts_are_signed_by_their_effect_and_available_runs(
    cast: Cast, booked: dict[str, object], settings: object
) -> None:
    lines = ledger_lines(cast.budget_a)
    actual_year = services.actuals_year(term_year=2027)
    shown = [(line.entry.kind, line.signed) for line in lines]
    expected = [
        ("allocation", Decimal("100.00")),
        ("allocation", Decimal("1000.00")),
        ("transfer", Decimal("-50.00")),  # out
        ("reserve_release", Decimal("-20.00")),  # the reserve shrinks
        ("commitment", Decimal("300.00")),
        ("commitment_release", Decimal("-300.00")),
        *([("actual", Decimal("280.00"))] if actual_year == 2027 else []),
        ("adjustment", Decimal("-10.00")),
        ("reversal", Decimal("10.00")),  # the opposite of the cut it cancels
    ]
    assert shown == expected
    # Available after each line: allocated - 15% reserve (less what was released) - committed -
    # actual, as the balance computes it.
    available = [line.available_after for line in lines]
    assert available[:6] == [
        Decimal("85.00"),  # 100 - 15
        Decimal("935.00"),  # 1100 - 165
        Decimal("892.50"),  # 1050 - 157.50
        Decimal("912.50"),  # reserve 137.50
        Decimal("612.50"),
        Decimal("912.50"),
    ]
    assert available[-1] == balance(cast.budget_a).available


def test_the_page_shows_signed_amounts_available_and_explains_the_signs(
    cast: Cast, booked: dict[str, object]
) -> None:
    page = signed_in(cast.finance).get(cast.budget_a.get_absolute_url())
    table = page.context["table"]
    headers = [str(c.header) for c in table.columns]
    assert "记账后可用" in headers and "来源" in headers
    rows = list(table.page.object_list)
    assert rows[-1].get_cell_value("available_after") == balance(cast.budget_a).available
    release = next(r for r in rows if r.record.entry.kind == "commitment_release")
    assert release.get_cell_value("signed") == Decimal("-300.00")
    html = page.content.decode()
    assert 'data-testid="ledger-signs"' in html
    # Amount columns are right-aligned, header and cells.
    assert html.count('<th class="text-end') >= 3


def test_the_source_is_a_link_only_for_who_may_open_it(
    cast: Cast, booked: dict[str, object]
) -> None:
    request = booked["request"]
    assert isinstance(request, RenewalRequest)
    url = request.get_absolute_url()
    for user in (cast.finance, cast.head_a, cast.auditor):
        html = signed_in(user).get(cast.budget_a.get_absolute_url()).content.decode()
        assert f'<a href="{url}">' in html and f"续费申请 #{request.pk}" in html, user
        assert "renewals.RenewalRequest:" not in html
    # A request of department B booked (by hand) on A's budget: head A may not open it, so it
    # is named, not linked.
    foreign = a_request(cast, cast.dept_b)
    services.budget_commit(
        department=cast.dept_a, year=2027, amount=Decimal("1"),
        reference=foreign.budget_reference, user=cast.finance, memo="m",
    )  # fmt: skip
    html = signed_in(cast.head_a).get(cast.budget_a.get_absolute_url()).content.decode()
    assert f"续费申请 #{foreign.pk}" in html
    assert f'href="{foreign.get_absolute_url()}"' not in html
    assert "renewals.RenewalRequest:" not in html
    finance = signed_in(cast.finance).get(cast.budget_a.get_absolute_url()).content.decode()
    assert f'href="{foreign.get_absolute_url()}"' in finance


def test_filters_offer_what_was_booked(cast: Cast, booked: dict[str, object]) -> None:
    client = signed_in(cast.finance)
    page = client.get(cast.budget_a.get_absolute_url())
    kinds = [value for value, _label in page.context["kinds"]]
    booked_kinds = set(
        LedgerEntry.objects.filter(budget=cast.budget_a).values_list("kind", flat=True)
    )
    assert set(kinds) == booked_kinds and "support" not in kinds
    categories = dict(page.context["categories"])
    assert set(categories) == {"general", "saas"}
    saas = client.get(cast.budget_a.get_absolute_url(), {"category": "saas"}).context["table"]
    assert [r.record.entry.category for r in saas.page.object_list] == ["saas"]
    general = client.get(cast.budget_a.get_absolute_url(), {"category": "general"})
    assert "saas" not in {
        r.record.entry.category for r in general.context["table"].page.object_list
    }
    # A value that was never booked (or made up) filters nothing.
    made_up = client.get(cast.budget_a.get_absolute_url(), {"category": "support", "kind": "x"})
    assert made_up.status_code == 200
    assert len(made_up.context["table"].page.object_list) == len(ledger_lines(cast.budget_a))


def test_the_export_has_the_pages_columns_with_plain_signed_numbers(
    cast: Cast, booked: dict[str, object]
) -> None:
    client = signed_in(cast.finance)
    page = client.get(cast.budget_a.get_absolute_url())
    headers = [str(c.header) for c in page.context["table"].columns]
    response = client.get(cast.budget_a.get_absolute_url(), {"_export": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == headers
    by_kind = {row[1]: row for row in rows[1:]}
    release = by_kind["释放占用"]
    assert release[headers.index("金额（元）")] == "-300.00"
    request = booked["request"]
    assert isinstance(request, RenewalRequest)
    assert release[headers.index("来源")] == f"续费申请 #{request.pk}"
    assert rows[-1][headers.index("记账后可用")] == str(balance(cast.budget_a).available)


def test_the_ledger_page_costs_the_same_queries_however_long(
    cast: Cast, booked: dict[str, object]
) -> None:
    url = cast.budget_a.get_absolute_url()
    clients = {"head": signed_in(cast.head_a), "finance": signed_in(cast.finance)}

    def counts() -> dict[str, int]:
        found = {}
        for name, client in clients.items():
            client.get(url)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found[name] = len(queries.captured_queries)
        return found

    small = counts()
    for i in range(15):
        request = a_request(cast, cast.dept_a)
        services.budget_commit(
            department=cast.dept_a, year=2027, amount=Decimal(i + 1),
            reference=request.budget_reference, user=cast.finance, memo="m",
        )  # fmt: skip
        wrong = services.budget_allocate(
            budget=cast.budget_a, amount=Decimal(1), user=cast.finance, memo="m"
        )
        services.budget_reverse(entry=wrong, user=cast.finance, memo="m")
    assert counts() == small


def test_the_api_gives_the_same_signed_amounts(cast: Cast, booked: dict[str, object]) -> None:
    from tests.api.helpers import api

    query = {"budget": str(cast.budget_a.pk), "ordering": "id"}
    listed = api(cast.finance).get(reverse("api:ledger-entry-list"), query)
    assert listed.status_code == 200
    signed = {row["id"]: Decimal(row["signed_amount"]) for row in listed.json()["results"]}
    assert signed == {line.entry.pk: line.signed for line in ledger_lines(cast.budget_a)}
    assert Decimal("-300.00") in signed.values()
