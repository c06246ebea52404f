"""The objects of departments A (with its sub-department) and B, and a signed-in client per role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from budgets.models import Budget
from contracts.services import contract_save
from org.models import Department
from renewals.inventory.models import Subscription
from renewals.risks.models import Risk
from renewals.suggestions.models import Suggestion
from renewals.usage.models import Seat
from tests.conftest import Cast, make_user
from tests.factories import PersonFactory, SubscriptionFactory, VendorFactory
from tests.filter_scoping.world import ROLES, World


def _department_side(
    cast: Cast, world: World, side: str, department: Department, subscription: Subscription
) -> None:
    person = PersonFactory.create(department=department)
    seat = Seat.objects.create(
        subscription=subscription, person=person, assigned_on=dt.date(2026, 1, 1)
    )
    owner = make_user(f"owner_{side}")
    risk = Risk.objects.create(
        category="other", title=f"risk {side}", department=department, subscription=subscription,
        owner=owner,
    )  # fmt: skip
    contract = contract_save(
        user=cast.it_admin,
        subscription=subscription,
        data={
            "number": f"{side}-C-1", "counterparty": f"counterparty {side}",
            "valid_from": dt.date(2027, 1, 1), "valid_to": dt.date(2027, 12, 31),
            "total_value": 1000,
        },
    )  # fmt: skip
    budget = Budget.objects.get_or_create(department=department, year=2027)[0]
    suggestion = Suggestion.objects.create(
        subscription=subscription, author=cast.it_admin, title=f"suggestion {side}"
    )
    world.add(side, department, person, seat, owner, risk, contract, budget, suggestion)
    world.add(side, subscription, subscription.vendor)


@pytest.fixture
def world(cast: Cast) -> World:
    world = World()
    vendor_a, vendor_b = VendorFactory.create(name="Vendor of A"), VendorFactory.create(name="B's")
    cast.subscription_a.vendor = vendor_a
    cast.subscription_a.save()
    sub_child = SubscriptionFactory.create(department=cast.dept_a_child, vendor=vendor_a)
    sub_b = SubscriptionFactory.create(department=cast.dept_b, vendor=vendor_b, ref="B-1")
    _department_side(cast, world, "a", cast.dept_a, cast.subscription_a)
    _department_side(cast, world, "b", cast.dept_b, sub_b)
    world.add("a", cast.dept_a_child, sub_child, cast.person_a, cast.budget_a)
    return world


@pytest.fixture
def clients(cast: Cast) -> dict[str, Client]:
    found = {}
    for role in ROLES:
        client = Client()
        client.force_login(getattr(cast, role))
        found[role] = client
    return found
