"""The seat requests' API: the same services, scoping and refusals as the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from org.models import Person
from renewals.inventory.models import Subscription
from renewals.seats.models import SeatRequest
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import SubscriptionFactory
from tests.renewals.seats.conftest import ask

BASE = "/api/v1/seat-requests/"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(user: Any, url: str, data: dict[str, Any] | None = None) -> Any:
    return _client(user).post(url, data or {}, content_type="application/json")


def test_ask_list_grant(cast: Cast, me: Person, free_sub: Subscription) -> None:
    module = free_sub.modules.first()
    assert module is not None
    response = _post(
        cast.employee, BASE, {"subscription": free_sub.pk, "modules": [module.pk], "reason": "评审"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "open" and body["person"] == me.pk and body["modules"] == [module.pk]
    pk = body["id"]
    # The employee sees their own; head B does not see department A's.
    assert [r["id"] for r in _client(cast.employee).get(BASE).json()["results"]] == [pk]
    assert _client(cast.head_b).get(BASE).json()["results"] == []
    assert _client(cast.head_b).get(f"{BASE}{pk}/").status_code == 404
    granted = _post(cast.software_admin, f"{BASE}{pk}/grant/")
    assert granted.status_code == 200 and granted.json()["status"] == "granted"
    # The replay: 409, already decided.
    again = _post(cast.software_admin, f"{BASE}{pk}/grant/")
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
    assert Seat.objects.filter(person=me, subscription=free_sub).count() == 1


def test_full_then_escalate_then_withdraw(cast: Cast, me: Person, full_sub: Subscription) -> None:
    pk = ask(cast, me, full_sub).pk
    full = _post(cast.head_a, f"{BASE}{pk}/grant/")
    assert full.status_code == 400 and full.json()["code"] == "seat_limit"
    escalated = _post(cast.head_a, f"{BASE}{pk}/escalate/")
    assert escalated.status_code == 200 and escalated.json()["renewal_request"] is not None
    # Only the requester withdraws.
    assert _post(cast.software_admin, f"{BASE}{pk}/withdraw/").status_code == 404
    withdrawn = _post(cast.employee, f"{BASE}{pk}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_decline_needs_an_answer(cast: Cast, me: Person, free_sub: Subscription) -> None:
    pk = ask(cast, me, free_sub).pk
    assert _post(cast.software_admin, f"{BASE}{pk}/decline/").status_code == 400
    assert (
        _post(cast.software_admin, f"{BASE}{pk}/decline/", {"answer": "x" * 2001}).status_code
        == 400
    )
    assert _post(cast.employee, f"{BASE}{pk}/decline/", {"answer": "no"}).status_code == 403
    assert _post(cast.head_b, f"{BASE}{pk}/decline/", {"answer": "no"}).status_code == 404
    done = _post(
        cast.software_admin, f"{BASE}{pk}/decline/", {"answer": "<img src=x onerror=alert(1)>"}
    )
    assert done.status_code == 200 and done.json()["status"] == "declined"


@pytest.mark.parametrize(
    "data",
    [
        {"subscription": -1},
        {"subscription": 10**25},
        {"subscription": "abc"},
        {"subscription": None},
        {},
        {"subscription": "OTHER", "modules": [10**25]},
        {"subscription": "OTHER", "modules": "x"},
        {"subscription": "OTHER", "reason": "x" * 2001},
        {"subscription": "PRIVATE"},
    ],
)
def test_broken_and_hostile_asks_write_nothing(
    cast: Cast, me: Person, free_sub: Subscription, data: dict[str, Any]
) -> None:
    private = SubscriptionFactory.create(department=cast.dept_b)
    swap = {"OTHER": free_sub.pk, "PRIVATE": private.pk}
    data = {k: swap.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    assert _post(cast.employee, BASE, data).status_code == 400
    assert not SeatRequest.objects.exists()


def test_no_directory_entry_is_a_clear_refusal(cast: Cast, free_sub: Subscription) -> None:
    response = _post(cast.employee, BASE, {"subscription": free_sub.pk})
    assert response.status_code == 400 and response.json()["code"] == "no_person"


@pytest.mark.parametrize("pk", ["0", "9" * 25, "abc", "1.5"])
def test_hostile_ids(cast: Cast, pk: str) -> None:
    assert _post(cast.it_admin, f"{BASE}{pk}/grant/").status_code == 404
    assert _client(cast.it_admin).get(f"{BASE}{pk}/").status_code == 404
