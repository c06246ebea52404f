"""Seat requests' fixtures: the employee is 甲员工's colleague 乙 in department A (a directory
entry linked to their account), and subscriptions with a given number of free seats."""

from __future__ import annotations

from typing import Any

import pytest

from org.models import Person
from renewals.inventory.models import Subscription
from renewals.seats import services
from renewals.seats.models import SeatRequest
from tests.conftest import Cast
from tests.factories import ModuleFactory, PersonFactory, SeatFactory, SubscriptionFactory


@pytest.fixture
def me(cast: Cast) -> Person:
    """The employee's own directory entry, in department A."""
    return PersonFactory.create(
        department=cast.dept_a, name="乙员工", user=cast.employee, email="yi@example.test"
    )


def subscription_with(cast: Cast, *, seats: int, taken: int, **extra: Any) -> Subscription:
    sub = SubscriptionFactory.create(
        department=extra.pop("department", cast.dept_a), seats_purchased=seats, **extra
    )
    for _ in range(taken):
        SeatFactory.create(subscription=sub, person=PersonFactory.create(department=sub.department))
    return sub


@pytest.fixture
def free_sub(cast: Cast) -> Subscription:
    """Department A's Figma: 3 seats, 1 taken, with two modules."""
    sub = subscription_with(cast, seats=3, taken=1, product="Figma")
    ModuleFactory.create(subscription=sub, name="Dev Mode")
    ModuleFactory.create(subscription=sub, name="FigJam")
    return sub


@pytest.fixture
def full_sub(cast: Cast) -> Subscription:
    """Department A's subscription A-1 with every one of its 2 seats taken."""
    sub = cast.subscription_a
    sub.seats_purchased = 2
    sub.save()
    for _ in range(2):
        SeatFactory.create(subscription=sub, person=PersonFactory.create(department=cast.dept_a))
    return sub


def ask(cast: Cast, me: Person, sub: Subscription, **kwargs: Any) -> SeatRequest:
    return services.seat_request_ask(user=cast.employee, subscription=sub, **kwargs)
