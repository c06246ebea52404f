"""Shared by the risk register's tests: the day they run on, a cast whose own subscription
raises nothing, and small helpers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from org.models import Person, User
from renewals.inventory.models import Subscription
from renewals.risks import services
from renewals.risks.models import Risk
from renewals.risks.services import risks_refresh
from tests.conftest import Cast
from tests.factories import PersonFactory

TODAY = dt.date(2026, 11, 26)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def open_risks(rule: str) -> list[Risk]:
    return list(Risk.objects.filter(rule=rule).exclude(status="closed"))


def leaver(cast: Cast, name: str = "离职的李四") -> Person:
    return PersonFactory.create(
        department=cast.dept_a, name=name, status="left", left_on=dt.date(2026, 10, 1)
    )


def quiet(cast: Cast) -> None:
    """The cast's own subscription raises nothing: owned, not auto-renewing, live."""
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(
        owner=cast.software_admin, term_end=dt.date(2027, 6, 30)
    )


@pytest.fixture
def base(cast: Cast) -> Cast:
    quiet(cast)
    return cast


def refresh() -> services.RefreshResult:
    return risks_refresh(today=TODAY)
