"""The calls still to make to the chat platforms (``ChatJob``): queued in the transaction that
decides (never a call inside it), made by django-q2 workers.

- **Claimed once**: a worker takes due jobs with ``SELECT … FOR UPDATE SKIP LOCKED`` and marks
  them ``sending`` under a lease (``CHAT_LEASE_SECONDS``); two workers never take the same job. A
  worker that dies leaves its lease to run out; the job is then due again and is sent with the
  same idempotency key (the card's ``key``: Feishu ``uuid``, DingTalk ``outTrackId``, WeCom
  ``task_id``), so the platform shows one card.
- **Retried with back-off**: a platform that is down or busy is tried again after 30 s, 1, 2, 4 …
  minutes, at most an hour apart, ``CHAT_MAX_ATTEMPTS`` times in all (about six hours); a
  rate-limit answer waits what the platform says and does not count as an attempt.
- **Dead letters**: a refusal (bad credentials, an unknown user) or the last failed attempt
  leaves the job ``failed`` with its reason, on the app's page, where IT can send it again.
- **Never twice**: one job per card and action; a card is one per app, subject and person.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.chat import content
from integrations.chat.models import ChatCard, ChatJob
from integrations.chat.platform import ChatError, RateLimited, Refused, Retry, Sent, Unsupported
from integrations.chat.platforms import platform_for

logger = logging.getLogger(__name__)

A, ST = ChatJob.Action, ChatJob.Status
BACKOFF_FIRST, BACKOFF_MAX = 30, 3600


def queue(card: ChatCard, action: str, *, at: dt.datetime | None = None) -> None:
    """Make sure ``action`` will be done for ``card`` (inside the caller's transaction): a new
    job, or a finished update due again (an update always shows the card as it is then)."""
    now = at or timezone.now()
    job, created = ChatJob.objects.get_or_create(
        card=card, action=action, defaults={"next_attempt_at": now}
    )
    if not created and action == A.UPDATE and job.status in (ST.DONE, ST.FAILED, ST.SKIPPED):
        ChatJob.objects.filter(pk=job.pk).update(
            status=ST.PENDING, attempts=0, next_attempt_at=now, last_error=""
        )


def kick_on_commit() -> None:
    """Have a worker deliver soon after the caller's transaction commits (the every-minute
    schedule is the safety net)."""
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task("integrations.tasks.chat_deliver", task_name="chat-deliver")
    )


def _claim(limit: int) -> list[int]:
    now = timezone.now()
    lease = now + dt.timedelta(seconds=settings.CHAT_LEASE_SECONDS)
    with transaction.atomic():
        ids = list(
            ChatJob.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=ST.PENDING, next_attempt_at__lte=now)
                | Q(status=ST.SENDING, next_attempt_at__lt=now)  # a dead worker's lease
            )
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        ChatJob.objects.filter(pk__in=ids).update(
            status=ST.SENDING, attempts=F("attempts") + 1, next_attempt_at=lease
        )
    return ids


@dataclass
class Outcome:
    done: int = 0
    waiting: int = 0
    failed: int = 0


def deliver(*, limit: int = 100) -> Outcome:
    """Make the due calls (at most ``limit``)."""
    outcome = Outcome()
    for job_id in _claim(limit):
        job = (
            ChatJob.objects.select_related(
                "card", "card__app", "card__recipient", "card__step", "card__step__decided_by",
                "card__request", "card__request__subscription", "card__request__department",
                "card__request__chosen_quote",
            )
            .filter(pk=job_id, status=ST.SENDING)
            .first()
        )  # fmt: skip
        if job is None:
            continue
        result = _run(job)
        setattr(outcome, result, getattr(outcome, result) + 1)
    return outcome


def _finish(job: ChatJob, status: str, error: str = "", at: dt.datetime | None = None) -> None:
    fields: dict[str, object] = {"status": status, "last_error": error[:1000]}
    if status == ST.DONE:
        fields["done_at"] = timezone.now()
    if at is not None:
        fields["next_attempt_at"] = at
    ChatJob.objects.filter(pk=job.pk, status=ST.SENDING).update(**fields)


def _later(job: ChatJob, seconds: float, error: str, *, counted: bool = True) -> str:
    if counted and job.attempts >= settings.CHAT_MAX_ATTEMPTS:
        _finish(job, ST.FAILED, error)
        return "failed"
    at = timezone.now() + dt.timedelta(seconds=seconds)
    fields: dict[str, object] = {
        "status": ST.PENDING,
        "last_error": error[:1000],
        "next_attempt_at": at,
    }
    if not counted:
        fields["attempts"] = F("attempts") - 1
    ChatJob.objects.filter(pk=job.pk, status=ST.SENDING).update(**fields)
    return "waiting"


def _backoff(attempts: int) -> float:
    return float(min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX))


def _run(job: ChatJob) -> str:
    card = job.card
    if not card.app.enabled:
        return _later(job, BACKOFF_MAX, _("The chat app is disabled."), counted=False)
    try:
        return _act(job, card)
    except RateLimited as exc:
        return _later(job, max(exc.seconds, 1.0), str(exc), counted=False)
    except Unsupported as exc:
        _finish(job, ST.SKIPPED, str(exc))
        return "done"
    except Refused as exc:
        _finish(job, ST.FAILED, str(exc))
        logger.warning("chat app %s: %s of card %s refused", card.app_id, job.action, card.pk)
        return "failed"
    except (Retry, ChatError) as exc:
        return _later(job, _backoff(job.attempts), str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug or an outage: retried, then shown
        logger.exception("chat app %s: %s of card %s failed", card.app_id, job.action, card.pk)
        return _later(job, _backoff(job.attempts), f"{type(exc).__name__}")


def _sibling(card: ChatCard, action: str) -> str | None:
    return ChatJob.objects.filter(card=card, action=action).values_list("status", flat=True).first()


def _act(job: ChatJob, card: ChatCard) -> str:
    platform = platform_for(card.app.kind)
    if job.action == A.SEND:
        if card.message_id:
            _finish(job, ST.DONE)
            return "done"
        if card.topic == ChatCard.Topic.APPROVAL and card.state != ChatCard.State.OPEN:
            # Decided before it could go out: nobody needs a card to show the outcome.
            _finish(job, ST.SKIPPED, _("Decided before the card was sent."))
            ChatJob.objects.filter(card=card, action=A.UPDATE, status=ST.PENDING).update(
                status=ST.SKIPPED
            )
            return "done"
        sent = platform.send(card.app, content.card_for(card))
        ChatCard.objects.filter(pk=card.pk).update(
            message_id=sent.message_id[:200],
            response_code=sent.response_code[:200] or card.response_code,
            sent_at=timezone.now(),
        )
        _finish(job, ST.DONE)
        return "done"
    if job.action == A.UPDATE:
        if not card.message_id:
            if _sibling(card, A.SEND) in (ST.SKIPPED, ST.FAILED):
                _finish(job, ST.SKIPPED, _("The card was never sent."))
                return "done"
            return _later(job, BACKOFF_FIRST, _("Waiting for the card to be sent."), counted=False)
        platform.update(card.app, Sent(card.message_id, card.response_code), content.card_for(card))
        _finish(job, ST.DONE)
        return "done"
    if job.action == A.TODO_OPEN:
        if card.state != ChatCard.State.OPEN:
            _finish(job, ST.SKIPPED, _("Decided before the to-do was opened."))
            return "done"
        todo_id = platform.open_todo(card.app, content.card_for(card))
        ChatCard.objects.filter(pk=card.pk).update(todo_id=todo_id[:200])
        _finish(job, ST.DONE)
        return "done"
    # TODO_CLOSE
    if not card.todo_id:
        if _sibling(card, A.TODO_OPEN) in (ST.PENDING, ST.SENDING):
            return _later(
                job, BACKOFF_FIRST, _("Waiting for the to-do to be opened."), counted=False
            )
        _finish(job, ST.SKIPPED, _("No to-do was opened."))
        return "done"
    platform.close_todo(card.app, card.todo_id, content.card_for(card))
    _finish(job, ST.DONE)
    return "done"


def next_due() -> dt.datetime | None:
    return (
        ChatJob.objects.filter(status__in=[ST.PENDING, ST.SENDING])
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def retry(job: ChatJob) -> bool:
    """Send a dead letter again (IT, from the app's page)."""
    return bool(
        ChatJob.objects.filter(pk=job.pk, status=ST.FAILED).update(
            status=ST.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
        )
    )
