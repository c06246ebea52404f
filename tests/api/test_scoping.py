"""The REST API (/api/v1/): scoping (each user sees only their departments, filters cannot widen
it), allowlisted ordering, fixed query counts."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection
from django.test import Client
from django.urls import reverse

from renewals.requests import services as request_services
from renewals.usage.models import MonthlyUsage
from tests.api.helpers import api
from tests.conftest import Cast
from tests.factories import ModuleFactory, SubscriptionFactory


def test_each_head_sees_only_their_departments_everywhere(cast: Cast) -> None:
    SubscriptionFactory.create(department=cast.dept_b, ref="B-1")
    child = SubscriptionFactory.create(department=cast.dept_a_child, ref="A-QA-1")
    head_a, head_b = api(cast.head_a), api(cast.head_b)

    def refs(client: Client) -> set[str]:
        return {s["ref"] for s in client.get(reverse("api:subscription-list")).json()["results"]}

    assert refs(head_a) == {"A-1", child.ref}  # sub-departments included
    assert refs(head_b) == {"B-1"}
    assert refs(api(cast.auditor)) == {"A-1", "A-QA-1", "B-1"}
    people_b = head_b.get(reverse("api:person-list")).json()["results"]
    assert cast.person_a.employee_no not in {p["employee_no"] for p in people_b}
    assert head_b.get(reverse("api:budget-list")).json()["results"] == []
    # Filters are the list pages' FilterSets: another department is not a choice (400), the
    # scope cannot be widened.
    forced = head_b.get(reverse("api:subscription-list"), {"department": cast.dept_a.pk})
    assert forced.status_code == 400 and "department" in forced.json()
    own = head_a.get(reverse("api:subscription-list"), {"department": cast.dept_a_child.pk})
    assert [s["ref"] for s in own.json()["results"]] == [child.ref]
    found = head_a.get(reverse("api:subscription-list"), {"q": "A-QA", "renews_within": "30"})
    assert found.status_code == 200


def test_ordering_takes_only_allowlisted_fields(cast: Cast) -> None:
    client = api(cast.it_admin)
    url = reverse("api:subscription-list")
    assert client.get(url, {"ordering": "-term_end"}).status_code == 200
    # A field outside the list (or a relation walk into users' passwords) is ignored.
    for hostile in ("owner__password", "department__heads__password", "notes", "'; DROP"):
        response = client.get(url, {"ordering": hostile})
        assert response.status_code == 200, hostile


def test_list_endpoints_use_a_fixed_number_of_queries(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    client = api(cast.it_admin)
    names = [
        "api:subscription-list", "api:request-list", "api:person-list", "api:budget-list",
        "api:contract-list", "api:usage-list", "api:seat-list", "api:delivery-list",
        "api:vendor-list", "api:ledger-entry-list",
    ]  # fmt: skip

    def counts() -> dict[str, int]:
        from django.test.utils import CaptureQueriesContext

        found = {}
        for name in names:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse(name)).status_code == 200, name
            found[name] = len(queries)
        return found

    def add(i: int) -> None:
        subscription = SubscriptionFactory.create(department=cast.dept_a)
        ModuleFactory.create(subscription=subscription)
        request_services.request_create(subscription=subscription, user=cast.software_admin)
        MonthlyUsage.objects.create(
            subscription=subscription, month=date(2026, 10, 1), active_users=i
        )

    add(0)
    small = counts()
    for i in range(1, 31):
        add(i)
    for name, count in counts().items():
        assert count == small[name], (name, small[name], count)
    with django_assert_max_num_queries(8):
        client.get(reverse("api:subscription-list"))
