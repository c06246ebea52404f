"""Which cards to send and when they change: the ``renewals.notify.outlets.Outlet`` that the
integrations app registers.

- ``asked``: a step waits for its approvers → on every enabled app with approval cards, a card
  (and a to-do) for each approver the app knows; the card's key (step and person) makes a second
  ask for the same step a no-op.
- ``moved``: the request changed (decided on the web, on a card, by the API; returned,
  resubmitted, cancelled) → every open card whose step no longer waits shows the outcome
  (``Approved by 王磊 at 14:02``, or "the request changed"), its to-do closes. Called by the
  request's notice task and, for a card click, in the deciding transaction itself.
- ``notice``: a renewal alert or a leaver notice for one person → a card with its button.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import IntegrityError, transaction

from integrations.chat import content, outbox
from integrations.chat.identities import identities
from integrations.chat.models import ChatApp, ChatCard, ChatJob
from integrations.chat.platforms import module_for
from renewals.notify.outlets import PersonalNotice
from renewals.requests.models.requests import RenewalRequest

A = ChatJob.Action


def _has_todos(app: ChatApp) -> bool:
    return app.todos and bool(getattr(module_for(app.kind), "HAS_TODOS", True))


def _create(app: ChatApp, key: str, user_id: int, identity: Any, **fields: Any) -> ChatCard | None:
    try:
        with transaction.atomic():
            return ChatCard.objects.create(
                app=app,
                key=key,
                recipient_id=user_id,
                platform_id=identity.platform_id,
                other_ids=identity.other_ids,
                nonce=secrets.token_urlsafe(32),
                **fields,
            )
    except IntegrityError:  # this card exists: sent (or being sent) already
        return None


class ChatOutlet:
    def asked(self, step: Any, approver_ids: list[int]) -> int:
        apps = list(
            ChatApp.objects.filter(enabled=True, approvals=True).select_related("directory")
        )
        made = 0
        for app in apps:
            for user_id, identity in identities(app, approver_ids).items():
                with transaction.atomic():
                    card = _create(
                        app,
                        f"rd-s{step.pk}-u{user_id}",
                        user_id,
                        identity,
                        topic=ChatCard.Topic.APPROVAL,
                        step_id=step.pk,
                        request_id=step.request_id,
                        round=step.round,
                    )
                    if card is None:
                        continue
                    outbox.queue(card, A.SEND)
                    if _has_todos(app):
                        outbox.queue(card, A.TODO_OPEN)
                    made += 1
        if made:
            outbox.kick_on_commit()
        return made

    def moved(self, request_id: int) -> int:
        changed = settle(request_id, kick=False)
        # Also what a click settled in its own transaction: its calls start from here (the
        # request's notice task, in a worker), not from the click's answer.
        due = ChatJob.objects.filter(
            card__request_id=request_id, status=ChatJob.Status.PENDING
        ).exists()
        if changed or due:
            outbox.kick_on_commit()
        return changed

    def notice(self, notice: PersonalNotice) -> int:
        apps = list(ChatApp.objects.filter(enabled=True, notices=True).select_related("directory"))
        made = 0
        digest = hashlib.sha256(notice.key.encode()).hexdigest()[:40]
        for app in apps:
            identity = identities(app, [notice.user_id]).get(notice.user_id)
            if identity is None:
                continue
            with transaction.atomic():
                card = _create(
                    app,
                    f"rd-n{digest}",
                    notice.user_id,
                    identity,
                    topic=ChatCard.Topic.NOTICE,
                    state=ChatCard.State.INFO,
                    notice={
                        "title": notice.title,
                        "text": notice.text,
                        "url": notice.url,
                        "action": notice.action,
                        "subscription": notice.subscription_id,
                    },
                )
                if card is not None:
                    outbox.queue(card, A.SEND)
                    made += 1
        if made:
            outbox.kick_on_commit()
        return made


def settle(request_id: int, *, kick: bool = True) -> int:
    """Open cards of ``request_id`` whose step no longer waits: outcome set, update and to-do
    close queued (in the caller's transaction, or its own); ``kick``: a worker delivers them
    once it commits. Returns how many changed."""
    changed = 0
    with transaction.atomic():
        cards = list(
            ChatCard.objects.select_for_update(of=("self",))
            .select_related("step", "step__decided_by", "app")
            .filter(request_id=request_id, state=ChatCard.State.OPEN)
        )
        if not cards:
            return 0
        request = RenewalRequest.objects.filter(pk=request_id).only("pk", "round").first()
        if request is None:
            return 0
        for card in cards:
            assert card.step is not None
            state, outcome = content.outcome_of(card.step, request, card.round)
            if state == ChatCard.State.OPEN:
                continue
            ChatCard.objects.filter(pk=card.pk).update(state=state, outcome=outcome[:300])
            outbox.queue(card, A.UPDATE)
            if _has_todos(card.app):
                outbox.queue(card, A.TODO_CLOSE)
            changed += 1
        if changed and kick:
            outbox.kick_on_commit()
    return changed
