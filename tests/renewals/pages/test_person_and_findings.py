"""A person's seats and the findings, scoped to the departments the user may see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Cast
from tests.factories import PersonFactory, SeatFactory
from tests.renewals.conftest import Inventory

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_person_page_lists_their_seats_and_is_scoped(cast: Cast, inventory: Inventory) -> None:
    SeatFactory.create(subscription=inventory.jira, person=cast.person_a)
    html = (
        signed_in(cast.head_a)
        .get(reverse("renewals:person-detail", args=[cast.person_a.pk]))
        .content.decode()
    )
    assert "JIRA-A" in html
    assert (
        signed_in(cast.head_b)
        .get(reverse("renewals:person-detail", args=[cast.person_a.pk]))
        .status_code
        == 404
    )


def test_findings_are_scoped(cast: Cast, inventory: Inventory) -> None:
    leaver = PersonFactory.create(
        name="走了的人", department=cast.dept_b, status="left", left_on=dt.date(2026, 1, 1)
    )
    SeatFactory.create(subscription=inventory.feishu_b, person=leaver)
    assert "走了的人" in signed_in(cast.head_b).get(reverse("renewals:findings")).content.decode()
    assert (
        "走了的人" not in signed_in(cast.head_a).get(reverse("renewals:findings")).content.decode()
    )
