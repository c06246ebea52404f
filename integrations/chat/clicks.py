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


def _card_of(app: ChatApp, click: Click) -> ChatCard | None:
    try:
        card_id = int(str(click.value.get("c")))
    except (TypeError, ValueError):
        return None
    card = (
        ChatCard.objects.select_related("recipient", "request", "app")
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


@dataclass(frozen=True)
class _Result:
    """What the checks and the decision came to (the answer's card is built after commit)."""

    status: int
    toast: str
    ok: bool
    outcome: str
    card_id: int | None = None
    reason_on_card: bool = False


def handle(app: ChatApp, click: Click) -> Answer:
    decision = DECISIONS.get(click.action)
    if decision is None or not click.event_id:
        return _refused(400, _("This is not a card action."), "malformed")
    # One transaction: the click's record, the checks, the decision and the card updates it
    # queues commit together. A second delivery of the same click waits on the record's unique
    # key until this one ends, then is refused as a replay; a decision that fails for another
    # reason (an error) records nothing, so the platform's retry is decided afresh.
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = ChatClick.objects.create(app=app, event_id=click.event_id[:200])
        except IntegrityError:
            return _refused(409, _("This click was already handled."), "replay")
        result = _checked(app, click, decision)
        ChatClick.objects.filter(pk=record.pk).update(
            card_id=result.card_id, outcome=result.outcome
        )
    if result.status != 200 or result.card_id is None:
        return Answer(result.status, result.toast, result.ok, None, result.outcome)
    card = ChatCard.objects.select_related(
        "recipient", "step__decided_by", "request__subscription__vendor",
        "request__department", "request__chosen_quote",
    ).get(pk=result.card_id)  # fmt: skip
    with translation.override(content.language_of(card)):
        shown = content.card_for(card)
    if result.reason_on_card:
        # Not theirs to decide (any more), or a card of an earlier round: the reason takes
        # the buttons' place.
        shown = replace(
            shown, state=ChatCard.State.CHANGED, outcome=result.toast, buttons=shown.buttons[-1:]
        )
    return Answer(200, result.toast, result.ok, shown, result.outcome)


def _checked(app: ChatApp, click: Click, decision: str) -> _Result:
    card = _card_of(app, click)
    if card is None:
        return _Result(403, _("This card is not one of ours."), False, "not_ours")
    mapped = identities(app, [card.recipient_id]).get(card.recipient_id)
    if mapped is None or not same_person(mapped, click.user_ids, kind=app.kind):
        outcome = "forged" if known_on(app, click.user_ids) else "unknown_user"
        logger.warning("chat app %s: click on card %s refused (%s)", app.pk, card.pk, outcome)
        return _Result(403, _("This card was sent to someone else."), False, outcome, card.pk)
    with translation.override(content.language_of(card)):
        return _decide(app, card, decision, click)


def _decide(app: ChatApp, card: ChatCard, decision: str, click: Click) -> _Result:
    assert card.request is not None
    try:
        with transaction.atomic():
            if click.response_code:
                ChatCard.objects.filter(pk=card.pk).update(response_code=click.response_code[:200])
            request_services.step_decide(
                request=card.request,
                user=card.recipient,
                decision=decision,
                comment=click.comment[:4000],
                step_id=card.step_id,
                round_no=card.round,
                via=app.kind,
            )
            # The request's notice task, queued on commit, starts the delivery.
            cards.settle(card.request.pk, kick=False)
    except request_services.DecisionRefused as exc:
        if exc.code in ("already_decided", "changed"):
            cards.settle(card.request.pk)
        code = str(exc.code or "refused")
        reason_on_card = code in ("own_request", "not_your_step", "signed_earlier", "changed")
        return _Result(200, " ".join(exc.messages), False, code, card.pk, reason_on_card)
    except PermissionDenied:
        return _Result(200, _("You may not decide this request."), False, "denied", card.pk)
    except ValidationError as exc:
        return _Result(200, " ".join(exc.messages), False, "refused", card.pk)
    toast = {
        "approve": _("Approved."),
        "return": _("Returned to the requester."),
        "reject": _("Rejected."),
    }[decision]
    return _Result(200, toast, True, "decided", card.pk)
