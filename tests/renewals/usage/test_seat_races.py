"""Two admins assigning the last free seat at once, through the page and through the API: one
succeeds, the other is told the subscription is full (no 500), and only one seat is taken."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from org import services as org_services
from org.roles import Role
from renewals.usage.models import Seat
from tests.conftest import Cast, make_user
from tests.factories import PersonFactory
from tests.renewals.usage.conftest import taken

pytestmark = pytest.mark.django_db(transaction=True)


def _race(call: Callable[[int], int]) -> list[int]:
    """Run call(0) and call(1) in two threads; both reach the insert before either writes."""
    barrier = threading.Barrier(2)
    original = Seat.save

    def save_after_both(self: Seat, *args: Any, **kwargs: Any) -> None:
        barrier.wait(timeout=10)
        original(self, *args, **kwargs)

    def run(i: int) -> int:
        try:
            return call(i)
        finally:
            connection.close()

    Seat.save = save_after_both  # type: ignore[method-assign,assignment]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return sorted(pool.map(run, range(2)))
    finally:
        Seat.save = original  # type: ignore[method-assign]


def test_two_admins_on_the_page(cast: Cast) -> None:
    sub = taken(cast, 2, 1)
    admins = [cast.it_admin, make_user("it2", Role.IT_ADMIN)]
    people = [PersonFactory.create(department=cast.dept_a) for _ in admins]
    url = reverse("renewals:seat-assign", args=[sub.pk])
    pages: dict[int, str] = {}

    def assign(i: int) -> int:
        client = Client(headers={"accept-language": "en"})
        client.force_login(admins[i])
        response = client.post(url, {"person": people[i].employee_no})
        pages[response.status_code] = response.content.decode()
        return response.status_code

    assert _race(assign) == [302, 409]
    assert "is full" in pages[409]
    assert reverse("renewals:request-create", args=[sub.pk]) + "?purpose=seats" in pages[409]
    assert Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count() == 2


def test_two_admins_through_the_api(cast: Cast) -> None:
    sub = taken(cast, 2, 1)
    admins = [cast.it_admin, make_user("it2", Role.IT_ADMIN)]
    tokens = [org_services.api_token_create(user=u) for u in admins]
    people = [PersonFactory.create(department=cast.dept_a) for _ in admins]
    bodies: dict[int, Any] = {}

    def assign(i: int) -> int:
        client = Client(headers={"Authorization": f"Token {tokens[i]}", "Accept-Language": "en"})
        response = client.post(
            reverse("api:seat-list"),
            json.dumps({"subscription": sub.pk, "person": people[i].pk}),
            content_type="application/json",
        )
        bodies[response.status_code] = response.json()
        return response.status_code

    assert _race(assign) == [201, 409]
    assert bodies[409]["code"] == "seat_limit" and "is full" in bodies[409]["detail"][0]
    assert Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count() == 2
