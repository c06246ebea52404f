"""Savings suggestions (优化建议): anyone submits one on a subscription they see or hold a seat
of; IT admins accept or decline it; an accepted one is tracked until its saving is realised.

Races: a decision locks the suggestion row and re-reads its status under the lock, so two IT
admins deciding at once make one decision and the second is told it was already decided. The
author hears of each decision from a django-q2 task queued on commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import User
from renewals.inventory.models import Subscription
from renewals.suggestions.models import Suggestion
from renewals.suggestions.policy import may_decide
from renewals.suggestions.selectors import suggestable_subscriptions

S = Suggestion.Status
DETAILS_MAX = 4000


class SuggestionRefused(ValidationError):
    """A decision the suggestion's state refuses; ``code`` says why (already_decided,
    not_accepted, note_required)."""


@transaction.atomic
def suggestion_submit(
    *,
    user: User,
    subscription: Subscription,
    title: str,
    details: str = "",
    estimated_saving: Decimal | None = None,
) -> Suggestion:
    if not suggestable_subscriptions(user).filter(pk=subscription.pk).exists():
        raise PermissionDenied
    suggestion = Suggestion(
        subscription=subscription,
        author=user,
        title=" ".join((title or "").split()),
        details=(details or "").strip(),
        estimated_saving=estimated_saving,
    )
    if len(suggestion.details) > DETAILS_MAX:
        raise ValidationError({"details": _("Keep the details under 4000 characters.")})
    suggestion.full_clean()
    suggestion.save()
    return suggestion


def _locked(suggestion: Suggestion, user: User) -> Suggestion:
    if not may_decide(user):
        raise PermissionDenied
    return Suggestion.objects.select_for_update().get(pk=suggestion.pk)


def _notify_on_commit(suggestion: Suggestion, event: str) -> None:
    pk = suggestion.pk

    def queue() -> None:
        from django_q.tasks import async_task

        async_task(
            "renewals.suggestions.services.suggestion_notify", pk, event,
            task_name=f"suggestion-{pk}-{event}",
        )  # fmt: skip

    transaction.on_commit(queue)


@transaction.atomic
def suggestion_decide(
    *, suggestion: Suggestion, user: User, accept: bool, note: str = ""
) -> Suggestion:
    """Accept or decline a submitted suggestion; declining says why."""
    locked = _locked(suggestion, user)  # the race between two IT admins ends here
    if locked.status != S.SUBMITTED:
        raise SuggestionRefused(_("This suggestion was already decided."), code="already_decided")
    note = " ".join((note or "").split())
    if not accept and not note:
        raise SuggestionRefused(_("Say why the suggestion is declined."), code="note_required")
    if len(note) > 255:
        raise SuggestionRefused(_("Keep the note under 255 characters."), code="note_length")
    locked.status = S.ACCEPTED if accept else S.DECLINED
    locked.decided_by, locked.decided_at, locked.decision_note = user, timezone.now(), note
    locked.full_clean()
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _notify_on_commit(locked, locked.status)
    return locked


@transaction.atomic
def suggestion_realise(
    *,
    suggestion: Suggestion,
    user: User,
    realised_saving: Decimal,
    realised_on: dt.date,
    today: dt.date | None = None,
) -> Suggestion:
    """Record the yearly saving an accepted suggestion brought and since when."""
    locked = _locked(suggestion, user)
    if locked.status != S.ACCEPTED:
        raise SuggestionRefused(
            _("Only an accepted suggestion can be marked as realised."), code="not_accepted"
        )
    if realised_on > (today or timezone.localdate()):
        raise ValidationError({"realised_on": _("The date cannot be in the future.")})
    locked.status = S.REALISED
    locked.realised_saving, locked.realised_on = realised_saving, realised_on
    locked.full_clean()
    locked.save(update_fields=["status", "realised_saving", "realised_on"])
    _notify_on_commit(locked, S.REALISED)
    return locked


def suggestion_notify(suggestion_id: int, event: str) -> str:
    """django-q2 task: tell the author what became of their suggestion."""
    from renewals.notify.services import messaging

    suggestion = (
        Suggestion.objects.select_related("author", "subscription", "subscription__vendor")
        .filter(pk=suggestion_id)
        .first()
    )
    if suggestion is None:
        return "gone"
    path = reverse("renewals:suggestion-detail", args=[suggestion.pk])
    told = messaging.notify_users(
        [suggestion.author], template="renewals/email/suggestion-decided",
        context={"suggestion": suggestion, "event": event, "url": settings.SITE_URL + path},
        url=path, subscription=suggestion.subscription,
    )  # fmt: skip
    return f"{told} told"
