"""Renewal alerts: the sweep that records what is due, and the delivery of what is pending.

Exactly once is kept by the database, not by the code paths: every alert is a row under a unique
key (subscription, term end, kind, threshold, channel, recipient); the sweep inserts with
ON CONFLICT DO NOTHING, so running it twice, concurrently or after an outage adds nothing twice;
deliveries are claimed with FOR UPDATE SKIP LOCKED, so two workers never take the same one, under
short leases that a dead worker gives up at once (alert_claims).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from renewals.alerts import claims as alert_claims
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import LIVE_STATUSES_SQL, Subscription
from renewals.inventory.selectors import with_figures
from renewals.notify import outlets, webhooks
from renewals.notify.models import Notification
from renewals.requests.models.requests import RenewalRequest

logger = logging.getLogger(__name__)

# Every (subscription, term end, kind, threshold) due on %(today)s, most urgent first within
# its group; recipients are the owner, the department's software admins, the IT admins and the
# subscription's extra alert recipients (Subscription.alert_recipients), plus
# the department heads from the escalation threshold on (and at expiry) when no renewal request is
# under way. A subscription decided not to be renewed gets only its cancellation-deadline alerts.
SWEEP_SQL = f"""
WITH subs AS (
    SELECT s.id, s.term_end, s.cancellation_deadline, s.auto_renew, s.status,
           s.department_id, s.owner_id, s.ends_at_term_end,
           CASE WHEN cardinality(s.alert_thresholds) > 0 THEN s.alert_thresholds
                ELSE %(thresholds)s::integer[] END AS thresholds
    FROM renewals_subscription s
    WHERE s.status <> 'cancelled' AND s.archived_at IS NULL
),
events AS (
    SELECT id, term_end, 'term_end' AS kind, t AS threshold, term_end - t AS due_on, department_id, owner_id
    FROM subs, unnest(thresholds) AS t
    WHERE status IN {LIVE_STATUSES_SQL} AND NOT ends_at_term_end
      AND term_end >= %(today)s AND term_end - %(today)s <= t
    UNION ALL
    SELECT id, term_end, 'cancellation', t, cancellation_deadline - t, department_id, owner_id
    FROM subs, unnest(thresholds) AS t
    WHERE status IN {LIVE_STATUSES_SQL} AND auto_renew
      AND cancellation_deadline >= %(today)s AND cancellation_deadline - %(today)s <= t
    UNION ALL
    SELECT id, term_end, 'expired', 0, term_end, department_id, owner_id
    FROM subs WHERE term_end < %(today)s AND NOT ends_at_term_end
),
ranked AS (
    SELECT e.*, threshold = min(threshold) OVER (PARTITION BY id, term_end, kind) AS most_urgent
    FROM events e
),
recipients AS (
    SELECT r.id, r.term_end, r.kind, r.threshold, r.due_on, r.most_urgent, u.id AS user_id
    FROM ranked r
    JOIN LATERAL (
        SELECT r.owner_id AS user_id WHERE r.owner_id IS NOT NULL
        UNION SELECT sa.user_id FROM org_department_software_admins sa WHERE sa.department_id = r.department_id
        UNION SELECT ar.user_id FROM renewals_subscription_alert_recipients ar WHERE ar.subscription_id = r.id
        UNION SELECT ug.user_id FROM org_user_groups ug JOIN auth_group g ON g.id = ug.group_id
              WHERE g.name = 'it_admin'
        UNION SELECT h.user_id FROM org_department_heads h
              WHERE h.department_id = r.department_id
                AND (r.kind = 'expired' OR r.threshold <= %(escalate)s)
                AND NOT EXISTS (
                    SELECT 1 FROM renewals_renewalrequest rr
                    WHERE rr.subscription_id = r.id AND rr.status = ANY(%(open)s)
                )
    ) who ON true
    JOIN org_user u ON u.id = who.user_id AND u.is_active
),
inserted AS (
    INSERT INTO renewals_alertdelivery
        (subscription_id, term_end, kind, threshold, due_on, channel, recipient_id,
         chat_channel_id, status, attempts, next_attempt_at, last_error, created_at)
    SELECT r.id, r.term_end, r.kind, r.threshold, r.due_on, c.channel, r.user_id, NULL,
           CASE WHEN r.most_urgent THEN 'pending' ELSE 'skipped' END, 0, %(now)s, '', %(now)s
    FROM recipients r CROSS JOIN (VALUES ('in_app'), ('email')) AS c(channel)
    UNION ALL
    SELECT r.id, r.term_end, r.kind, r.threshold, r.due_on, 'chat', NULL, ch.id,
           CASE WHEN r.most_urgent THEN 'pending' ELSE 'skipped' END, 0, %(now)s, '', %(now)s
    FROM ranked r JOIN renewals_chatchannel ch ON ch.department_id = r.department_id AND ch.is_active
    ON CONFLICT ON CONSTRAINT alert_delivery_once DO NOTHING
    RETURNING status
)
SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'skipped')
FROM inserted
"""


@dataclass(frozen=True)
class SweepResult:
    pending: int
    skipped: int


def alerts_sweep(*, today: dt.date | None = None) -> SweepResult:
    """Record every alert due on ``today`` (in TIME_ZONE) that was not recorded before."""
    today = today or timezone.localdate()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            SWEEP_SQL,
            {
                "today": today,
                "thresholds": list(settings.ALERT_THRESHOLDS),
                "escalate": settings.ALERT_ESCALATE_AT_DAYS,
                "open": [str(status) for status in RenewalRequest.OPEN],
                "now": timezone.now(),
            },
        )
        pending, skipped = cursor.fetchone()
    logger.info("alert sweep %s: %s new, %s skipped", today, pending, skipped)
    return SweepResult(pending=pending, skipped=skipped)


def alerts_stop_for_renewed_term(*, subscription: Subscription, term_end: dt.date) -> int:
    """Pending alerts of a term that was renewed stop (the new term gets its own). Called by
    renewals.execution inside the transaction that records the executed renewal."""
    return AlertDelivery.objects.filter(
        subscription=subscription, term_end=term_end, status=AlertDelivery.Status.PENDING
    ).update(status=AlertDelivery.Status.STOPPED, last_error=_("renewal executed"))


def alerts_stop_for_archived(*, subscription: Subscription) -> int:
    """Pending alerts of an archived subscription stop; the sweep records no new ones (it skips
    archived and cancelled subscriptions). Called by renewals.execution's archive, in its
    transaction."""
    return AlertDelivery.objects.filter(
        subscription=subscription, status=AlertDelivery.Status.PENDING
    ).update(status=AlertDelivery.Status.STOPPED, last_error=_("subscription archived"))


def _claim(limit: int) -> list[int]:
    """Take up to ``limit`` due deliveries under this worker's lease (see alert_claims)."""
    return alert_claims.claim(limit)


def alerts_deliver(*, limit: int | None = None) -> int:
    """Send what is due, a small slice at a time, and return how many were sent. Claims of dead
    workers are taken over first; each send renews the lease of the rest of the slice, so a
    worker that dies strands nothing for longer than one lease."""
    sent = 0
    alert_claims.release_orphans()
    while ids := _claim(limit or settings.ALERT_CLAIM_SLICE):
        deliveries = list(
            AlertDelivery.objects.select_related("recipient", "chat_channel")
            .filter(pk__in=ids)
            .order_by("pk")
        )
        subscriptions = {
            s.pk: s
            for s in with_figures(
                Subscription.objects.filter(pk__in={d.subscription_id for d in deliveries})
            ).select_related("vendor", "department")
        }
        left = [d.pk for d in deliveries]
        try:
            for delivery in deliveries:
                left.remove(delivery.pk)
                # In flight: the message may arrive even if this worker dies before it hears
                # back (an in-app notice commits with its "sent" mark, so it never is).
                in_flight = delivery.channel != AlertDelivery.Channel.IN_APP
                if alert_claims.start_sending(delivery.pk, left, in_flight=in_flight):
                    sent += _deliver_one(delivery, subscriptions[delivery.subscription_id])
        finally:
            alert_claims.unclaim(left)  # only after an error: the loop used them all up
    return sent


def alerts_deliver_on_time(*, budget_seconds: float | None = None) -> int:
    """The delivery task: send what is due, then, if a retry falls due within the next
    WAKEUP_LEAD_SECONDS, wait for it and send it on time (one waiting run at a time, for at most
    ``budget_seconds``, which stays well under Q_TIMEOUT); finally set the one-off wake-up for
    the next retry. So a back-off of N seconds is kept to the second, not to the next tick."""
    budget = settings.ALERT_WAIT_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    # Never near django-q2's time limit (it stops the task with SIGALRM, then kills the worker).
    budget = min(budget, float(str(settings.Q_CLUSTER.get("timeout") or 300)) / 2)
    started = time.monotonic()
    sent = alerts_deliver()
    due = alert_claims.next_due()
    lead = dt.timedelta(seconds=alert_claims.WAKEUP_LEAD_SECONDS)
    if due is not None and due <= timezone.now() + lead and alert_claims.try_wait_lock():
        try:
            while due is not None:
                wait = (due - timezone.now()).total_seconds()
                if wait > lead.total_seconds() or time.monotonic() - started + wait > budget:
                    break
                time.sleep(max(wait, 0.05))  # (never a busy loop on a row another run holds)
                sent += alerts_deliver()
                due = alert_claims.next_due()
        finally:
            alert_claims.wait_unlock()
    alert_claims.arm_wakeup(due)
    return sent


def _message(delivery: AlertDelivery, subscription: Subscription) -> dict[str, object]:
    date = (
        subscription.cancellation_deadline if delivery.kind == "cancellation" else delivery.term_end
    )
    return {
        "delivery": delivery,
        "subscription": subscription,
        "date": date,
        # Counted from the day the alert fell due, or from today when it goes out late.
        "days_left": (date - max(timezone.localdate(), delivery.due_on)).days,
        # Straight to "start renewal request" (it opens the request under way if there is one).
        "url": settings.SITE_URL + reverse("renewals:request-create", args=[subscription.pk]),
    }


def _deliver_one(delivery: AlertDelivery, subscription: Subscription) -> int:
    recipient = delivery.recipient
    language = (recipient.language if recipient else "") or settings.LANGUAGE_CODE
    context = _message(delivery, subscription)
    try:
        with translation.override(language):
            subject = render_to_string("renewals/email/alert-subject.txt", context).strip()
            text = render_to_string("renewals/email/alert-body.txt", context)
            if delivery.channel == AlertDelivery.Channel.CHAT:
                return _send_chat(delivery, subscription, subject, text, context)
            assert recipient is not None  # in-app and e-mail deliveries always have one
            if delivery.channel == AlertDelivery.Channel.IN_APP:
                # The bell's entry is the link itself: no written-out address in its text.
                in_app = render_to_string("renewals/email/alert-body.txt", {**context, "url": ""})
                with transaction.atomic():
                    # The notification and the "sent" mark commit together: exactly once (and
                    # not at all if another worker took the claim over meanwhile).
                    if not _mark_sent(delivery):
                        return 0
                    Notification.objects.create(
                        user=recipient,
                        subscription=subscription,
                        title=subject,
                        body=in_app.strip(),
                        # Straight to "start renewal request", like the e-mail's link.
                        url=reverse("renewals:request-create", args=[subscription.pk]),
                    )
                    # And as a card in the recipient's own chat (integrations.chat), once.
                    outlets.notice_on_commit(
                        outlets.PersonalNotice(
                            key=f"alert-{delivery.pk}",
                            user_id=recipient.pk,
                            title=subject[:200],
                            text=in_app.strip()[:2000],
                            url=str(context["url"]),
                            action=_("Start renewal request"),
                            subscription_id=subscription.pk,
                        )
                    )
                return 1
            if not recipient.email:
                _mark(delivery, AlertDelivery.Status.FAILED, "recipient has no e-mail address")
                return 0
            html = render_to_string("renewals/email/alert-body.html", context)
            message = EmailMultiAlternatives(
                subject,
                text,
                to=[recipient.email],
                # A bounded wait: the worker's lease is sized on it (ALERT_LEASE_SECONDS).
                connection=get_connection(timeout=settings.ALERT_SEND_TIMEOUT_SECONDS),
                # The same Message-ID on every attempt: a copy sent again after a crash is the
                # same message to mail systems that de-duplicate on it.
                headers={"Message-ID": message_id(delivery)},
            )
            message.attach_alternative(html, "text/html")
            message.send()
    except Exception as exc:  # noqa: BLE001 - any sending failure is retried, then shown
        _retry_or_fail(delivery, f"{type(exc).__name__}: {exc}"[:1000])
        return 0
    return int(_mark_sent(delivery))


def idempotency_key(delivery: AlertDelivery) -> str:
    """One key per delivery, the same on every attempt (retries, re-sends after a crash)."""
    return f"renewaldesk-alert-{delivery.pk}"


def message_id(delivery: AlertDelivery) -> str:
    """The e-mail's Message-ID, derived from the delivery (RFC 5322: unique, stable here)."""
    domain = urllib.parse.urlsplit(settings.SITE_URL).hostname or "renewaldesk.invalid"
    return f"<{idempotency_key(delivery)}@{domain}>"


def _send_chat(
    delivery: AlertDelivery,
    subscription: Subscription,
    subject: str,
    text: str,
    context: dict[str, object],
) -> int:
    channel = delivery.chat_channel
    assert channel is not None
    message = webhooks.neutralise(f"{subject}\n{text}".strip())
    url, body = webhooks.build_request(
        channel.kind,
        channel.url,
        channel.secret,
        message,
        {
            "subscription": subscription.ref,
            "kind": delivery.kind,
            "threshold": delivery.threshold,
            "date": str(context["date"]),
            "url": context["url"],
            # Only the generic webhook has a field for it: DingTalk's, Feishu's, WeCom's and
            # Slack's incoming-webhook robots document none (Feishu's ``uuid`` belongs to the app
            # API, not to custom robots); the header goes to every kind and is ignored there.
            "idempotency_key": idempotency_key(delivery),
        },
    )
    outcome = webhooks.post(url, body, headers={"Idempotency-Key": idempotency_key(delivery)})
    if outcome.ok:
        return int(_mark_sent(delivery))
    if outcome.retry:
        _retry_or_fail(delivery, outcome.error, retry_after=outcome.retry_after)
    else:
        _mark(delivery, AlertDelivery.Status.FAILED, outcome.error)
    return 0


def _mark_sent(delivery: AlertDelivery) -> bool:
    return alert_claims.finish(
        delivery.pk, status=AlertDelivery.Status.SENT, sent_at=timezone.now(), last_error=""
    )


def _mark(delivery: AlertDelivery, status: str, error: str) -> None:
    alert_claims.finish(delivery.pk, status=status, last_error=error)


def _retry_or_fail(
    delivery: AlertDelivery, error: str, *, retry_after: float | None = None
) -> None:
    """Back off exponentially with jitter; after ALERT_MAX_ATTEMPTS the delivery is failed (a
    visible dead letter with its error)."""
    attempts = delivery.attempts  # loaded after the claim, which counted this attempt
    if attempts >= settings.ALERT_MAX_ATTEMPTS:
        _mark(delivery, AlertDelivery.Status.FAILED, error)
        return
    delay = settings.ALERT_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
    delay = delay * (0.5 + random.random())  # noqa: S311 - jitter, not security
    if retry_after is not None:  # the server said when (429 Retry-After): never earlier
        delay = max(delay, retry_after)
    alert_claims.finish(
        delivery.pk,
        status=AlertDelivery.Status.PENDING,
        next_attempt_at=timezone.now() + dt.timedelta(seconds=delay),
        last_error=error,
    )


def alerts_release_stuck(*, grace: dt.timedelta = dt.timedelta(0)) -> int:
    """Deliveries claimed by a worker that died (or whose lease ended more than ``grace`` ago)
    are taken over: see alert_claims.release_orphans."""
    return alert_claims.release_orphans(grace=grace)
