"""Seat requests: asking for a seat (here), granting, declining, escalating (the seat requests'
own pages build on these)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from org.models import Person, User
from renewals.inventory.models import LIVE_STATUSES, Module, Subscription
from renewals.requests.models.requests import Purpose, RenewalRequest
from renewals.requests.policy import may_change
from renewals.requests.services import request_cancel
from renewals.seats.models import SeatRequest


@transaction.atomic
def seat_request_create(
    *,
    user: User,
    subscription: Subscription,
    person: Person,
    modules: Iterable[Module] = (),
    reason: str = "",
) -> SeatRequest:
    """Ask for a seat of a live subscription for ``person`` (usually the user's own Person).
    Refused: a subscription that is not live, a person who left or already holds a seat, a
    second open request for the same seat, modules of another subscription."""
    if subscription.status not in LIVE_STATUSES or subscription.archived_at is not None:
        raise ValidationError(_("Seats can only be requested on a live subscription."))
    if person.has_left:
        raise ValidationError(_("%(person)s has left the company.") % {"person": person})
    if subscription.seats.filter(person=person, revoked_on__isnull=True).exists():
        raise ValidationError(
            _("%(person)s already holds a seat of this subscription.") % {"person": person}
        )
    modules = list(modules)
    if any(m.subscription_id != subscription.pk or m.archived_at is not None for m in modules):
        raise ValidationError(_("Choose modules of this subscription."))
    seat_request = SeatRequest(
        subscription=subscription, person=person, requested_by=user, reason=reason.strip()
    )
    try:
        with transaction.atomic():
            seat_request.save()
    except IntegrityError:
        raise ValidationError(_("There is already an open request for this seat.")) from None
    if modules:
        seat_request.modules.set(modules)
    return seat_request


@transaction.atomic
def seat_request_instead_of_purchase(
    *, user: User, request: RenewalRequest, subscription: Subscription
) -> list[SeatRequest]:
    """The "join that subscription instead" of a new purchase: the request becomes seat requests on a live
    subscription of the same product (one per person it names; the requester when it names
    nobody), and the draft is cancelled. All or nothing."""
    request = RenewalRequest.objects.select_for_update().get(pk=request.pk)
    if not may_change(user, request):
        raise PermissionDenied
    if request.purpose != Purpose.NEW or request.status not in RenewalRequest.EDITABLE:
        raise ValidationError(_("Only a new purchase under way can become a seat request."))
    people = list(request.proposed_people.all())
    if not people:
        own = Person.objects.filter(user=user).first()
        if own is None:
            raise ValidationError(_("Name the people who need a seat first."))
        people = [own]
    holding = set(
        subscription.seats.filter(revoked_on__isnull=True, person__in=people).values_list(
            "person_id", flat=True
        )
    )
    reason = request.justification[:1000]
    created = [
        seat_request_create(user=user, subscription=subscription, person=p, reason=reason)
        for p in people
        if p.pk not in holding
    ]
    if not created:
        raise ValidationError(_("Everyone named already holds a seat of this subscription."))
    request_cancel(
        request=request,
        user=user,
        reason=_("Joining %(subscription)s instead.") % {"subscription": subscription},
    )
    return created
