"""Seat requests: asking for a seat, granting one from a free seat, declining, turning a request
no free seat can answer into a "more seats" renewal request (escalating), withdrawing, and
granting the waiting requests once that renewal request is executed.

Races: every decision locks the seat request row and re-reads its status under the lock, so a
replayed or double-clicked grant is told the request was already granted; the seat itself goes
through ``usage.services.seat_assign``, whose database trigger counts the seats under a lock
(two admins granting the last free seat to two requests: one gets it, the other is told the
subscription is full). Escalating locks the subscription row, so two escalations at once join
one renewal request. The requester is told of each decision by a django-q2 task queued on
commit (in-app and e-mail, in their language).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Person, User
from org.roles import Role
from renewals.inventory.models import LIVE_STATUSES, Module, Subscription
from renewals.requests.models.requests import Purpose, RenewalRequest, RequestEvent
from renewals.requests.policy import may_change
from renewals.requests.services import request_cancel
from renewals.requests.services.common import queue_on_commit, record_event
from renewals.requests.services.drafting import request_create, request_update
from renewals.seats import policy
from renewals.seats.models import SeatRequest
from renewals.seats.selectors import waiting_for
from renewals.usage.models import Seat
from renewals.usage.services import SeatLimitReached, seat_assign

R = SeatRequest.Status
REASON_MAX = 2000
ANSWER_MAX = 2000


class SeatRequestRefused(ValidationError):
    """A decision the request's state refuses; ``code`` says why (already_decided: someone,
    or an earlier click, decided it first)."""


def _text(value: str, limit: int, field: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError(
            {field: _("Keep this under %(limit)d characters.") % {"limit": limit}}
        )
    return value


@transaction.atomic
def seat_request_create(
    *,
    user: User,
    subscription: Subscription,
    person: Person,
    modules: Iterable[Module] = (),
    reason: str = "",
) -> SeatRequest:
    """Ask for a seat of a live subscription for ``person`` (usually the user's own Person; the
    caller checks who may ask for whom: seat_request_ask for oneself, the new purchase's "join
    instead" for the people it names). Refused: a subscription that is not live, a person who
    left or already holds a seat, a second open request for the same seat, modules of another
    subscription."""
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
        subscription=subscription,
        person=person,
        requested_by=user,
        reason=_text(reason, REASON_MAX, "reason"),
    )
    try:
        with transaction.atomic():
            seat_request.save()
    except IntegrityError:
        raise ValidationError(_("There is already an open request for this seat.")) from None
    if modules:
        seat_request.modules.set(modules)
    _notify_on_commit(seat_request, "asked")
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


def no_person() -> ValidationError:
    return ValidationError(
        _(
            "Your account is not linked to an active entry of the company directory, so no "
            "seat can be requested for you. Ask IT to link your account to your directory entry."
        ),
        code="no_person",
    )


def seat_request_ask(
    *,
    user: User,
    subscription: Subscription,
    modules: Iterable[Module] = (),
    reason: str = "",
) -> SeatRequest:
    """The signed-in user asks a seat for themselves: of their own department's subscription
    or of a shared one."""
    person = policy.person_of(user)
    if person is None:
        raise no_person()
    if not policy.may_ask(person, subscription):
        raise PermissionDenied
    return seat_request_create(
        user=user, subscription=subscription, person=person, modules=modules, reason=reason
    )


def _locked(seat_request: SeatRequest) -> SeatRequest:
    return (
        SeatRequest.objects.select_for_update(of=("self",))
        .select_related("subscription", "subscription__department", "person")
        .get(pk=seat_request.pk)
    )


def _closed(seat_request: SeatRequest) -> SeatRequestRefused:
    messages = {
        R.GRANTED: _("This request was already granted."),
        R.DECLINED: _("This request was already declined."),
        R.WITHDRAWN: _("This request was withdrawn."),
    }
    message = messages.get(seat_request.status, _("This request is no longer open."))  # type: ignore[call-overload]
    return SeatRequestRefused(message, code="already_decided")


def _decidable(user: User, seat_request: SeatRequest) -> SeatRequest:
    locked = _locked(seat_request)
    if locked.requested_by_id == user.pk:
        raise PermissionDenied(_("You cannot decide your own seat request."))
    if not policy.may_decide(user, locked):
        raise PermissionDenied
    if locked.status not in SeatRequest.OPEN_STATUSES:
        raise _closed(locked)
    return locked


def _leave_renewal(seat_request: SeatRequest) -> None:
    """An escalated request that closes no longer waits for its renewal request's seats."""
    renewal = seat_request.renewal_request
    if renewal is not None and renewal.status in RenewalRequest.OPEN:
        renewal.proposed_people.remove(seat_request.person)


def _decide(seat_request: SeatRequest, user: User, status: str, answer: str) -> None:
    seat_request.status = status
    seat_request.decided_by, seat_request.decided_at = user, timezone.now()
    seat_request.answer = answer
    seat_request.save()


@transaction.atomic
def seat_request_grant(*, user: User, seat_request: SeatRequest, answer: str = "") -> SeatRequest:
    """Give the person a seat (with the requested modules) from a free one. A full subscription
    raises SeatLimitReached (nothing written): the caller offers to ask for more seats."""
    answer = _text(answer, ANSWER_MAX, "answer")
    locked = _decidable(user, seat_request)
    seat = Seat.objects.filter(
        subscription=locked.subscription, person=locked.person, revoked_on__isnull=True
    ).first()  # given meanwhile by hand: the request is answered by it
    if seat is None:
        seat = seat_assign(
            user=user,
            subscription=locked.subscription,
            person=locked.person,
            modules=locked.modules.all(),
        )
    if locked.status == R.ESCALATED:
        _leave_renewal(locked)
    locked.seat = seat
    _decide(locked, user, R.GRANTED, answer)
    _notify_on_commit(locked, R.GRANTED)
    return locked


@transaction.atomic
def seat_request_decline(*, user: User, seat_request: SeatRequest, answer: str) -> SeatRequest:
    """Refuse the request; the answer says why (the requester reads it)."""
    answer = _text(answer, ANSWER_MAX, "answer")
    if not answer:
        raise ValidationError({"answer": _("Say why the seat request is declined.")})
    locked = _decidable(user, seat_request)
    if locked.status == R.ESCALATED:
        _leave_renewal(locked)
    _decide(locked, user, R.DECLINED, answer)
    _notify_on_commit(locked, R.DECLINED)
    return locked


@transaction.atomic
def seat_request_escalate(
    *, user: User, seat_request: SeatRequest, answer: str = ""
) -> SeatRequest:
    """No seat is free: the request waits for a "more seats" renewal request. It joins the
    subscription's open renewal request if there is one (its person among the seats it is
    for); otherwise a new draft (purpose "seats") is opened through the drafting service,
    proposing the purchased seats plus every request waiting, and they all join it."""
    answer = _text(answer, ANSWER_MAX, "answer")
    locked = _decidable(user, seat_request)
    current = locked.renewal_request
    if (
        locked.status == R.ESCALATED
        and current is not None
        and current.status in RenewalRequest.OPEN
    ):
        raise SeatRequestRefused(
            _("This request already waits for renewal request #%(pk)s.") % {"pk": current.pk},
            code="already_decided",
        )
    # Two escalations of one subscription at once: the second waits here and joins the first's.
    subscription = Subscription.objects.select_for_update().get(pk=locked.subscription_id)
    renewal = subscription.renewal_requests.filter(status__in=RenewalRequest.OPEN).first()
    locked.status, locked.renewal_request = R.ESCALATED, renewal
    _decide(locked, user, R.ESCALATED, answer)
    if renewal is not None:
        renewal.proposed_people.add(locked.person)
        record_event(
            renewal, user, RequestEvent.Kind.EDITED,
            _("Seat request of %(person)s waits for this request.") % {"person": locked.person},
        )  # fmt: skip
    else:
        waiting = list(
            SeatRequest.objects.select_for_update(of=("self",))
            .filter(subscription=subscription, status=R.ESCALATED)
            .select_related("person")
        )  # this one and those whose earlier renewal request closed without seats
        renewal = request_create(
            subscription=subscription, user=user, purpose=Purpose.SEATS,
            justification=_("More seats for the people waiting: %(people)s.")
            % {"people": ", ".join(r.person.name for r in waiting)},
        )  # fmt: skip
        renewal = request_update(
            request=renewal,
            user=user,
            data={"proposed_seats": subscription.seats_purchased + len(waiting)},
        )
        SeatRequest.objects.filter(pk__in=[r.pk for r in waiting]).update(renewal_request=renewal)
        renewal.proposed_people.add(*(r.person for r in waiting))
        locked.renewal_request = renewal
    _notify_on_commit(locked, R.ESCALATED)
    return locked


@transaction.atomic
def seat_request_withdraw(*, user: User, seat_request: SeatRequest) -> SeatRequest:
    """The requester (or the person it is for) takes back an open or waiting request."""
    locked = _locked(seat_request)
    if not policy.may_withdraw(user, locked):
        raise PermissionDenied
    if locked.status not in SeatRequest.OPEN_STATUSES:
        raise _closed(locked)
    if locked.status == R.ESCALATED:
        _leave_renewal(locked)
    locked.status = R.WITHDRAWN
    locked.save(update_fields=["status", "updated_at"])
    return locked


def seat_requests_fulfil(*, renewal_request: RenewalRequest, user: User) -> list[SeatRequest]:
    """After ``renewal_request`` was executed (inside its transaction): grant the requests
    waiting for it, first come first, as long as seats are free. The seat is assigned by the
    executing user, on behalf of the execution (finance records executions for every
    department); a request that still cannot be granted stays waiting."""
    granted: list[SeatRequest] = []
    for seat_request in (
        waiting_for(renewal_request.pk)
        .select_for_update(of=("self",))
        .select_related("subscription", "person")
    ):
        try:
            with transaction.atomic():
                seat = seat_assign(
                    user=user,
                    subscription=seat_request.subscription,
                    person=seat_request.person,
                    modules=seat_request.modules.all(),
                    on_behalf_of_execution=True,
                )
        except SeatLimitReached:
            break
        except (ValidationError, PermissionDenied):
            continue
        seat_request.seat = seat
        _decide(seat_request, user, R.GRANTED, seat_request.answer)
        _notify_on_commit(seat_request, R.GRANTED)
        granted.append(seat_request)
    return granted


def seat_requests_reopen(*, today: object = None) -> int:
    """Requests waiting for a "more seats" renewal request that ended without seats (rejected
    or cancelled, by any path: page, inbox, API): open again, the requester and the deciders
    told. Run by the scheduler (renewals.tasks.reopen_seat_requests); safe to run twice or in
    two workers at once (the rows are locked and re-read)."""
    reopened = 0
    ended = (RenewalRequest.Status.REJECTED, RenewalRequest.Status.CANCELLED)
    with transaction.atomic():
        for seat_request in SeatRequest.objects.select_for_update(
            of=("self",), skip_locked=True
        ).filter(status=R.ESCALATED, renewal_request__status__in=ended):
            seat_request.status = R.OPEN
            seat_request.save(update_fields=["status", "updated_at"])
            _notify_on_commit(seat_request, "reopened")
            _notify_on_commit(seat_request, "asked")
            reopened += 1
    return reopened


def _notify_on_commit(seat_request: SeatRequest, event: str) -> None:
    pk = seat_request.pk
    queue_on_commit(
        "renewals.tasks.seat_request_notify", pk, event, task_name=f"seat-request-{pk}-{event}"
    )


def _deciders(seat_request: SeatRequest) -> list[User]:
    """Who hears of a new request: the department's software admins, else its heads, else
    the IT admins."""
    department = seat_request.subscription.department
    for users in (department.software_admins.all(), department.heads.all()):
        found = [u for u in users if u.is_active]
        if found:
            return found
    return list(User.objects.filter(is_active=True, groups__name=Role.IT_ADMIN))


def seat_request_notify(*, seat_request_id: int, event: str) -> int:
    """django-q2 task body: tell the deciders of a new request, or the requester (and the
    person it is for) what became of theirs: in-app and by e-mail, in each one's language."""
    from renewals.notify.services import messaging

    seat_request = (
        SeatRequest.objects.select_related(
            "subscription",
            "subscription__vendor",
            "subscription__department",
            "person",
            "person__user",
            "requested_by",
            "renewal_request",
        )  # fmt: skip
        .filter(pk=seat_request_id)
        .first()
    )
    if seat_request is None:
        return 0
    if event == "asked":
        if seat_request.status not in SeatRequest.OPEN_STATUSES:
            return 0
        users = _deciders(seat_request)
        path = reverse("renewals:seat-request-inbox")
    else:
        users = [seat_request.requested_by]
        if seat_request.person.user is not None:
            users.append(seat_request.person.user)
        path = reverse("renewals:my-software")
    return messaging.notify_users(
        users, template="renewals/email/seat-request",
        context={"seat_request": seat_request, "event": event, "url": settings.SITE_URL + path},
        url=path, subscription=seat_request.subscription,
    )  # fmt: skip
