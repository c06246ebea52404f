"""Who hears about a request event, and what they are told (runs in a django-q2 worker).

Every notice is keyed (request, round, step, kind, channel, recipient): see
``renewals.models.RequestNotice``. A task carries the round and the steps it was queued for and
never recomputes "the current step", so two tasks about two events (submitted, then approved
by the head before the worker ran) ask each approver once, for the step each event opened; a
task retried, run twice or run in parallel with itself finds its notices taken.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from org.models import Department, User
from org.roles import Role
from renewals.notify import outlets
from renewals.notify.models import ChatChannel, Notification
from renewals.notify.services import messaging
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.notices import RequestNotice
from renewals.requests.models.requests import RenewalRequest

logger = logging.getLogger(__name__)

TEMPLATE = "renewals/email/request-event"
CHANNEL = RequestNotice.Channel
# Events that decide a step: their notices are about the step decided (and carry its comment).
DECISIONS = ("approved_step", "approved", "rejected", "returned")
# Events that ask the approvers of the step they opened.
ASKING = ("submitted", "approved_step")


def approvers_for(step: ApprovalStep) -> list[User]:
    """Everyone who may sign ``step``: the heads of the department and of the departments above
    it, or every holder of the step's role; not the requester, not an earlier signer."""
    request = step.request
    if step.role == Role.DEPARTMENT_HEAD:
        ids: list[int] = []
        department: Department | None = request.department
        seen: set[int] = set()
        while department is not None and department.pk not in seen:
            seen.add(department.pk)
            ids.append(department.pk)
            department = department.parent
        users = User.objects.filter(headed_departments__in=ids)
    else:
        users = User.objects.filter(Q(groups__name=step.role) | Q(is_superuser=True))
    signed = ApprovalStep.objects.filter(
        request=request, round=step.round, status=ApprovalStep.Status.APPROVED
    ).values("decided_by")
    return list(
        users.filter(is_active=True)
        .exclude(pk=request.requested_by_id)
        .exclude(pk__in=signed)
        .distinct()
        .order_by("pk")
    )


@dataclass(frozen=True)
class Key:
    """What a notice is about; with a channel and a recipient it is the notice's unique key."""

    request: RenewalRequest
    round: int
    step: ApprovalStep | None
    kind: str

    def fields(self) -> dict[str, Any]:
        return {"request": self.request, "round": self.round, "step": self.step, "kind": self.kind}


def _taken(key: Key, channel: str, *, user: User | None = None, chat: Any = None) -> bool:
    """A cheap look before rendering; the unique constraint is what decides."""
    return RequestNotice.objects.filter(
        **key.fields(), channel=channel, recipient=user, chat_channel=chat
    ).exists()


def _is_duplicate(exc: IntegrityError) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == "request_notice_once"


def _claim(
    key: Key, channel: str, *, user: User | None = None, chat: Any = None
) -> RequestNotice | None:
    """Insert the notice's row (committed) before sending: None if another task has it. A
    parallel INSERT of the same key waits for this one's commit, then fails."""
    try:
        with transaction.atomic():
            return RequestNotice.objects.create(
                **key.fields(), channel=channel, recipient=user, chat_channel=chat,
                status=RequestNotice.Status.SENDING,
            )  # fmt: skip
    except IntegrityError as exc:
        if not _is_duplicate(exc):
            raise
        return None


def _finish(notice: RequestNotice, ok: bool, error: str = "") -> None:
    RequestNotice.objects.filter(pk=notice.pk).update(
        status=RequestNotice.Status.SENT if ok else RequestNotice.Status.FAILED,
        sent_at=timezone.now() if ok else None,
        last_error=error[:1000],
    )


def _bell(key: Key, user: User, context: dict[str, Any], path: str) -> bool:
    """The in-app notice: the bell's entry and its row commit together (exactly once)."""
    if _taken(key, CHANNEL.IN_APP, user=user):
        return False
    # The bell's entry is itself the link (to ``path``): its text leaves out the address.
    subject, text, _html = messaging.render_message(
        TEMPLATE, {**context, "user": user, "url": ""}, user.language or settings.LANGUAGE_CODE
    )
    try:
        with transaction.atomic():
            bell = Notification.objects.create(
                user=user, subscription=key.request.subscription, title=subject[:200],
                body=text.strip(), url=path,
            )  # fmt: skip
            RequestNotice.objects.create(
                **key.fields(), channel=CHANNEL.IN_APP, recipient=user, notification=bell,
                status=RequestNotice.Status.SENT, sent_at=timezone.now(),
            )  # fmt: skip
    except IntegrityError as exc:
        if not _is_duplicate(exc):
            raise
        return False
    return True


def _email(key: Key, user: User, context: dict[str, Any]) -> bool:
    if not user.email or _taken(key, CHANNEL.EMAIL, user=user):
        return False
    subject, text, html = messaging.render_message(
        TEMPLATE, {**context, "user": user}, user.language or settings.LANGUAGE_CODE
    )
    notice = _claim(key, CHANNEL.EMAIL, user=user)
    if notice is None:
        return False
    ok = messaging.send_email(user.email, subject, text, html)
    _finish(notice, ok, "" if ok else "the mail server refused it (see the log)")
    return True


def _tell(key: Key, users: list[User], context: dict[str, Any], path: str) -> int:
    """Each active user once per key: a bell entry and an e-mail, in the user's language."""
    told = 0
    context = {**context, "event": key.kind}
    for user in {u.pk: u for u in users if u.is_active}.values():
        bell = _bell(key, user, context, path)
        if _email(key, user, context) or bell:
            told += 1
    return told


def _chat(key: Key, context: dict[str, Any], data: dict[str, Any]) -> int:
    """Each of the department's active chat channels once per key."""
    posted = 0
    request = key.request
    for channel in ChatChannel.objects.filter(department=request.department, is_active=True):
        if _taken(key, CHANNEL.CHAT, chat=channel):
            continue
        # A submission is announced with what it asks for (even when that step was decided
        # before this task ran).
        said = {**context, "event": key.kind}
        if key.kind == "submitted":
            said.update(event="awaiting", step=key.step)
        subject, text, _html = messaging.render_message(TEMPLATE, said, settings.LANGUAGE_CODE)
        notice = _claim(key, CHANNEL.CHAT, chat=channel)
        if notice is None:
            continue
        outcome = messaging.chat_post_to(channel, text=f"{subject}\n{text}".strip(), data=data)
        _finish(notice, outcome.ok, outcome.error)
        if outcome.ok:
            posted += 1
        else:  # the channel id, never its URL or secret, goes to the log
            logger.warning(
                "chat channel %s refused a request notice: %s", channel.pk, outcome.error
            )
    return posted


def _steps_of_old_task(
    request: RenewalRequest, event: str
) -> tuple[ApprovalStep | None, ApprovalStep | None]:
    """The steps a task queued before tasks carried them was about (an upgrade with tasks in
    the queue): the step decided last and the one after it, or the first of the round."""
    steps = request.steps.filter(round=request.round)
    if event == "submitted":
        first = steps.order_by("position").first()
        return first, first
    if event not in DECISIONS:
        return None, None
    decided = steps.filter(decided_at__isnull=False).order_by("-decided_at").first()
    following = steps.filter(position=decided.position + 1).first() if decided else None
    return decided, following


def _step(request: RenewalRequest, step_id: int | None) -> ApprovalStep | None:
    if step_id is None:
        return None
    return request.steps.select_related("request").filter(pk=step_id).first()


def request_notify(
    *,
    request_id: int,
    event: str,
    actor_id: int | None,
    round_no: int | None = None,
    step_id: int | None = None,
    awaiting_id: int | None = None,
) -> str:
    """Tell the requester (and the owner of decided requests), the approvers of the step the
    event opened, and the department's chat, once each, about ``event`` of round ``round_no``:
    ``step_id`` is the step the event decided (or the first step of a submission) and
    ``awaiting_id`` the step it opened."""
    request = (
        RenewalRequest.objects.select_related(
            "subscription", "subscription__vendor", "subscription__owner", "department",
            "requested_by",
        )
        .filter(pk=request_id)
        .first()
    )  # fmt: skip
    if request is None:
        return "gone"
    if round_no is None:
        round_no = request.round
        step, awaiting = _steps_of_old_task(request, event)
    else:
        step, awaiting = _step(request, step_id), _step(request, awaiting_id)
    if awaiting is not None and (
        awaiting.round != round_no or awaiting.status != ApprovalStep.Status.PENDING
    ):
        # Decided (or superseded) before this task ran: its approvers have nothing to do, and
        # the step now pending is the business of the task its event queued.
        awaiting = None
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    url = settings.SITE_URL + reverse("renewals:request-detail", args=[request.pk])
    context = {
        "request": request,
        "actor": actor,
        "step": awaiting,
        "comment": step.comment if step is not None and event in DECISIONS else "",
        "url": url,
    }
    told = 0
    path = request.get_absolute_url()
    key = Key(request=request, round=round_no, step=step, kind=event)
    informed = {request.requested_by}
    if request.subscription.owner and event in ("approved", "executed", "rejected", "cancelled"):
        informed.add(request.subscription.owner)
    informed.discard(actor)
    if event != "submitted":
        told += _tell(key, list(informed), context, path)
    # Personal chat cards (integrations.chat): cards of steps no longer waiting show the outcome
    # and the step now waiting asks its approvers.
    outlets.moved(request.pk)
    if awaiting is not None and event in ASKING:
        asked = Key(request=request, round=round_no, step=awaiting, kind="awaiting")
        approvers = approvers_for(awaiting)
        told += _tell(asked, approvers, context, path)
        outlets.asked(awaiting, [u.pk for u in approvers])
    posted = _chat(key, context, {"request": request.pk, "event": event, "url": url})
    return f"{told} told, {posted} chat"
