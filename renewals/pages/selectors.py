"""What a signed-in user should do next, for the home page: the approvals waiting for them, the
renewals due of the subscriptions they own or administer, their drafts not yet submitted, and
their own seats ("My software")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone

from org.models import User
from org.roles import APPROVER_ROLES, SEE_ALL_ROLES, has_role, roles_of
from org.scoping import administered_departments, visible_departments
from renewals.inventory.models import LIVE_STATUSES, Module, Subscription
from renewals.inventory.selectors import idle_cutoff
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.selectors.requests import steps_awaiting
from renewals.seats.selectors import open_count as seat_requests_open
from renewals.usage.models import Seat

# A renewal is "due" for its owner within this many days of its term end, or of the cancellation
# deadline of an auto-renewing subscription (the alert sweep's widest threshold is 60 days).
DUE_DAYS = 60
DEADLINE_DAYS = 30
SHOWN = 8  # rows of each list on the home page; the total is said

# Who to contact about a tool: only what a name and an e-mail link need.
_CONTACT_FIELDS = ("id", "username", "display_name", "first_name", "last_name", "email")


@dataclass(frozen=True)
class Todo:
    """The home page's "what to do" panel. ``awaiting`` is None for someone who may not approve
    (the panel then shows no approvals line and no link to the inbox)."""

    awaiting: int | None
    due: list[Subscription] = field(default_factory=list)
    due_total: int = 0
    drafts: list[RenewalRequest] = field(default_factory=list)
    # Open seat requests the user may decide (None: the user decides none).
    seat_requests: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.awaiting or self.due or self.drafts or self.seat_requests)


def awaiting_count(*, user: Any) -> int | None:
    """How many requests wait for this user's decision (None: the user may not approve)."""
    if not has_role(user, *APPROVER_ROLES):
        return None
    return steps_awaiting(user=user).order_by().values("request_id").distinct().count()


def renewals_due(*, user: Any, today: dt.date) -> QuerySet[Subscription]:
    """Active subscriptions the user owns or administers (as software admin) whose term ends
    within DUE_DAYS, or whose cancellation deadline (auto-renewal) falls within DEADLINE_DAYS;
    ``open_request`` says whether a renewal request is already under way."""
    mine = Q(owner=user) | Q(department__in=administered_departments(user))
    soon = Q(term_end__gte=today, term_end__lte=today + dt.timedelta(days=DUE_DAYS)) | Q(
        auto_renew=True,
        cancellation_deadline__gte=today,
        cancellation_deadline__lte=today + dt.timedelta(days=DEADLINE_DAYS),
    )
    under_way = RenewalRequest.objects.filter(
        subscription=OuterRef("pk"), status__in=RenewalRequest.OPEN
    )
    # An owner may own a subscription of a department they may not open (an employee, or a
    # head owning another department's tool): the row then names it without a dead link.
    may_open = (
        Value(True)
        if roles_of(user) & SEE_ALL_ROLES
        else ExpressionWrapper(
            Q(department__in=visible_departments(user)), output_field=BooleanField()
        )
    )
    return (
        Subscription.objects.filter(
            mine,
            soon,
            status__in=LIVE_STATUSES,
        )
        .select_related("vendor", "department")
        .annotate(open_request=Exists(under_way), may_open=may_open)
        .order_by("term_end", "ref")
    )


def drafts_of(*, user: Any) -> QuerySet[RenewalRequest]:
    """The user's own requests not (or no longer) submitted: drafts and returned ones."""
    return (
        RenewalRequest.objects.filter(
            requested_by=user,
            status__in=[RenewalRequest.Status.DRAFT, RenewalRequest.Status.RETURNED],
        )
        .select_related("subscription__vendor")
        .only(
            "pk",
            "status",
            "purpose",
            "created_at",
            "subscription__product",
            "subscription__vendor__name",
        )  # fmt: skip
        .order_by("-created_at")
    )


def todo(*, user: Any, today: dt.date | None = None) -> Todo:
    """The panel's figures in five queries, whatever the user owns."""
    today = today or timezone.localdate()
    due = list(renewals_due(user=user, today=today)[: SHOWN + 1])
    due_total = len(due)
    if due_total > SHOWN:
        due_total = renewals_due(user=user, today=today).count()
    return Todo(
        awaiting=awaiting_count(user=user),
        due=due[:SHOWN],
        due_total=due_total,
        drafts=list(drafts_of(user=user)[:SHOWN]),
        seat_requests=seat_requests_open(user=user),
    )


def active_seats_of(user: Any) -> QuerySet[Seat]:
    """The seats the user (through their directory entry) holds today."""
    return Seat.objects.filter(person__user=user, revoked_on__isnull=True)


def has_seats(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and active_seats_of(user).exists()


@dataclass(frozen=True)
class MySoftware:
    """The user's seats with what they need to use and ask about them, and the software admins
    of their own department (to ask for a tool they do not have)."""

    seats: list[Seat]
    department_admins: list[User]
    idle_cutoff: dt.date  # a seat last used before it counts as idle


def my_software(*, user: Any) -> MySoftware:
    """Three queries for any number of seats (seats with their tool, the modules, the tools'
    departments' software admins), and one for the user's department's admins."""
    contacts = User.objects.only(*_CONTACT_FIELDS).order_by("display_name", "username")
    seats = list(
        active_seats_of(user)
        .select_related("subscription__vendor", "subscription__department", "subscription__owner")
        .prefetch_related(
            Prefetch("modules", queryset=Module.objects.only("id", "name").order_by("name")),
            Prefetch("subscription__department__software_admins", queryset=contacts),
        )
        .order_by("subscription__vendor__name", "subscription__product")
    )
    admins = list(
        contacts.filter(administered_departments__people__user=user).distinct()
        if getattr(user, "is_authenticated", False)
        else []
    )
    return MySoftware(seats=seats, department_admins=admins, idle_cutoff=idle_cutoff())
