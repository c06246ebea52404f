"""The purchased seat count is a hard limit kept by the database (migration renewals 0019):
sequentially and when two writers take the last free seat at once, whoever writes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from org.roles import Role
from renewals.usage import services
from renewals.usage.models import Seat
from tests.conftest import Cast, make_user
from tests.factories import PersonFactory, SeatFactory, SubscriptionFactory


def _taken(cast: Cast, seats: int, taken: int) -> Any:
    sub = SubscriptionFactory.create(department=cast.dept_a, seats_purchased=seats)
    for _ in range(taken):
        SeatFactory.create(subscription=sub, person=PersonFactory.create(department=cast.dept_a))
    return sub


def test_assign_until_full_then_refused_with_a_clear_message(cast: Cast) -> None:
    sub = _taken(cast, 2, 1)
    services.seat_assign(user=cast.it_admin, subscription=sub, person=PersonFactory.create())
    with translation.override("en"), pytest.raises(services.SeatLimitReached, match="is full"):
        services.seat_assign(user=cast.it_admin, subscription=sub, person=PersonFactory.create())
    assert Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count() == 2


def test_the_database_refuses_whoever_writes(cast: Cast) -> None:
    """A raw insert past the limit (the admin, an import, SQL) fails too; un-revoking as well."""
    sub = _taken(cast, 1, 1)
    SeatFactory.create(subscription=sub, person=PersonFactory.create(), revoked_on=sub.term_start)
    with pytest.raises(IntegrityError, match="seats purchased"), transaction.atomic():
        SeatFactory.create(subscription=sub, person=PersonFactory.create())
    with pytest.raises(IntegrityError, match="seats purchased"), transaction.atomic():
        Seat.objects.filter(subscription=sub, revoked_on__isnull=False).update(revoked_on=None)
    # Revoking and other updates of a full subscription's seats pass.
    Seat.objects.filter(subscription=sub).update(account="x")
    assert Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count() == 1
    # Without the triggers each write above would have passed.
    assert Seat.objects.filter(subscription=sub).count() == 2


def test_reassign_on_a_full_subscription_keeps_history(cast: Cast) -> None:
    sub = _taken(cast, 1, 1)
    seat = Seat.objects.get(subscription=sub)
    newcomer = PersonFactory.create(department=cast.dept_a)
    new = services.seat_reassign(user=cast.it_admin, seat=seat, person=newcomer, reason="Left")
    seat.refresh_from_db()
    assert seat.revoked_on is not None and seat.revoke_reason == "Left"
    assert new.person == newcomer and new.revoked_on is None


def test_refusals_change_nothing(cast: Cast) -> None:
    sub = SubscriptionFactory.create(department=cast.dept_a, seats_purchased=5)
    other_dept = SubscriptionFactory.create(department=cast.dept_b, seats_purchased=5)
    leaver = PersonFactory.create(status="left", left_on=sub.term_start)
    holder = PersonFactory.create()
    services.seat_assign(user=cast.it_admin, subscription=sub, person=holder)
    with translation.override("en"):
        with pytest.raises(ValidationError, match="has left"):
            services.seat_assign(user=cast.it_admin, subscription=sub, person=leaver)
        with pytest.raises(ValidationError, match="already holds a seat"):
            services.seat_assign(user=cast.it_admin, subscription=sub, person=holder)
        with pytest.raises(ValidationError, match="reason"):
            services.seat_revoke(user=cast.it_admin, seat=sub.seats.get(), reason="  ")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.seat_assign(user=cast.software_admin, subscription=other_dept, person=holder)
    assert Seat.objects.filter(subscription__in=[sub, other_dept]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_admins_taking_the_last_free_seat_at_once(cast: Cast) -> None:
    """Each in its own thread and connection, both past every check in Python before either
    inserts: one seat is assigned, the other is told the subscription is full."""
    sub = _taken(cast, 3, 2)
    admins = [cast.it_admin, make_user("it2", Role.IT_ADMIN)]
    people = [PersonFactory.create(department=cast.dept_a) for _ in admins]
    barrier = threading.Barrier(2)
    original = Seat.save

    def save_after_both(self: Seat, *args: Any, **kwargs: Any) -> None:
        barrier.wait(timeout=10)
        original(self, *args, **kwargs)

    def run(i: int) -> str:
        try:
            with translation.override("en"):
                services.seat_assign(user=admins[i], subscription=sub, person=people[i])
            return "ok"
        except services.SeatLimitReached:
            return "full"
        finally:
            connection.close()

    Seat.save = save_after_both  # type: ignore[method-assign,assignment]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = sorted(pool.map(run, range(2)))
    finally:
        Seat.save = original  # type: ignore[method-assign]
    assert outcomes == ["full", "ok"]
    assert Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count() == 3


def test_a_seat_revoked_today_can_be_given_back_today(cast: Cast) -> None:
    """One assignment per person and day (the import's key): revoking by mistake and assigning
    again the same day brings the same seat back instead of refusing; the limit still holds."""
    sub = _taken(cast, 1, 0)
    person = PersonFactory.create(department=cast.dept_a)
    seat = services.seat_assign(user=cast.it_admin, subscription=sub, person=person)
    services.seat_revoke(user=cast.it_admin, seat=seat, reason="误操作")
    other = services.seat_assign(
        user=cast.it_admin, subscription=sub, person=PersonFactory.create()
    )
    with pytest.raises(services.SeatLimitReached):
        services.seat_assign(user=cast.it_admin, subscription=sub, person=person)
    services.seat_revoke(user=cast.it_admin, seat=other, reason="换人")
    again = services.seat_assign(user=cast.it_admin, subscription=sub, person=person)
    assert again.pk == seat.pk and again.revoked_on is None and again.revoke_reason == ""
    assert Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count() == 1
