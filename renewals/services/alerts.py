"""Renewal alerts: the sweep that records what is due, and the delivery of what is pending.

Exactly once is kept by the database, not by the code paths: every alert is a row under a unique
key (subscription, term end, kind, threshold, channel, recipient); the sweep inserts with
ON CONFLICT DO NOTHING, so running it twice, concurrently or after an outage adds nothing twice;
deliveries are claimed with FOR UPDATE SKIP LOCKED, so two workers never take the same one.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from renewals import webhooks
from renewals.models import AlertDelivery, Notification, RenewalRequest, Subscription
from renewals.selectors.subscriptions import with_figures

logger = logging.getLogger(__name__)

# Every (subscription, term end, kind, threshold) due on %(today)s, most urgent first within
# its group; recipients are the owner, the department's software admins and the IT admins, plus
# the department heads from the escalation threshold on (and at expiry) when no renewal request is
# under way. A subscription decided not to be renewed gets only its cancellation-deadline alerts.
SWEEP_SQL = """
WITH subs AS (
    SELECT s.id, s.term_end, s.cancellation_deadline, s.auto_renew, s.status,
           s.department_id, s.owner_id, s.ends_at_term_end,
           CASE WHEN cardinality(s.alert_thresholds) > 0 THEN s.alert_thresholds
                ELSE %(thresholds)s::integer[] END AS thresholds
    FROM renewals_subscription s
    WHERE s.status <> 'cancelled'
),
events AS (
    SELECT id, term_end, 'term_end' AS kind, t AS threshold, term_end - t AS due_on, department_id, owner_id
    FROM subs, unnest(thresholds) AS t
    WHERE status IN ('active', 'renewing') AND NOT ends_at_term_end
      AND term_end >= %(today)s AND term_end - %(today)s <= t
    UNION ALL
    SELECT id, term_end, 'cancellation', t, cancellation_deadline - t, department_id, owner_id
    FROM subs, unnest(thresholds) AS t
    WHERE status IN ('active', 'renewing') AND auto_renew
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


def _claim(limit: int) -> list[int]:
    """Take up to ``limit`` pending deliveries whose time has come; SKIP LOCKED lets two workers
    run side by side, each taking different rows."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            AlertDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=AlertDelivery.Status.PENDING)
            .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        # next_attempt_at doubles as "claimed at" while sending (see alerts_release_stuck).
        AlertDelivery.objects.filter(pk__in=ids).update(
            status=AlertDelivery.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=now
        )
    return ids


def alerts_deliver(*, limit: int = 500) -> int:
    """Send pending deliveries (batch after batch) and return how many were sent."""
    sent = 0
    while ids := _claim(limit):
        deliveries = AlertDelivery.objects.select_related("recipient", "chat_channel").filter(
            pk__in=ids
        )
        subscriptions = {
            s.pk: s
            for s in with_figures(
                Subscription.objects.filter(pk__in={d.subscription_id for d in deliveries})
            ).select_related("vendor", "department")
        }
        for delivery in deliveries:
            sent += _deliver_one(delivery, subscriptions[delivery.subscription_id])
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
                    # The notification and the "sent" mark commit together: exactly once.
                    Notification.objects.create(
                        user=recipient,
                        subscription=subscription,
                        title=subject,
                        body=in_app.strip(),
                        # Straight to "start renewal request", like the e-mail's link.
                        url=reverse("renewals:request-create", args=[subscription.pk]),
                    )
                    _mark_sent(delivery)
                return 1
            if not recipient.email:
                _mark(delivery, AlertDelivery.Status.FAILED, "recipient has no e-mail address")
                return 0
            html = render_to_string("renewals/email/alert-body.html", context)
            message = EmailMultiAlternatives(subject, text, to=[recipient.email])
            message.attach_alternative(html, "text/html")
            message.send()
    except Exception as exc:  # noqa: BLE001 - any sending failure is retried, then shown
        _retry_or_fail(delivery, f"{type(exc).__name__}: {exc}"[:1000])
        return 0
    _mark_sent(delivery)
    return 1


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
        },
    )
    outcome = webhooks.post(url, body)
    if outcome.ok:
        _mark_sent(delivery)
        return 1
    if outcome.retry:
        _retry_or_fail(delivery, outcome.error, retry_after=outcome.retry_after)
    else:
        _mark(delivery, AlertDelivery.Status.FAILED, outcome.error)
    return 0


def _mark_sent(delivery: AlertDelivery) -> None:
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        status=AlertDelivery.Status.SENT, sent_at=timezone.now(), last_error=""
    )


def _mark(delivery: AlertDelivery, status: str, error: str) -> None:
    AlertDelivery.objects.filter(pk=delivery.pk).update(status=status, last_error=error)


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
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        status=AlertDelivery.Status.PENDING,
        next_attempt_at=timezone.now() + dt.timedelta(seconds=delay),
        last_error=error,
    )


def alerts_release_stuck(*, older_than: dt.timedelta = dt.timedelta(minutes=30)) -> int:
    """Deliveries left "sending" by a worker that died go back to pending (they are retried)."""
    return AlertDelivery.objects.filter(
        status=AlertDelivery.Status.SENDING, next_attempt_at__lt=timezone.now() - older_than
    ).update(status=AlertDelivery.Status.PENDING)
