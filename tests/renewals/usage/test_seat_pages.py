"""The seats panel and the one-seat pages: assign (with modules), revoke with a reason,
reassign a leaver's seat in one step; refusals shown on the form, nothing written; a full
subscription says so and offers a seat-increase request; hostile input never a 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import ModuleFactory, PersonFactory, SeatFactory, SubscriptionFactory
from tests.renewals.usage.conftest import client_for, taken

pytestmark = pytest.mark.django_db


def _active(sub: Any) -> int:
    return Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count()


def test_the_panel_offers_the_actions_to_managers_only(cast: Cast) -> None:
    sub = taken(cast, 3, 1)
    url = reverse("renewals:subscription-detail", args=[sub.pk])
    page = client_for(cast.software_admin).get(url).content.decode()
    assert reverse("renewals:seat-assign", args=[sub.pk]) in page
    assert reverse("renewals:seats-bulk-assign", args=[sub.pk]) in page
    seat = Seat.objects.get(subscription=sub)
    assert reverse("renewals:seat-revoke", args=[seat.pk]) in page
    assert reverse("renewals:seat-reassign", args=[seat.pk]) in page
    readonly = client_for(cast.finance).get(url).content.decode()
    assert 'data-testid="seat-table"' in readonly
    assert reverse("renewals:seat-assign", args=[sub.pk]) not in readonly


def test_assign_a_seat_with_modules_by_employee_number_or_email(cast: Cast) -> None:
    sub = taken(cast, 3, 0)
    gantt = ModuleFactory.create(subscription=sub, name="Gantt")
    ModuleFactory.create(
        subscription=sub, name="Old", archived_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    person = PersonFactory.create(department=cast.dept_a, email="Wang.Lei@example.cn")
    client = client_for(cast.software_admin)
    url = reverse("renewals:seat-assign", args=[sub.pk])
    form = client.get(url).content.decode()
    assert "Gantt" in form and "Old" not in form  # archived modules are not offered
    response = client.post(
        url, {"person": "wang.lei@EXAMPLE.cn", "modules": [gantt.pk], "account": "wl"}
    )
    assert response.status_code == 302
    seat = Seat.objects.get(subscription=sub, person=person)
    assert list(seat.modules.all()) == [gantt] and seat.account == "wl"
    # The same person again: refused on the form, nothing written.
    response = client.post(url, {"person": person.employee_no})
    assert response.status_code == 200
    assert "already holds a seat" in response.content.decode()
    assert _active(sub) == 1


def test_a_full_subscription_says_so_and_offers_more_seats(cast: Cast) -> None:
    sub = taken(cast, 1, 1)
    client = client_for(cast.software_admin)
    detail = client.get(reverse("renewals:subscription-detail", args=[sub.pk])).content.decode()
    assert 'data-testid="seats-full"' in detail
    increase = reverse("renewals:request-create", args=[sub.pk]) + "?purpose=seats"
    assert increase in detail
    url = reverse("renewals:seat-assign", args=[sub.pk])
    response = client.post(
        url, {"person": PersonFactory.create(department=cast.dept_a).employee_no}
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "is full" in page and increase in page
    assert _active(sub) == 1
    # The link opens the request form with "seats" chosen.
    start = client.get(increase).content.decode()
    assert 'value="seats" selected' in start


def test_refusals_and_hostile_input_write_nothing(cast: Cast) -> None:
    sub = taken(cast, 5, 0)
    leaver = PersonFactory.create(
        department=cast.dept_a, status="left", left_on=dt.date(2026, 1, 2)
    )
    outsider = PersonFactory.create(department=cast.dept_b)
    other_module = ModuleFactory.create(
        subscription=SubscriptionFactory.create(department=cast.dept_a)
    )
    client = client_for(cast.software_admin)
    url = reverse("renewals:seat-assign", args=[sub.pk])
    for data in [
        {"person": leaver.employee_no},  # left the company
        {"person": outsider.employee_no},  # a department the admin may not see
        {"person": "<script>alert(1)</script>"},
        {"person": "x" * 10_000},
        {"person": ""},
        {"person": cast.person_a.employee_no, "modules": [other_module.pk]},
        {"person": cast.person_a.employee_no, "modules": ["1" * 25]},
        {"person": cast.person_a.employee_no, "modules": ["-1"]},
        {"person": cast.person_a.employee_no, "account": "a" * 151},
    ]:
        response = client.post(url, data)
        assert response.status_code == 200, data
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert _active(sub) == 0


def test_revoke_needs_a_reason_and_keeps_the_history(cast: Cast) -> None:
    sub = taken(cast, 2, 1)
    seat = Seat.objects.get(subscription=sub)
    client = client_for(cast.head_a)
    url = reverse("renewals:seat-revoke", args=[seat.pk])
    assert client.post(url, {"reason": "   "}).status_code == 200
    assert client.post(url, {"reason": "r" * 201}).status_code == 200
    seat.refresh_from_db()
    assert seat.revoked_on is None
    assert client.post(url, {"reason": "不再使用"}).status_code == 302
    seat.refresh_from_db()
    assert seat.revoked_on is not None and seat.revoke_reason == "不再使用"
    # A replayed post: the seat is no longer active, so it is not found.
    assert client.post(url, {"reason": "again"}).status_code == 404


def test_reassign_a_leavers_seat_in_one_step(cast: Cast) -> None:
    sub = taken(cast, 1, 0)
    gantt = ModuleFactory.create(subscription=sub, name="Gantt")
    leaver = PersonFactory.create(
        department=cast.dept_a, status="left", left_on=dt.date(2026, 2, 1)
    )
    seat = SeatFactory.create(subscription=sub, person=leaver)
    seat.modules.set([gantt])
    newcomer = PersonFactory.create(department=cast.dept_a)
    client = client_for(cast.software_admin)
    detail = client.get(reverse("renewals:subscription-detail", args=[sub.pk])).content.decode()
    assert reverse("renewals:seat-reassign", args=[seat.pk]) in detail
    url = reverse("renewals:seat-reassign", args=[seat.pk])
    # A person who left cannot take it; nothing changes.
    other_leaver = PersonFactory.create(
        department=cast.dept_a, status="left", left_on=dt.date(2026, 2, 1)
    )
    assert (
        client.post(url, {"person": other_leaver.employee_no, "reason": "离职"}).status_code == 200
    )
    seat.refresh_from_db()
    assert seat.revoked_on is None
    response = client.post(url, {"person": newcomer.employee_no, "reason": "离职"})
    assert response.status_code == 302
    seat.refresh_from_db()
    assert seat.revoked_on is not None and seat.revoke_reason == "离职"
    new = Seat.objects.get(subscription=sub, revoked_on__isnull=True)
    assert new.person == newcomer and list(new.modules.all()) == [gantt]


def test_other_departments_seats_are_not_found(cast: Cast) -> None:
    sub_b = SubscriptionFactory.create(department=cast.dept_b)
    seat_b = SeatFactory.create(
        subscription=sub_b, person=PersonFactory.create(department=cast.dept_b)
    )
    client = client_for(cast.software_admin)
    assert client.get(reverse("renewals:seat-assign", args=[sub_b.pk])).status_code == 404
    assert (
        client.post(reverse("renewals:seat-revoke", args=[seat_b.pk]), {"reason": "x"}).status_code
        == 404
    )
    assert client.get(reverse("renewals:seat-reassign", args=[seat_b.pk])).status_code == 404
    assert client.get(reverse("renewals:seats-bulk-assign", args=[sub_b.pk])).status_code == 404
    seat_b.refresh_from_db()
    assert seat_b.revoked_on is None
