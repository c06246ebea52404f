"""The list pages: every id filter offers only the user's objects and refuses the others like a
missing one (the error under the field); no FilterSet escapes the walk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import django_filters
import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from org.models import Department
from tests.conftest import Cast
from tests.filter_scoping.offers import (
    IdFilter,
    api_endpoints,
    check_offered,
    filterset_id_filters,
    form_id_filters,
    nonexistent,
)
from tests.filter_scoping.world import ROLES, World

pytestmark = pytest.mark.django_db


# The list pages with filters (url name); the API's list endpoints come from its router.
PAGES = [
    "renewals:subscription-list",
    "renewals:request-list",
    "renewals:suggestion-list",
    "renewals:risk-list",
    "renewals:calendar",
    "contracts:contract-list",
    "org:person-list",
    "audit-list",
]


def page_id_filters(response: Any) -> tuple[list[IdFilter], Any]:
    """The page's id filters and a function giving the errors shown under one of them."""
    context = response.context
    if "department_errors" in context:  # the calendar: a select of the user's departments
        departments = {d.pk for d in context["departments"]}
        field_ = forms.ChoiceField(choices=[(pk, "") for pk in departments])
        return [IdFilter("department", Department, departments, field_)], (
            lambda r, name: list(r.context["department_errors"])
        )
    found = context.get("filter") or context.get("form")
    if isinstance(found, django_filters.FilterSet):
        return filterset_id_filters(found), (
            lambda r, name: list(r.context["filter"].form.errors.get(name, []))
        )
    key = "filter" if "filter" in context else "form"
    return form_id_filters(found), lambda r, name: list(r.context[key].errors.get(name, []))


def test_page_filters_offer_only_the_users_objects_and_refuse_others_like_nothing(
    cast: Cast, world: World, clients: dict[str, Client]
) -> None:
    checked = 0
    for name in PAGES:
        url = reverse(name)
        for role in ROLES:
            client = clients[role]
            page = client.get(url)
            if page.status_code != 200:
                continue  # not their page
            id_filters, errors = page_id_filters(page)
            for id_filter in id_filters:
                check_offered(url, role, id_filter, world)
                missing = nonexistent(id_filter.model)
                refused = client.get(url, {id_filter.name: missing})
                expected = errors(refused, id_filter.name)
                assert refused.status_code == 200 and expected, (url, role, id_filter.name)
                for pk in world.forbidden(role, id_filter.model):
                    answer = client.get(url, {id_filter.name: pk})
                    assert answer.status_code == 200
                    assert errors(answer, id_filter.name) == expected, (url, role, pk)
                for pk in sorted(world.own(role, id_filter.model))[:1]:
                    assert errors(client.get(url, {id_filter.name: pk}), id_filter.name) == []
                checked += 1
    assert checked > 25


def test_every_filterset_is_checked_by_an_api_endpoint_or_a_listed_page(
    cast: Cast, clients: dict[str, Client]
) -> None:
    """A new list (page or API) with a FilterSet must be added to PAGES or the router."""
    used = {filterset_class for _url, filterset_class in api_endpoints()}
    for name in PAGES:
        found = clients["it_admin"].get(reverse(name)).context
        filterset = found.get("filter") if found is not None else None
        if isinstance(filterset, django_filters.FilterSet):
            used.add(type(filterset))

    def subclasses(cls: type) -> Iterator[type]:
        sub: type
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {
        cls
        for cls in subclasses(django_filters.FilterSet)
        if cls.__module__.split(".")[0] in {"config", "org", "budgets", "renewals", "contracts"}
    }
    assert ours - used == set()
