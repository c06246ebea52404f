"""What the seats pages' tests share: a signed-in client, a subscription of department A with
some seats taken, messages in English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.utils import translation

from org.models import User
from renewals.inventory.models import Subscription
from tests.conftest import Cast
from tests.factories import PersonFactory, SeatFactory, SubscriptionFactory


@pytest.fixture
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def client_for(user: User, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def taken(cast: Cast, seats: int, taken: int) -> Subscription:
    """A subscription of department A with ``seats`` purchased and ``taken`` assigned."""
    sub = SubscriptionFactory.create(department=cast.dept_a, seats_purchased=seats)
    for _ in range(taken):
        SeatFactory.create(subscription=sub, person=PersonFactory.create(department=cast.dept_a))
    return sub
