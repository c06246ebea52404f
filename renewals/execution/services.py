"""Executing an approved renewal request: record the order and the invoice, roll the subscription
over to its new term (renewals.inventory.services), stop the old term's pending alerts
(renewals.alerts.services), book the actual against the budget, and tell the seat holders. Everything but the notices happens in one transaction; notices go out from
django-q2 tasks queued on commit (a failed e-mail never undoes an execution, a rolled-back one
sends nothing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from budgets import services as budgets
from budgets.money import cents
from org.models import Person, User
from org.roles import Role, has_role
from renewals.alerts.services import alerts_stop_for_archived, alerts_stop_for_renewed_term
from renewals.inventory.models import LIVE_STATUSES, Subscription
from renewals.inventory.services import ModuleLine, NewTerm, PaidTerm, subscription_roll_over
from renewals.requests.models.requests import Purpose, RenewalRequest, RequestEvent
from renewals.requests.policy import may_execute
from renewals.requests.selectors.requests import term_payment
from renewals.requests.services.common import (
    locked,
    notify_on_commit,
    queue_on_commit,
    record_event,
)
from renewals.requests.services.pricing import (
    conversion,
    periods_per_year,
    recorded_rate,
    subscription_periods,
)
from renewals.seats.services import seat_requests_fulfil
from renewals.usage.models import Seat
from renewals.usage.services import seat_assign, seat_revoke

S = RenewalRequest.Status


@transaction.atomic
def request_execute(
    *,
    request: RenewalRequest,
    user: User,
    order_ref: str,
    fapiao_no: str,
    actual_amount: Decimal,
    actual_currency: str,
    term_start: dt.date,
    term_end: dt.date,
    seats: int,
    edition: str,
    modules: Sequence[ModuleLine | str],
    unit_price: Decimal | None = None,
    currency: str | None = None,
    billing_cycle: str | None = None,
) -> RenewalRequest:
    """Record the executed renewal. In one transaction: the old term goes to history with what
    was paid for it, the subscription moves to the new term with what was chosen (price,
    currency, cycle, edition, seats, modules; None takes the chosen quote's), prices not given
    are converted with the recorded rates when the currency changes, the commitment is released
    and the actual booked, and pending alerts of the old term stop. Seat holders are told
    afterwards (a task)."""
    if not may_execute(user):
        raise PermissionDenied
    request = locked(request)
    if request.status != S.APPROVED:
        raise ValidationError(_("Only an approved request can be executed."))
    if request.purpose == Purpose.CANCEL:
        raise ValidationError(
            _("A decision not to renew is not executed; the subscription ends at its term end.")
        )
    if term_end <= term_start:
        raise ValidationError(_("The new term must end after it starts."))
    subscription = Subscription.objects.select_for_update().get(pk=request.subscription_id)
    new_purchase, people = request.purpose == Purpose.NEW, list[Person]()
    if new_purchase:
        people = _seats_for(request, user, subscription, seats)
    elif term_start <= subscription.term_start:
        raise ValidationError(_("The new term must start after the current term started."))
    term, factor = _new_term(
        request, subscription, term_start=term_start, term_end=term_end, seats=seats,
        edition=edition, unit_price=unit_price, currency=currency, billing_cycle=billing_cycle,
    )  # fmt: skip
    # The invoice is converted with the recorded rate (the chosen quote's, from the rates table,
    # for its currency; else the table's latest), never a typed one; what it differs from the
    # commitment is booked here, as the actual replaces the commitment.
    actual_base = cents(actual_amount * recorded_rate(actual_currency, request.chosen_quote))
    # The inventory archives the ending term, moves the subscription to the new one and sets its
    # modules; then the old term's pending alerts stop. All in this transaction.
    ended = subscription.term_end
    subscription_roll_over(
        subscription=subscription,
        term=term,
        modules=modules,
        factor=factor,
        paid=_paid(term_payment(subscription)),
    )
    alerts_stop_for_renewed_term(subscription=subscription, term_end=ended)
    if new_purchase:
        # The seats the request named, through the one seat path (limit, leavers, scoping).
        for person in people:
            seat_assign(
                user=user, subscription=subscription, person=person, on_behalf_of_execution=True
            )
    if actual_base or request.amount_base:
        budgets.budget_book_actual(
            department=request.department,
            year=request.budget_year,
            amount=actual_base,
            reference=request.budget_reference,
            user=user,
            memo=_("Renewal request #%(pk)s executed: order %(order)s, fapiao %(fapiao)s")
            % {"pk": request.pk, "order": order_ref, "fapiao": fapiao_no},
        )
    request.status = S.EXECUTED
    request.order_ref, request.fapiao_no = order_ref, fapiao_no
    request.actual_amount, request.actual_currency = actual_amount, actual_currency
    request.actual_amount_base = actual_base
    request.executed_term_start = term_start
    request.executed_by, request.executed_at = user, timezone.now()
    request.full_clean(exclude=["chosen_quote"])
    request.save()
    record_event(request, user, RequestEvent.Kind.EXECUTED, order_ref)
    # The seat requests waiting for more seats get theirs, as far as the new term has room.
    seat_requests_fulfil(renewal_request=request, user=user)
    notify_on_commit(request, "executed", user)
    pk = request.pk
    queue_on_commit("renewals.tasks.notify_seat_holders", pk, task_name=f"request-{pk}-holders")
    return request


def _seats_for(
    request: RenewalRequest, user: User, subscription: Subscription, seats: int
) -> list[Person]:
    """The people a new purchase gives a seat to, checked before anything is written: all of
    them get one or the execution is refused with the reason."""
    if subscription.status != Subscription.Status.PROPOSED:
        raise ValidationError(_("This new purchase's subscription is no longer proposed."))
    people = list(request.proposed_people.order_by("name"))
    if not people:
        return []
    if len(people) > seats:
        raise ValidationError(
            _("%(people)d people are to get a seat but only %(seats)d seats were bought.")
            % {"people": len(people), "seats": seats}
        )
    left = [str(p) for p in people if p.has_left]
    if left:
        raise ValidationError(
            _("%(people)s left the company: take them off the request first.")
            % {"people": ", ".join(left)}
        )
    return people


def _new_term(
    request: RenewalRequest,
    subscription: Subscription,
    *,
    term_start: dt.date,
    term_end: dt.date,
    seats: int,
    edition: str,
    unit_price: Decimal | None,
    currency: str | None,
    billing_cycle: str | None,
) -> tuple[NewTerm, Decimal]:
    """The subscription's new term as recorded (price, currency and cycle None: the chosen
    quote's), and the factor that carries the prices not given to it. Refused (nothing written
    yet) when a rate is missing."""
    quote = request.chosen_quote
    new_currency = currency or (quote.currency if quote else subscription.currency)
    new_cycle = billing_cycle or (quote.billing_cycle if quote else subscription.billing_cycle)
    # Prices not given move to the new currency (refused before anything is written when a
    # rate is missing) and to the new billing period (3.50 a month is 42.00 a year).
    factor = conversion(subscription.currency, new_currency, quote)
    factor *= subscription_periods(subscription) / periods_per_year(
        new_cycle, days=(term_end - term_start).days
    )
    if unit_price is None:
        unit_price = quote.unit_price if quote else cents(subscription.unit_price * factor)
    # A switch takes the chosen quote's vendor and product when they are another's.
    switch = (
        quote
        if quote is not None
        and request.purpose == Purpose.SWITCH
        and (quote.vendor_name != subscription.vendor.name or quote.product != subscription.product)
        else None
    )
    term = NewTerm(
        term_start=term_start,
        term_end=term_end,
        seats=seats,
        edition=edition,
        unit_price=unit_price,
        currency=new_currency,
        billing_cycle=new_cycle,
        vendor_name=switch.vendor_name if switch else None,
        product=switch.product if switch else None,
    )
    return term, factor


def _paid(request: RenewalRequest | None) -> PaidTerm | None:
    """What the executed request that started the ending term paid for it (None: none did)."""
    if request is None:
        return None
    return PaidTerm(
        actual_amount=request.actual_amount,
        actual_amount_base=request.actual_amount_base,
        actual_currency=request.actual_currency,
        order_ref=request.order_ref,
        fapiao_no=request.fapiao_no,
    )


def seat_holders_notify(*, request_id: int) -> int:
    """Tell everyone holding a seat that the service continues, once (a retried task is a no-op)."""
    from renewals.notify.services import messaging

    claimed = RenewalRequest.objects.filter(
        pk=request_id, status=S.EXECUTED, holders_notified_at__isnull=True
    ).update(holders_notified_at=timezone.now())
    if not claimed:
        return 0
    request = RenewalRequest.objects.select_related("subscription", "subscription__vendor").get(
        pk=request_id
    )
    subscription = request.subscription
    holders = (
        subscription.seats.filter(revoked_on__isnull=True)
        .select_related("person", "person__user")
        .order_by("person__name")
    )
    context = {"request": request, "subscription": subscription}
    url = subscription.get_absolute_url()
    users = [s.person.user for s in holders if s.person.user is not None]
    told = messaging.notify_users(
        users, template="renewals/email/renewal-done", context=context, url=url,
        subscription=subscription,
    )  # fmt: skip
    for seat in holders:
        if seat.person.user is None and seat.person.email:
            subject, text, html = messaging.render_message(
                "renewals/email/renewal-done", context, settings.LANGUAGE_CODE
            )
            told += messaging.send_email(seat.person.email, subject, text, html)
    return told


def subscriptions_expire_ended(*, today: dt.date | None = None) -> int:
    """Subscriptions decided not to be renewed become expired after their last day."""
    today = today or timezone.localdate()
    return Subscription.objects.filter(
        ends_at_term_end=True, term_end__lt=today, status__in=LIVE_STATUSES
    ).update(status=Subscription.Status.EXPIRED)


# The reason every seat of an archived subscription is revoked with (in the base language: it
# is stored with the seat's history).
ARCHIVE_REASON = "Subscription archived"


@transaction.atomic
def subscription_archive(*, user: User, subscription: Subscription) -> Subscription:
    """Archive a subscription (IT admins): it leaves the lists and pickers but keeps its
    history; never deleted. Refused while a renewal request is under way. Its status becomes
    cancelled, its active seats are revoked (reason "Subscription archived") and its pending
    alerts stop (the sweep skips archived subscriptions). Here, above the inventory, because it
    revokes seats (usage) and stops alerts (alerts)."""
    if not may_archive(user):
        raise PermissionDenied
    row = Subscription.objects.select_for_update(of=("self",)).get(pk=subscription.pk)
    if row.archived_at is not None:
        raise ValidationError(_("This subscription is already archived."), code="archived")
    if RenewalRequest.objects.filter(subscription=row, status__in=RenewalRequest.OPEN).exists():
        raise ValidationError(
            _("A renewal request is under way: finish or cancel it before archiving."),
            code="request_open",
        )
    for seat in Seat.objects.filter(subscription=row, revoked_on__isnull=True).order_by("pk"):
        seat_revoke(
            user=user,
            seat=seat,
            reason=ARCHIVE_REASON,
            on=max(seat.assigned_on, timezone.localdate()),
        )
    alerts_stop_for_archived(subscription=row)
    row.archived_at = timezone.now()
    row.status = Subscription.Status.CANCELLED
    row.save(update_fields=["archived_at", "status", "updated_at"])
    return row


def may_archive(user: object) -> bool:
    return has_role(user, Role.IT_ADMIN)
