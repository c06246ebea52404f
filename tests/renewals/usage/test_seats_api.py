"""Seat changes through the API (/api/v1/seats/): assign, revoke with a reason, reassign; the
same services and refusals as the pages; a full subscription is a 409 with the message."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from renewals.usage.models import Seat
from tests.api.helpers import api, post
from tests.conftest import Cast
from tests.factories import ModuleFactory, PersonFactory, SeatFactory, SubscriptionFactory
from tests.renewals.usage.conftest import taken

pytestmark = pytest.mark.django_db
CREATE = "api:seat-list"


def _active(sub: Any) -> int:
    return Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count()


def test_assign_revoke_and_reassign(cast: Cast) -> None:
    sub = taken(cast, 2, 0)
    gantt = ModuleFactory.create(subscription=sub, name="Gantt")
    person = PersonFactory.create(department=cast.dept_a)
    client = api(cast.software_admin, language="en")
    response = post(
        client,
        reverse(CREATE),
        {"subscription": sub.pk, "person": person.pk, "modules": [gantt.pk], "account": "wl"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["person"] == person.pk and body["account"] == "wl" and body["revoked_on"] is None
    seat = Seat.objects.get(pk=body["id"])
    assert list(seat.modules.all()) == [gantt]
    newcomer = PersonFactory.create(department=cast.dept_a)
    url = reverse("api:seat-reassign", args=[seat.pk])
    response = post(client, url, {"person": newcomer.pk, "reason": "调岗"})
    assert response.status_code == 200 and response.json()["person"] == newcomer.pk
    seat.refresh_from_db()
    assert seat.revoke_reason == "调岗" and seat.revoked_on is not None
    new_id = response.json()["id"]
    response = post(client, reverse("api:seat-revoke", args=[new_id]), {"reason": "不再使用"})
    assert response.status_code == 200
    assert response.json()["revoke_reason"] == "不再使用" and response.json()["revoked_on"]
    assert _active(sub) == 0
    # Revoking again: refused with the service's message.
    response = post(client, reverse("api:seat-revoke", args=[new_id]), {"reason": "x"})
    assert response.status_code == 400 and "already revoked" in str(response.json())


def test_a_full_subscription_is_a_409_with_the_message(cast: Cast) -> None:
    sub = taken(cast, 1, 1)
    client = api(cast.it_admin, language="en")
    person = PersonFactory.create(department=cast.dept_a)
    response = post(client, reverse(CREATE), {"subscription": sub.pk, "person": person.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "seat_limit" and "is full" in response.json()["detail"][0]
    assert _active(sub) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"subscription": 10**25},
        {"subscription": -1},
        {"subscription": "<script>alert(1)</script>"},
        {"person": 10**25},
        {"person": "1.5"},
        {"modules": [10**25]},
        {"modules": ["<b>"]},
        {"modules": "Gantt"},
        {"modules": [-1]},
        {"account": "a" * 151},
        {"other_department_subscription": True},
        {"other_department_person": True},
        {"leaver": True},
        {"other_subscription_module": True},
    ],
)
def test_broken_and_hostile_input_writes_nothing(cast: Cast, change: dict[str, Any]) -> None:
    sub = taken(cast, 3, 0)
    body: dict[str, Any] = {"subscription": sub.pk, "person": cast.person_a.pk}
    if change.pop("other_department_subscription", False):
        body["subscription"] = SubscriptionFactory.create(department=cast.dept_b).pk
    if change.pop("other_department_person", False):
        body["person"] = PersonFactory.create(department=cast.dept_b).pk
    if change.pop("leaver", False):
        body["person"] = PersonFactory.create(
            department=cast.dept_a, status="left", left_on=dt.date(2026, 1, 1)
        ).pk
    if change.pop("other_subscription_module", False):
        body["modules"] = [ModuleFactory.create().pk]
    body.update(change)
    response = post(api(cast.software_admin), reverse(CREATE), body)
    assert response.status_code == 400, response.content
    assert Seat.objects.count() == 0


def test_revoke_and_reassign_refuse_bad_input(cast: Cast) -> None:
    sub = taken(cast, 2, 1)
    seat = Seat.objects.get(subscription=sub)
    client = api(cast.software_admin)
    for data in [{}, {"reason": ""}, {"reason": "r" * 201}, {"reason": ["x"]}]:
        assert post(client, reverse("api:seat-revoke", args=[seat.pk]), data).status_code == 400
    url = reverse("api:seat-reassign", args=[seat.pk])
    for data in [{"reason": "x"}, {"person": 10**25, "reason": "x"}, {"person": cast.person_a.pk}]:
        assert post(client, url, data).status_code == 400
    for pk in ["1.5", "0", "-1", "9" * 25]:
        assert client.post(f"/api/v1/seats/{pk}/revoke/", {}).status_code == 404
    seat.refresh_from_db()
    assert seat.revoked_on is None and Seat.objects.count() == 1
    # Another department's seat: 404, untouched.
    seat_b = SeatFactory.create(
        subscription=SubscriptionFactory.create(department=cast.dept_b),
        person=PersonFactory.create(department=cast.dept_b),
    )
    assert (
        post(client, reverse("api:seat-revoke", args=[seat_b.pk]), {"reason": "x"}).status_code
        == 404
    )
    # Finance reads seats but may not change them.
    assert (
        post(
            api(cast.finance), reverse("api:seat-revoke", args=[seat.pk]), {"reason": "x"}
        ).status_code
        == 403
    )
