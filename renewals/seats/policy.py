"""Who may ask for, decide and withdraw seat requests: read-only predicates shared by the views,
the API and the services."""

from __future__ import annotations

from typing import Any

from org.models import Person
from org.roles import Role, has_role
from org.scoping import can_manage_department
from renewals.inventory.models import LIVE_STATUSES, Subscription
from renewals.seats.models import SeatRequest

# A subscription whose tags hold one of these is shared: anyone in the company may ask for a
# seat of it, not only the people of its department.
SHARED_TAGS = ("shared", "Shared", "SHARED", "共享")
# Who may open the seat requests' inbox (what each of them may decide is scoped further).
DECIDER_ROLES = frozenset({Role.IT_ADMIN, Role.SOFTWARE_ADMIN, Role.DEPARTMENT_HEAD})


def person_of(user: Any) -> Person | None:
    """The user's entry in the directory (None: no entry, or the person has left)."""
    if not getattr(user, "is_authenticated", False):
        return None
    person = Person.objects.filter(user=user).select_related("department").first()
    if person is None or person.has_left:
        return None
    return person


def is_shared(subscription: Subscription) -> bool:
    return any(tag in SHARED_TAGS for tag in subscription.tags or ())


def may_ask(person: Person, subscription: Subscription) -> bool:
    """A person asks for a seat of a live subscription of their own department, or of any
    department's shared one."""
    if subscription.status not in LIVE_STATUSES or subscription.archived_at is not None:
        return False
    return subscription.department_id == person.department_id or is_shared(subscription)


def may_decide(user: Any, seat_request: SeatRequest) -> bool:
    """The subscription's department's managers (software admins, heads) and IT admins; never
    on a request of one's own (the rule of the renewal requests: no one decides for
    themselves)."""
    if seat_request.requested_by_id == user.pk:
        return False
    return can_manage_department(user, seat_request.subscription.department)


def may_withdraw(user: Any, seat_request: SeatRequest) -> bool:
    return seat_request.requested_by_id == user.pk or (
        seat_request.person.user_id is not None and seat_request.person.user_id == user.pk
    )


def may_open_inbox(user: Any) -> bool:
    return has_role(user, *DECIDER_ROLES)
