"""The API: every list endpoint's id filters offer only the user's objects and refuse the others
like a missing one; another department's object is a 404 like a missing one."""

from __future__ import annotations

import inspect
from typing import Any

import django_filters
import pytest
from django.test import Client

from budgets.models import Budget
from contracts.models import Contract
from org.models import Department, Person, User
from renewals.inventory.models import Subscription, Vendor
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.filter_scoping.offers import (
    api_endpoints,
    check_offered,
    filterset_id_filters,
    nonexistent,
)
from tests.filter_scoping.world import ROLES, World

pytestmark = pytest.mark.django_db


def _filterset(filterset_class: type[django_filters.FilterSet], user: User) -> Any:
    kwargs: dict[str, Any] = {"queryset": filterset_class._meta.model._default_manager.none()}
    if "user" in inspect.signature(filterset_class.__init__).parameters:
        kwargs["user"] = user
    return filterset_class({}, **kwargs)


def test_api_filters_offer_only_the_users_objects_and_refuse_others_like_nothing(
    cast: Cast, world: World, clients: dict[str, Client]
) -> None:
    checked = 0
    for url, filterset_class in api_endpoints():
        for role in ROLES:
            client, user = clients[role], getattr(cast, role)
            if client.get(url).status_code != 200:
                continue  # the endpoint is not theirs (the role x URL matrix checks that)
            for id_filter in filterset_id_filters(_filterset(filterset_class, user)):
                check_offered(url, role, id_filter, world)
                missing = nonexistent(id_filter.model)
                refused = client.get(url, {id_filter.name: missing})
                assert refused.status_code == 400, (url, role, id_filter.name)
                assert id_filter.name in refused.json()
                expected = refused.content.decode()  # the value sent is not repeated
                for pk in world.forbidden(role, id_filter.model):
                    answer = client.get(url, {id_filter.name: pk})
                    assert answer.status_code == 400, (url, role, id_filter.name, pk)
                    assert answer.content.decode() == expected
                for pk in sorted(world.own(role, id_filter.model))[:1]:
                    assert client.get(url, {id_filter.name: pk}).status_code == 200
                checked += 1
    assert checked > 40  # every endpoint's id filters, for every role that may list it


def test_api_detail_of_another_departments_object_is_a_404_like_a_missing_one(
    cast: Cast, world: World, clients: dict[str, Client]
) -> None:
    kinds = {"departments": Department, "people": Person, "vendors": Vendor,
             "subscriptions": Subscription, "seats": Seat, "contracts": Contract,
             "budgets": Budget}  # fmt: skip
    for prefix, model in kinds.items():
        for role in ("head_a", "head_b", "software_admin"):
            client = clients[role]
            missing = client.get(f"/api/v1/{prefix}/{nonexistent(model)}/")
            assert missing.status_code in (403, 404), (prefix, role)
            for pk in world.forbidden(role, model):
                answer = client.get(f"/api/v1/{prefix}/{pk}/")
                assert (answer.status_code, answer.json()) == (
                    missing.status_code,
                    missing.json(),
                ), (prefix, role)
