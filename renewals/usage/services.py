"""Seats assigned and revoked one at a time (pages, API, seat requests, execution), and monthly
usage written row by row from other systems (the REST API's bulk create); files go through the
import engine (renewals/imports/services.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from budgets.services import local_today
from org.models import Person
from org.scoping import managed_departments
from renewals.inventory.models import LIVE_STATUSES, Module, Subscription
from renewals.usage import reclaim
from renewals.usage.models import SEAT_LIMIT_CONSTRAINT, MonthlyUsage, Seat

# A revoke reason is kept on the seat (Seat.revoke_reason); forms and the API take at most this.
SEAT_REASON_MAX = 200


class SeatLimitReached(ValidationError):
    """Every purchased seat of the subscription is assigned (the database refused one more):
    the caller offers a "more seats" request instead."""

    def __init__(self, subscription: Subscription) -> None:
        super().__init__(
            _(
                "%(subscription)s is full: all %(seats)d purchased seats are assigned. Revoke "
                "a seat or ask for more seats."
            )
            % {"subscription": subscription.display_name, "seats": subscription.seats_purchased},
            code="seat_limit",
        )
        self.subscription = subscription


def _constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _require_manageable(user: object, subscription: Subscription) -> None:
    if not managed_departments(user).filter(pk=subscription.department_id).exists():
        raise PermissionDenied


@transaction.atomic
def seat_assign(
    *,
    user: object,
    subscription: Subscription,
    person: Person,
    modules: Iterable[Module] = (),
    account: str = "",
    on: dt.date | None = None,
    on_behalf_of_execution: bool = False,
) -> Seat:
    """Give ``person`` a seat of ``subscription`` (and the given modules of it) from ``on``
    (today). Refused: a subscription the user may not change or that is not live, a person who
    has left or already holds a seat, a module of another subscription or archived, and a full
    subscription (SeatLimitReached: the database counts the seats under a lock, so two
    assignments of the last free seat cannot both succeed).

    ``on_behalf_of_execution``: the caller is recording an executed request whose seats were
    approved with it, by a user the execution itself checked (finance and IT admins execute
    every department's requests): the department scoping is not asked again; every other
    rule is."""
    if not on_behalf_of_execution:
        _require_manageable(user, subscription)
    if subscription.status not in LIVE_STATUSES or subscription.archived_at is not None:
        raise ValidationError(_("Seats are assigned only on a live subscription."))
    if person.has_left:
        raise ValidationError(
            _("%(person)s has left the company and cannot be given a seat.") % {"person": person}
        )
    modules = list(modules)
    if any(m.subscription_id != subscription.pk or m.archived_at is not None for m in modules):
        raise ValidationError(_("Choose modules of this subscription."))
    day = on or local_today()
    # Revoked today and given back today (a mistaken revoke, a reassignment undone): the same
    # assignment comes back, its history in the audit trail (one row per person and day).
    seat = Seat.objects.filter(
        subscription=subscription, person=person, assigned_on=day, revoked_on__isnull=False
    ).first() or Seat(subscription=subscription, person=person, assigned_on=day)
    seat.account = account.strip() or seat.account
    seat.revoked_on, seat.revoke_reason = None, ""
    try:
        with transaction.atomic():
            seat.save()
    except IntegrityError as exc:
        name = _constraint(exc)
        if name == SEAT_LIMIT_CONSTRAINT:
            raise SeatLimitReached(subscription) from None
        if name in ("seat_one_active_per_person", "seat_unique_assignment"):
            raise ValidationError(
                _("%(person)s already holds a seat of this subscription.") % {"person": person}
            ) from None
        raise
    seat.modules.set(modules)
    return seat


@transaction.atomic
def seat_revoke(*, user: object, seat: Seat, reason: str, on: dt.date | None = None) -> Seat:
    """End ``seat`` on ``on`` (today), with the reason kept in its history."""
    seat = Seat.objects.select_for_update().select_related("subscription").get(pk=seat.pk)
    _require_manageable(user, seat.subscription)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give a reason for revoking the seat."))
    if seat.revoked_on is not None:
        raise ValidationError(_("This seat was already revoked."))
    day = on or local_today()
    if day < seat.assigned_on:
        raise ValidationError(_("A seat cannot be revoked before it was assigned."))
    seat.revoked_on, seat.revoke_reason = day, reason[:SEAT_REASON_MAX]
    seat.save(update_fields=["revoked_on", "revoke_reason"])
    # ... and the account in the tool, where a usage connector lists it (in this transaction).
    reclaim.revoke_in_tools([seat.pk], user=user, source="seat", reason=seat.revoke_reason)
    return seat


@transaction.atomic
def seat_reassign(*, user: object, seat: Seat, person: Person, reason: str) -> Seat:
    """Move ``seat`` to ``person`` in one step: the old holder's seat is revoked with the reason
    (history kept), the new one assigned with the same modules. Both or neither."""
    old = seat_revoke(user=user, seat=seat, reason=reason)
    return seat_assign(
        user=user,
        subscription=old.subscription,
        person=person,
        modules=old.modules.all(),
    )


# One call writes at most this many rows (a month of a large company); more is refused whole.
USAGE_BULK_MAX = 5000


@dataclass(frozen=True)
class UsageRow:
    subscription_id: int
    module: str | None
    month: dt.date
    active_users: int
    tasks_created: int | None = None
    tasks_completed: int | None = None


@transaction.atomic
def usage_bulk_upsert(*, user: object, rows: list[UsageRow]) -> int:
    """Create or update the usage of the given (subscription, module, month)s, all or nothing.
    Subscriptions must be in departments the user manages, modules must belong to them, months
    may not lie in the future; any refused row refuses the call, with every row's reason."""
    if not rows:
        raise ValidationError(_("No rows were sent."))
    if len(rows) > USAGE_BULK_MAX:
        raise ValidationError(
            _("At most %(max)d rows per call; %(count)d were sent.")
            % {"max": USAGE_BULK_MAX, "count": len(rows)}
        )
    ids = {row.subscription_id for row in rows}
    allowed = dict(
        Subscription.objects.filter(
            pk__in=ids, department__in=managed_departments(user)
        ).values_list("pk", "seats_purchased")
    )
    modules = {
        (sid, name): pk
        for pk, sid, name in Module.objects.filter(subscription_id__in=allowed).values_list(
            "pk", "subscription_id", "name"
        )
    }
    this_month = local_today().replace(day=1)
    errors: dict[str, list[str]] = {}
    seen: set[tuple[int, int | None, dt.date]] = set()
    objects = []
    for index, row in enumerate(rows):
        problems = []
        module_id = None
        if row.subscription_id not in allowed:
            problems.append(_("No subscription with this id that you may change."))
        elif row.module:
            module_id = modules.get((row.subscription_id, row.module))
            if module_id is None:
                problems.append(_("The subscription has no module of this name."))
        if row.month.day != 1:
            problems.append(_("Usage is recorded per calendar month."))
        if row.month > this_month:
            problems.append(_("The month lies in the future."))
        key = (row.subscription_id, module_id, row.month)
        if key in seen:
            problems.append(_("This subscription, module and month appear twice."))
        seen.add(key)
        if problems:
            errors[str(index)] = problems
            continue
        objects.append(
            MonthlyUsage(
                subscription_id=row.subscription_id,
                module_id=module_id,
                month=row.month,
                active_users=row.active_users,
                tasks_created=row.tasks_created,
                tasks_completed=row.tasks_completed,
            )
        )
    if errors:
        raise ValidationError({"rows": [f"#{i}: {'; '.join(p)}" for i, p in errors.items()]})
    MonthlyUsage.objects.bulk_create(
        objects,
        update_conflicts=True,
        unique_fields=["subscription", "module", "month"],
        update_fields=["active_users", "tasks_created", "tasks_completed"],
        batch_size=1000,
    )
    return len(objects)


@transaction.atomic
def seats_bulk_assign(
    *,
    user: object,
    subscription: Subscription,
    people: Iterable[Person],
    modules: Iterable[Module] = (),
    on: dt.date | None = None,
) -> list[Seat]:
    """Give each of ``people`` a seat of ``subscription`` (with the given modules), all or
    nothing: one leaver, one holder or too few free seats refuses the whole list (the database
    counts the seats under a lock, so a concurrent assignment cannot slip in between)."""
    _require_manageable(user, subscription)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.status not in LIVE_STATUSES or subscription.archived_at is not None:
        raise ValidationError(_("Seats are assigned only on a live subscription."))
    people = list({p.pk: p for p in people}.values())
    if not people:
        raise ValidationError(_("Nobody on the list can be given a seat."))
    fresh = {p.pk: p for p in Person.objects.filter(pk__in=[p.pk for p in people])}
    left = [p for p in fresh.values() if p.has_left]
    if left or len(fresh) != len(people):
        raise ValidationError(
            _("%(person)s has left the company and cannot be given a seat.")
            % {"person": left[0] if left else people[0]}
        )
    holders = list(
        Seat.objects.filter(
            subscription=subscription, revoked_on__isnull=True, person__in=list(fresh)
        ).select_related("person")[:1]
    )
    if holders:
        raise ValidationError(
            _("%(person)s already holds a seat of this subscription.")
            % {"person": holders[0].person}
        )
    modules = list(modules)
    if any(m.subscription_id != subscription.pk or m.archived_at is not None for m in modules):
        raise ValidationError(_("Choose modules of this subscription."))
    day = on or local_today()
    objects = [Seat(subscription=subscription, person=p, assigned_on=day) for p in fresh.values()]
    try:
        with transaction.atomic():
            seats = Seat.objects.bulk_create(objects, batch_size=1000)
    except IntegrityError as exc:
        if _constraint(exc) == SEAT_LIMIT_CONSTRAINT:
            raise SeatLimitReached(subscription) from None
        raise ValidationError(
            _("Someone on the list received a seat meanwhile: check the list again.")
        ) from None
    if modules:
        Through = Seat.modules.through
        Through.objects.bulk_create(
            [Through(seat_id=s.pk, module_id=m.pk) for s in seats for m in modules],
            batch_size=2000,
        )
    return seats
