"""Ids outside the list filters: a person's page lists only the seats the viewer may see, an id of
another department in a body is refused like a missing one, budget years are whole numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from org.models import Department, Person
from renewals.inventory.models import Subscription
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.filter_scoping.offers import (
    nonexistent,
)
from tests.filter_scoping.world import SEE_ALL, World

pytestmark = pytest.mark.django_db


# --- a person's page -------------------------------------------------------------------------


def test_a_persons_page_lists_only_the_seats_the_viewer_may_see(
    cast: Cast, world: World, clients: dict[str, Client]
) -> None:
    """Person A also holds a seat of department B's tool: head A sees only A's seat (and no
    name of B's tool), like the API's seat list; the roles that see everything see both."""
    sub_b = Subscription.objects.get(ref="B-1")
    sub_b.product = "Secret tool of B"
    sub_b.save()
    Seat.objects.create(subscription=cast.subscription_a, person=cast.person_a, assigned_on=dt.date(2026, 1, 1))  # fmt: skip
    Seat.objects.create(subscription=sub_b, person=cast.person_a, assigned_on=dt.date(2026, 1, 1))
    url = reverse("renewals:person-detail", args=[cast.person_a.pk])
    for role in ("head_a", "software_admin"):
        page = clients[role].get(url)
        assert page.status_code == 200
        assert [s.subscription_id for s in page.context["seats"]] == [cast.subscription_a.pk]
        body = page.content.decode()
        assert "Secret tool of B" not in body and sub_b.ref not in body
        api_seats = clients[role].get("/api/v1/seats/", {"person": cast.person_a.pk}).json()
        assert {s["subscription"] for s in api_seats["results"]} == {cast.subscription_a.pk}
    for role in SEE_ALL:
        page = clients[role].get(url)
        assert {s.subscription_id for s in page.context["seats"]} == {
            cast.subscription_a.pk,
            sub_b.pk,
        }
        assert "Secret tool of B" in page.content.decode()
    assert clients["head_b"].get(url).status_code == 404


# --- ids in bodies ---------------------------------------------------------------------------


def _scrubbed(response: Any, pk: int) -> tuple[int, str]:
    """Status and body, the id sent replaced (DRF's 'Invalid pk "5"' repeats it)."""
    return response.status_code, response.content.decode().replace(str(pk), "ID")


def test_an_id_of_another_department_in_a_body_is_refused_like_a_missing_one(
    cast: Cast, world: World, clients: dict[str, Client]
) -> None:
    """Opening a request (subscription) and adding a person (department) through the API."""
    cases = [
        ("/api/v1/requests/", "subscription", Subscription, {}),
        ("/api/v1/people/", "department", Department, {"employee_no": "E-new", "name": "新人"}),
    ]
    for url, name, model, extra in cases:
        for role in ("head_a", "head_b", "software_admin"):
            client = clients[role]
            missing = nonexistent(model)
            expected = _scrubbed(
                client.post(url, {**extra, name: missing}, content_type="application/json"),
                missing,
            )
            assert expected[0] == 400, (url, role)
            for pk in world.forbidden(role, model):
                answer = client.post(url, {**extra, name: pk}, content_type="application/json")
                assert _scrubbed(answer, pk) == expected, (url, role)
    assert not Person.objects.filter(employee_no="E-new").exists()


def test_the_budget_years_filter_takes_whole_numbers_only(
    cast: Cast, clients: dict[str, Client]
) -> None:
    """The schema says integer; a decimal was read as a number and answered with an empty list
    (found by the API fuzzer once the department filter's schema changed)."""
    client = clients["finance"]
    assert client.get("/api/v1/budgets/", {"year": "2027"}).json()["count"] == 1
    for value in ("2027.5", "-1.7e-31", "year"):
        assert client.get("/api/v1/budgets/", {"year": value}).status_code == 400, value
