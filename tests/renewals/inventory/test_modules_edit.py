"""A subscription's modules kept in the app (#18): IT admins, and the heads and software admins
of its department, add, change, archive and restore them from the subscription page; another
department's module is a 404; bad input is refused with the rules' message and writes nothing;
archiving keeps the history and takes the module out of the yearly cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from pghistory.models import Events

from renewals.inventory import selectors as subs
from renewals.inventory.models import Module, Subscription
from renewals.inventory.services import modules as services
from renewals.usage.models import MonthlyUsage, Seat
from tests.conftest import Cast
from tests.renewals.conftest import Inventory


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def codes(response: Any) -> dict[str, list[str]]:
    form = response.context["form"]
    return {f: [e.code or "" for e in errs] for f, errs in form.errors.as_data().items()}


def modules_of(subscription: Subscription) -> list[tuple[str, Decimal | None, int | None]]:
    return list(
        Module.objects.filter(subscription=subscription)
        .order_by("name")
        .values_list("name", "unit_price", "licensed_seats")
    )


@pytest.mark.parametrize("role", ["it_admin", "head_a", "software_admin"])
def test_the_department_s_managers_add_and_edit_modules(
    cast: Cast, inventory: Inventory, role: str
) -> None:
    jira = inventory.jira  # 10 seats
    client = client_for(getattr(cast, role))
    page = client.get(jira.get_absolute_url()).content.decode()
    assert 'data-testid="module-add"' in page
    add = reverse("renewals:module-add", args=[jira.pk])
    response = client.post(
        add, {"name": " Automation ", "unit_price": "3.5", "licensed_seats": "4"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#modules")
    module = Module.objects.get(subscription=jira, name="Automation")
    assert (module.unit_price, module.licensed_seats) == (Decimal("3.50"), 4)
    edit = reverse("renewals:module-edit", args=[module.pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, {"name": "Automation Pro", "unit_price": "", "licensed_seats": ""})
    assert response.status_code == 302
    module.refresh_from_db()
    assert (module.name, module.unit_price, module.licensed_seats) == ("Automation Pro", None, None)
    update = [e for e in Events.objects.tracks(module) if e.pgh_label == "update"][-1]
    assert update.pgh_context["user"] == getattr(cast, role).pk


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("unit_price", "-1", "negative"),
        ("unit_price", "-0.01", "negative"),
        ("unit_price", "1" * 25, "too_large"),
        ("unit_price", "10000000000", "too_large"),
        ("unit_price", "1.234", "too_many_decimals"),
        ("unit_price", "1e30", "too_large"),
        ("unit_price", "NaN", "not_a_decimal"),
        ("unit_price", "12,5", "not_a_decimal"),
        ("licensed_seats", "0", "too_small"),
        ("licensed_seats", "-3", "too_small"),
        ("licensed_seats", "11", "too_large"),
        ("licensed_seats", "9" * 25, "too_large"),
        ("licensed_seats", "2.5", "not_a_number"),
        ("name", "", "required"),
        ("name", "x" * 81, "too_long"),
        ("name", "gantt", "duplicate"),
    ],
)
def test_bad_module_input_is_refused_and_nothing_is_written(
    cast: Cast, inventory: Inventory, field: str, value: str, code: str
) -> None:
    jira = inventory.jira
    before = modules_of(jira)
    data = {"name": "Docs", "unit_price": "1.00", "licensed_seats": "5", field: value}
    response = client_for(cast.it_admin).post(reverse("renewals:module-add", args=[jira.pk]), data)
    assert response.status_code == 200
    assert codes(response) == {field: [code]}
    assert modules_of(jira) == before
    # The service refuses the same (the API and anything else that calls it).
    with pytest.raises(ValidationError) as caught:
        services.module_create(user=cast.it_admin, subscription=jira, data=data)
    assert [e.code for e in caught.value.error_dict[field]] == [code]
    assert modules_of(jira) == before


def test_the_largest_price_that_fits_is_taken(cast: Cast, inventory: Inventory) -> None:
    module = services.module_create(
        user=cast.it_admin,
        subscription=inventory.jira,
        data={"name": "Max", "unit_price": "9999999999.99", "licensed_seats": 10},
    )
    module.refresh_from_db()
    assert module.unit_price == Decimal("9999999999.99")


def test_renaming_onto_another_module_is_refused(cast: Cast, inventory: Inventory) -> None:
    other = services.module_create(
        user=cast.it_admin, subscription=inventory.jira, data={"name": "Docs"}
    )
    edit = reverse("renewals:module-edit", args=[other.pk])
    response = client_for(cast.it_admin).post(edit, {"name": "GANTT"})
    assert codes(response) == {"name": ["duplicate"]}
    other.refresh_from_db()
    assert other.name == "Docs"


@pytest.mark.parametrize("role", ["head_b", "finance", "auditor", "employee"])
def test_others_may_not_touch_department_a_s_modules(
    cast: Cast, inventory: Inventory, role: str
) -> None:
    """Head B: A's subscription and module do not exist for them (404); finance, auditors and
    employees hold no role that edits modules (403)."""
    jira, gantt = inventory.jira, inventory.gantt
    expected = 404 if role == "head_b" else 403
    client = client_for(getattr(cast, role))
    before = modules_of(jira)
    urls = [
        reverse("renewals:module-add", args=[jira.pk]),
        reverse("renewals:module-edit", args=[gantt.pk]),
        reverse("renewals:module-archive", args=[gantt.pk]),
        reverse("renewals:module-restore", args=[gantt.pk]),
    ]
    for url in urls:
        assert client.post(url, {"name": "X", "unit_price": "1"}).status_code == expected, url
    assert client.get(urls[1]).status_code == expected
    assert modules_of(jira) == before
    with pytest.raises(PermissionDenied):
        services.module_create(user=getattr(cast, role), subscription=jira, data={"name": "X"})
    if role in ("finance", "auditor"):  # they see the page, without the actions
        page = client.get(jira.get_absolute_url()).content.decode()
        assert 'data-testid="module-add"' not in page
        assert reverse("renewals:module-archive", args=[gantt.pk]) not in page


def test_head_b_manages_their_own_subscription_s_modules(cast: Cast, inventory: Inventory) -> None:
    feishu = inventory.feishu_b
    client = client_for(cast.head_b)
    response = client.post(reverse("renewals:module-add", args=[feishu.pk]), {"name": "审批"})
    assert response.status_code == 302
    assert modules_of(feishu) == [("审批", None, None)]


def test_archiving_keeps_the_history_and_lowers_the_yearly_cost(
    cast: Cast, inventory: Inventory
) -> None:
    jira, gantt = inventory.jira, inventory.gantt  # 10 seats × 8.00 USD + Gantt 2.00 × 10
    seat = Seat.objects.create(
        subscription=jira, person=cast.person_a, assigned_on=dt.date(2026, 3, 1)
    )
    seat.modules.add(gantt)
    MonthlyUsage.objects.create(
        subscription=jira, module=gantt, month=dt.date(2026, 9, 1), active_users=6
    )

    def yearly() -> Decimal:
        cost = subs.with_figures(Subscription.objects.filter(pk=jira.pk)).get().annual_cost
        assert cost is not None
        return cost

    before = yearly()
    client = client_for(cast.software_admin)
    response = client.post(reverse("renewals:module-archive", args=[gantt.pk]))
    assert response.status_code == 302
    gantt.refresh_from_db()
    assert gantt.archived_at is not None
    # 2.00 USD × 10 seats × 12 months × 7.2 less a year.
    assert before - yearly() == Decimal("1728.00")
    # The history stays: the seat still held it, its usage is still there.
    assert list(seat.modules.all()) == [gantt]
    assert MonthlyUsage.objects.filter(module=gantt).count() == 1
    # The page marks it archived and offers restoring, not editing.
    page = client.get(jira.get_absolute_url()).content.decode()
    assert reverse("renewals:module-restore", args=[gantt.pk]) in page
    assert reverse("renewals:module-edit", args=[gantt.pk]) not in page
    # An archived module is not edited until restored.
    edit = reverse("renewals:module-edit", args=[gantt.pk])
    client.post(edit, {"name": "Renamed", "unit_price": "1"})
    gantt.refresh_from_db()
    assert gantt.name == "Gantt"
    client.post(reverse("renewals:module-restore", args=[gantt.pk]))
    assert yearly() == before


def test_an_archived_subscription_s_modules_do_not_change(cast: Cast, inventory: Inventory) -> None:
    Subscription.objects.filter(pk=inventory.jira.pk).update(archived_at="2026-06-01T00:00:00Z")
    with pytest.raises(ValidationError):
        services.module_create(user=cast.it_admin, subscription=inventory.jira, data={"name": "X"})
    assert modules_of(inventory.jira) == [("Gantt", Decimal("2.00"), None)]


def test_hostile_ids_are_404s(cast: Cast, inventory: Inventory) -> None:
    client = client_for(cast.it_admin)
    assert client.get("/modules/999999999/edit/").status_code == 404
    assert client.get("/modules/99999999999999999999999/edit/").status_code == 404
    assert client.post("/subscriptions/999999999/modules/add/", {"name": "X"}).status_code == 404
    assert client.post("/modules/1.5/archive/").status_code == 404
