"""Reclamation playbooks (#20), per subscription and off until IT turns them on:

- **idle**: an account matched to a person, holding a seat, whose last activity in the tool is
  older than ``idle_days`` gets one notice (bell and e-mail to the holder, a post with *Keep
  my seat* to the department's chat): the seat goes on ``revoke_on`` unless they keep it.
  After ``grace_days`` without an answer (and still unused) it is revoked in the tool and the
  software admins are told. Kept: not asked again for ``idle_days`` after the notice. Used
  again: the notice is over. A tool that reports no activity is never acted on (no data is not idleness).
- **leaver**: the accounts of people the directory says have left are revoked at once
  (the every-minute schedule runs it).

One run revokes at most ``CONNECTOR_MAX_REVOKE_PERCENT`` of a connector's active accounts;
the rest are held for IT to confirm on the connector's page. Every revocation says what
triggered it (``Revocation.source``) and is in the audit trail. Runs are idempotent: the
unique "one waiting notice" and "one open revocation" per account make a second run (or a
second worker) add nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.connectors import revoking
from integrations.connectors.kinds import kind_of
from integrations.connectors.models import Account, Connector, IdleNotice, Playbook, Revocation
from org.models import Person, User
from renewals.cleanup.leavers import admins_by_department
from renewals.notify.services import messaging

logger = logging.getLogger(__name__)
A = IdleNotice.Answer
TEMPLATE = "integrations/email/idle-notice"
REVOKED_TEMPLATE = "integrations/email/idle-revoked"


def _site(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _limit(connector: Connector) -> int:
    active = Account.objects.filter(connector=connector, present=True, active=True).count()
    return math.floor(active * settings.CONNECTOR_MAX_REVOKE_PERCENT / 100)


def _request(connector: Connector, ids: dict[int, str], source: str, room: list[int]) -> dict:
    """Revoke these accounts (id -> reason) within ``room[0]`` more; the rest held. The
    worker's run is queued once, after the commit."""
    counts: dict[str, int] = defaultdict(int)
    for account_id, reason in ids.items():
        held = room[0] <= 0
        made = revoking.revocations_request(
            connector=connector, account_ids=[account_id], user=None, reason=reason,
            source=source, held=held, queue=False,
        )  # fmt: skip
        if made:
            counts["held" if held else "revoking"] += 1
            room[0] -= 0 if held else 1
    if counts.get("revoking"):
        revoking.queue_run(connector.pk)
    return counts


def _connectors(field: str) -> list[Connector]:
    """Enabled connectors that can revoke, of subscriptions whose playbook has ``field`` on."""
    subscriptions = Playbook.objects.filter(**{field: True}).values("subscription_id")
    return [
        c
        for c in Connector.objects.filter(enabled=True, subscription_id__in=subscriptions)
        .select_related("subscription__playbook", "subscription__department")
        .order_by("pk")
        if kind_of(c).deprovision is not None
    ]


def leavers_run() -> dict[str, int]:
    """Revoke, in the tools, the active accounts of people who have left."""
    counts: dict[str, int] = defaultdict(int)
    for connector in _connectors("leaver_enabled"):
        leavers = (
            Account.objects.filter(connector=connector, present=True, active=True)
            .filter(person__status=Person.Status.LEFT)
            .exclude(revocations__status__in=revoking.OPEN)
            # Asked once: not again, whatever came of it (IT cancelled or undid it, or the tool
            # refused it five times: that is IT's to look at, not a loop's).
            .exclude(
                Exists(
                    Revocation.objects.filter(
                        account=OuterRef("pk"),
                        source=Revocation.Source.LEAVER,
                        action=Revocation.Action.REVOKE,
                    )
                )
            )  # fmt: skip
            .select_related("person")
        )
        ids = {
            a.pk: _("%(person)s left on %(date)s (leaver playbook)")
            % {"person": a.person.name, "date": a.person.left_on or "—"}  # type: ignore[union-attr]
            for a in leavers
        }
        for key, n in _request(
            connector, ids, Revocation.Source.LEAVER, [_limit(connector)]
        ).items():
            counts[key] += n
    return dict(counts)


def idle_run(today: dt.date | None = None) -> dict[str, int]:
    """The daily idle playbook: notices due, and revocations after the grace period."""
    today = today or timezone.localdate()
    counts: dict[str, int] = defaultdict(int)
    for connector in _connectors("idle_enabled"):
        playbook = connector.subscription.playbook
        room = [_limit(connector)]
        try:
            for key, n in _revoke_unanswered(connector, playbook, today, room).items():
                counts[key] += n
            counts["notices"] += _send_notices(connector, playbook, today)
        except Exception:  # one connector's trouble never stops the others' playbooks
            logger.exception("idle playbook of connector %s failed", connector.pk)
            counts["failed"] += 1
    return dict(counts)


def _since(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _send_notices(connector: Connector, playbook: Playbook, today: dt.date) -> int:
    idle_since = _since(today - dt.timedelta(days=playbook.idle_days))
    candidates = (
        Account.objects.filter(
            connector=connector,
            present=True,
            active=True,
            person__status=Person.Status.ACTIVE,
            seat__isnull=False,
            seat__revoked_on__isnull=True,
            last_active_at__lt=idle_since,
        )  # fmt: skip
        .exclude(revocations__status__in=revoking.OPEN)
        .exclude(idle_notices__answer=A.WAITING)
        # Told within the last idle_days (kept, revoked or used again since): not asked again.
        .exclude(idle_notices__sent_on__gt=today - dt.timedelta(days=playbook.idle_days))
        .select_related("person__user")
        .distinct()
    )
    sent = 0
    for account in candidates:
        try:
            with transaction.atomic():
                notice = IdleNotice.objects.create(
                    account=account, person=account.person, sent_on=today,  # type: ignore[misc]
                    revoke_on=today + dt.timedelta(days=playbook.grace_days),
                )  # fmt: skip
        except IntegrityError:  # another worker sent it a moment ago
            continue
        _tell_holder(notice, connector)
        sent += 1
    return sent


def _revoke_unanswered(
    connector: Connector, playbook: Playbook, today: dt.date, room: list[int]
) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        due = list(
            IdleNotice.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(account__connector=connector, answer=A.WAITING, revoke_on__lte=today)
            .select_related("account", "person")
        )
        told: list[IdleNotice] = []
        for notice in due:
            account = notice.account
            used = account.last_active_at and account.last_active_at >= _since(notice.sent_on)
            if used or not (account.present and account.active):
                notice.answer, notice.answered_at = A.OVER, timezone.now()
                notice.save(update_fields=["answer", "answered_at"])
                counts["over"] += 1
                continue
            reason = _("Idle since %(date)s; no answer to the notice of %(sent)s (idle playbook)") % {
                "date": timezone.localdate(account.last_active_at).isoformat()
                if account.last_active_at else "—", "sent": notice.sent_on.isoformat()}  # fmt: skip
            asked = _request(connector, {account.pk: reason}, Revocation.Source.IDLE, room)
            for key, n in asked.items():
                counts[key] += n
            notice.answer, notice.answered_at = A.REVOKED, timezone.now()
            notice.save(update_fields=["answer", "answered_at"])
            if asked.get("revoking"):  # held ones wait for IT: the connector's page lists them
                told.append(notice)
        if told:
            transaction.on_commit(lambda: _tell_admins(connector, told))
    return counts


def _tell_holder(notice: IdleNotice, connector: Connector) -> None:
    path = reverse("integrations:idle-keep", args=[notice.pk])
    context = {"notice": notice, "subscription": connector.subscription, "url": _site(path),
               "last": notice.account.last_active_at}  # fmt: skip
    user = getattr(notice.person, "user", None)
    if user is not None and user.is_active:
        messaging.notify_users([user], template=TEMPLATE, context=context, url=path,
                               subscription=connector.subscription)  # fmt: skip
    elif notice.person.email:
        subject, text, html = messaging.render_message(TEMPLATE, context, settings.LANGUAGE_CODE)
        messaging.send_email(notice.person.email, subject, text, html)
    subject, text, _html = messaging.render_message(TEMPLATE, context, settings.LANGUAGE_CODE)
    messaging.chat_post(
        connector.subscription.department, text=f"{subject}\n{text}".strip(),
        data={"event": "idle_notice", "notice": notice.pk, "url": context["url"],
              "action": {"label": _("Keep my seat"), "url": context["url"]}},
    )  # fmt: skip


def _tell_admins(connector: Connector, notices: list[IdleNotice]) -> None:
    subscription = connector.subscription
    admins = admins_by_department({subscription.department_id}).get(subscription.department_id, [])
    path = reverse("renewals:subscription-detail", args=[subscription.pk])
    messaging.notify_users(
        admins, template=REVOKED_TEMPLATE,
        context={"subscription": subscription, "notices": notices, "url": _site(path),
                 "connector": connector},
        url=path, subscription=subscription,
    )  # fmt: skip


@transaction.atomic
def keep_seat(*, notice: IdleNotice, user: User) -> IdleNotice:
    """The holder keeps their seat: the notice is answered and nothing is revoked."""
    locked = IdleNotice.objects.select_for_update().get(pk=notice.pk)
    if getattr(user, "person", None) is None or user.person.pk != locked.person_id:
        raise PermissionDenied
    if locked.answer == A.WAITING:
        locked.answer, locked.answered_at = A.KEPT, timezone.now()
        locked.save(update_fields=["answer", "answered_at"])
    return locked
