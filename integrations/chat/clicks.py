"""A verified card click, turned into a decision by the same service as the web inbox
(``renewals.requests.services.step_decide``: self-approval, role, department, order of steps,
round and budget checks included), or refused with the reason on the card.

Before the decision, and changing nothing when they fail:

1. **replay**: the platform's id of this delivery is recorded in its own committed row first; a
   second delivery of the same click (a retry, a replay, 50 at once) finds it and is refused;
2. **whose card**: the card is looked up under the app the callback came to (a card of another
   app or tenant is not found), its nonce must be the one the button carried, its platform message
   id the one the platform names;
3. **who clicked**: the ids the platform gives for the clicker must be the card's recipient's
   (a click forged for another person's card, or by someone we do not know, is refused), and that
   user must still be who the app maps to those ids.

Then the decision, and in the same transaction every card of the request that no longer waits
gets its update (and its to-do close) queued.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, replace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from integrations.chat import cards, content
from integrations.chat.identities import identities, known_on, same_person
from integrations.chat.models import ChatApp, ChatCard, ChatClick
from integrations.chat.platform import Card, Click
from renewals.requests import services as request_services
from renewals.requests.models.approvals import ApprovalStep

logger = logging.getLogger(__name__)

DECISIONS = {
    "approve": ApprovalStep.Decision.APPROVE,
    "return": ApprovalStep.Decision.RETURN,
    "reject": ApprovalStep.Decision.REJECT,
}


@dataclass(frozen=True)
class Answer:
    """What to tell the platform: HTTP ``status`` (200 when the click was taken or refused for a
    reason shown on the card), a short ``toast``, and the card as it is now (None: unknown)."""

    status: int
    toast: str
    ok: bool
    card: Card | None = None
    outcome: str = ""


def _refused(status: int, toast: str, outcome: str) -> Answer:
    return Answer(status=status, toast=toast, ok=False, outcome=outcome)


def _first_time(app: ChatApp, event_id: str) -> ChatClick | None:
    """Record the delivery (committed at once); None when it was seen before."""
    try:
        with transaction.atomic():
            return ChatClick.objects.create(app=app, event_id=event_id[:200])
    except IntegrityError:
        return None


def _card_of(app: ChatApp, click: Click) -> ChatCard | None:
    try:
        card_id = int(str(click.value.get("c")))
    except (TypeError, ValueError):
        return None
    card = (
        ChatCard.objects.select_related("recipient", "request", "step", "app")
        .filter(app=app, pk=card_id, topic=ChatCard.Topic.APPROVAL)
        .first()
    )
    if card is None:
        return None
    nonce = str(click.value.get("n") or "")
    if not hmac.compare_digest(nonce.encode(), card.nonce.encode()):
        return None
    if card.message_id and click.message_id and click.message_id != card.message_id:
        return None
    return card


def handle(app: ChatApp, click: Click) -> Answer:
    decision = DECISIONS.get(click.action)
    if decision is None or not click.event_id:
        return _refused(400, _("This is not a card action."), "malformed")
    record = _first_time(app, click.event_id)
    if record is None:
        return _refused(409, _("This click was already handled."), "replay")
    card = _card_of(app, click)
    if card is None:
        ChatClick.objects.filter(pk=record.pk).update(outcome="not_ours")
        return _refused(403, _("This card is not one of ours."), "not_ours")
    ChatClick.objects.filter(pk=record.pk).update(card=card)
    mapped = identities(app, [card.recipient_id]).get(card.recipient_id)
    if mapped is None or not same_person(mapped, click.user_ids, kind=app.kind):
        outcome = "forged" if known_on(app, click.user_ids) else "unknown_user"
        ChatClick.objects.filter(pk=record.pk).update(outcome=outcome)
        logger.warning("chat app %s: click on card %s refused (%s)", app.pk, card.pk, outcome)
        return _refused(403, _("This card was sent to someone else."), outcome)
    answer = _decide(app, card, decision, click)
    ChatClick.objects.filter(pk=record.pk).update(outcome=answer.outcome)
    return answer


def _decide(app: ChatApp, card: ChatCard, decision: str, click: Click) -> Answer:
    assert card.request is not None
    user = card.recipient
    with translation.override(content.language_of(card)):
        try:
            with transaction.atomic():
                if click.response_code:
                    ChatCard.objects.filter(pk=card.pk).update(
                        response_code=click.response_code[:200]
                    )
                request_services.step_decide(
                    request=card.request,
                    user=user,
                    decision=decision,
                    comment=click.comment[:4000],
                    step_id=card.step_id,
                    round_no=card.round,
                    via=app.kind,
                )
                cards.settle(card.request.pk)
        except request_services.DecisionRefused as exc:
            reason = " ".join(exc.messages)
            if exc.code in ("already_decided", "changed"):
                cards.settle(card.request.pk)
            refreshed = ChatCard.objects.select_related("recipient", "step", "request").get(
                pk=card.pk
            )
            shown = content.card_for(refreshed)
            if exc.code in ("own_request", "not_your_step", "signed_earlier", "changed"):
                # Not theirs to decide (any more), or a card of an earlier round: the reason
                # takes the buttons' place.
                shown = replace(
                    shown, state=ChatCard.State.CHANGED, outcome=reason, buttons=shown.buttons[-1:]
                )
            return Answer(200, reason, False, shown, str(exc.code or "refused"))
        except PermissionDenied:
            return Answer(200, _("You may not decide this request."), False, None, "denied")
        except ValidationError as exc:
            return Answer(200, " ".join(exc.messages), False, None, "refused")
        refreshed = ChatCard.objects.select_related("recipient", "step", "request").get(pk=card.pk)
        toast = {
            "approve": _("Approved."),
            "return": _("Returned to the requester."),
            "reject": _("Rejected."),
        }[decision]
        return Answer(200, toast, True, content.card_for(refreshed), "decided")
