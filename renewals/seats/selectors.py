"""Reads of seat requests: the inbox of those who decide them, a person's own requests, the
subscriptions a person may ask a seat of, and the counts the navigation shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from org.models import Person
from org.scoping import managed_departments, visible_departments
from renewals.inventory.models import LIVE_STATUSES, Module, Subscription
from renewals.requests.models.requests import RenewalRequest
from renewals.seats.models import SeatRequest
from renewals.seats.policy import SHARED_TAGS, may_ask, may_open_inbox, person_of
from renewals.usage.models import Seat

R = SeatRequest.Status


def _active_seats() -> Subquery:
    seats = (
        Seat.objects.filter(subscription=OuterRef("subscription_id"), revoked_on__isnull=True)
        .order_by()
        .values("subscription")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(seats, output_field=IntegerField())


def _with_details(requests: QuerySet[SeatRequest]) -> QuerySet[SeatRequest]:
    return requests.select_related(
        "subscription", "subscription__vendor", "subscription__department", "person",
        "person__department", "requested_by", "decided_by", "renewal_request",
    ).prefetch_related(
        Prefetch("modules", queryset=Module.objects.only("id", "name", "subscription_id"))
    )  # fmt: skip


def decidable_requests(*, user: Any) -> QuerySet[SeatRequest]:
    """Every seat request of the subscriptions of the departments the user manages."""
    return SeatRequest.objects.filter(subscription__department__in=managed_departments(user))


def inbox(*, user: Any) -> QuerySet[SeatRequest]:
    """Open and escalated requests the user may decide, oldest first, each with its
    subscription's free seats (``free_seats``: purchased minus active)."""
    return (
        _with_details(decidable_requests(user=user).filter(status__in=SeatRequest.OPEN_STATUSES))
        .annotate(
            free_seats=F("subscription__seats_purchased") - Coalesce(_active_seats(), 0),
            # Escalated and its renewal request still under way: nothing to escalate again.
            waiting=ExpressionWrapper(
                Q(renewal_request__status__in=RenewalRequest.OPEN), output_field=BooleanField()
            ),
        )
        .order_by("status", "created_at", "pk")
    )


def open_count(*, user: Any) -> int | None:
    """How many open (not yet escalated) requests wait for the user (None: the user decides
    none)."""
    if not may_open_inbox(user):
        return None
    return decidable_requests(user=user).filter(status=R.OPEN).count()


def own_requests(*, user: Any) -> QuerySet[SeatRequest]:
    """The requests the user made or that are for them."""
    return SeatRequest.objects.filter(Q(requested_by=user) | Q(person__user=user))


def visible_requests(*, user: Any) -> QuerySet[SeatRequest]:
    """The user's own requests and those of the departments they see (API list and detail)."""
    mine = Q(requested_by=user) | Q(person__user=user)
    return _with_details(
        SeatRequest.objects.filter(mine | Q(subscription__department__in=visible_departments(user)))
    ).order_by("-created_at", "-pk")


def get_decidable(user: Any, pk: int) -> SeatRequest:
    """The request if the user manages its department; 404 otherwise."""
    return get_object_or_404(_with_details(decidable_requests(user=user)), pk=pk)


def get_own(user: Any, pk: int) -> SeatRequest:
    return get_object_or_404(_with_details(own_requests(user=user)), pk=pk)


def shared_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}tags__overlap": list(SHARED_TAGS)})


def askable_subscriptions(person: Person) -> QuerySet[Subscription]:
    """Live subscriptions of the person's department and shared ones of any department that
    the person holds no seat of."""
    held = Seat.objects.filter(person=person, revoked_on__isnull=True).values("subscription_id")
    return (
        Subscription.objects.filter(status__in=LIVE_STATUSES, archived_at__isnull=True)
        .filter(Q(department_id=person.department_id) | shared_q())
        .exclude(pk__in=held)
        .select_related("vendor", "department")
        .order_by("vendor__name", "product", "pk")
    )


def open_request_of(person: Person, subscription: Subscription) -> SeatRequest | None:
    return SeatRequest.objects.filter(
        person=person, subscription=subscription, status__in=SeatRequest.OPEN_STATUSES
    ).first()


def my_requests(*, user: Any, limit: int = 20) -> list[SeatRequest]:
    """The user's newest requests (open ones first) for "my software"."""
    return list(_with_details(own_requests(user=user)).order_by("-created_at", "-pk")[:limit])


def waiting_for(renewal_request_id: int) -> QuerySet[SeatRequest]:
    """Escalated requests waiting for a "more seats" renewal request, first come first."""
    return SeatRequest.objects.filter(
        renewal_request_id=renewal_request_id, status=R.ESCALATED
    ).order_by("created_at", "pk")


@dataclass(frozen=True)
class AskPanel:
    """ "My software"'s "ask for a seat": the subscriptions the person may ask a seat of (those
    with a request under way in ``pending``) and their newest requests. ``person`` None: the
    user is not in the directory (the panel says so)."""

    person: Person | None
    askable: list[Subscription] = field(default_factory=list)
    pending: set[int] = field(default_factory=set)
    requests: list[SeatRequest] = field(default_factory=list)


def ask_panel(*, user: Any) -> AskPanel:
    person = person_of(user)
    requests = my_requests(user=user)
    if person is None:
        return AskPanel(person=None, requests=requests)
    pending = set(
        SeatRequest.objects.filter(person=person, status__in=SeatRequest.OPEN_STATUSES).values_list(
            "subscription_id", flat=True
        )
    )
    return AskPanel(
        person=person,
        askable=list(askable_subscriptions(person)[:50]),
        pending=pending,
        requests=requests,
    )


@dataclass(frozen=True)
class AskState:
    """The subscription page's "ask for a seat": whether the user may ask, or the request they
    already have under way."""

    may_ask: bool
    open_request: SeatRequest | None


def ask_state(*, user: Any, subscription: Subscription) -> AskState:
    person = person_of(user)
    if person is None or not may_ask(person, subscription):
        return AskState(may_ask=False, open_request=None)
    if Seat.objects.filter(
        person=person, subscription=subscription, revoked_on__isnull=True
    ).exists():
        return AskState(may_ask=False, open_request=None)
    open_request = open_request_of(person, subscription)
    return AskState(may_ask=open_request is None, open_request=open_request)
