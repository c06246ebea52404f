"""Who is sending which alert delivery: short leases, dead workers noticed at once, and a retry
woken when its back-off ends.

A worker claims deliveries in small slices (ALERT_CLAIM_SLICE). While a delivery is "sending",
its ``next_attempt_at`` is the end of the worker's lease (ALERT_LEASE_SECONDS, about the send
timeout plus a margin), renewed for the rest of the slice before each send. The worker's database
session holds a PostgreSQL advisory lock under its own key (``claim_key``) for as long as it
lives: when the process dies (SIGKILL, out of memory, django-q2 killing a task at Q_TIMEOUT) the
server ends its session and the lock goes with it, so the next delivery run takes its claims over
at once; the lease covers the one case the lock cannot see (a worker cut off from the database,
whose session the server only drops when TCP gives up).

Taking over a dead worker's claim: a delivery it had not started goes back to pending as it was;
the one it was sending (``in_flight``) may have arrived, so it is sent once more with the same
idempotency key (e-mail Message-ID, generic webhook Idempotency-Key) and, if a worker dies while
sending it a second time, it becomes a dead letter instead of a third copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django_q.models import Schedule

from renewals.alerts.models import AlertDelivery

logger = logging.getLogger(__name__)

# Advisory locks of delivery workers use the two-key form (namespace, key) so that they show in
# pg_locks as classid = namespace, objid = key, objsubid = 2. Key 0 is the waiter's (see below).
LOCK_NAMESPACE = 0x52444C56  # "RDLV"
_WAITER_KEY = 0

# The one-off django-q2 schedule that wakes a delivery run shortly before the next retry is due.
# Not under core.schedules.PREFIX, so sync_schedules leaves it alone.
WAKEUP_NAME = "renewaldesk-wakeup:alert-retry"
# django-q2's cluster looks at due schedules every 30 seconds (its guard loop); a wake-up is set
# this much early and the woken run waits out the rest, so the retry leaves on the second.
SCHEDULER_PERIOD_SECONDS = 30
WAKEUP_LEAD_SECONDS = SCHEDULER_PERIOD_SECONDS + 5


def worker_key() -> int:
    """This process's claim key, with its advisory lock held by the current database session
    (the key is kept on the session's connection object: a new session takes a new lock)."""
    connection.ensure_connection()
    raw = connection.connection
    held = getattr(raw, "_renewaldesk_claim", None)
    if held is not None and held[0] == os.getpid():
        return int(held[1])
    with connection.cursor() as cursor:
        for _ in range(20):
            key = random.randint(1, 2**31 - 1)  # noqa: S311 - an identifier, not a secret
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, key])
            if cursor.fetchone()[0]:
                break
        else:  # pragma: no cover - 20 collisions in 2**31 keys
            raise RuntimeError("no free delivery worker key")
    raw._renewaldesk_claim = (os.getpid(), key)
    return key


def worker_label() -> str:
    """Host and process id of this worker, for people reading the deliveries list."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def lease_end() -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=settings.ALERT_LEASE_SECONDS)


def claim(limit: int) -> list[int]:
    """Take up to ``limit`` pending deliveries whose time has come, under this worker's lease;
    SKIP LOCKED lets workers run side by side, each taking different rows."""
    key, label = worker_key(), worker_label()
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            AlertDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=AlertDelivery.Status.PENDING)
            .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        AlertDelivery.objects.filter(pk__in=ids).update(
            status=AlertDelivery.Status.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=lease_end(),
            claimed_by=label,
            claim_key=key,
            in_flight=False,
        )
    return ids


def start_sending(delivery_id: int, rest: list[int], *, in_flight: bool) -> bool:
    """Renew the lease on the rest of this worker's slice and mark ``delivery_id`` in flight.
    False if the delivery is no longer this worker's (a lease that ran out was taken over)."""
    mine = AlertDelivery.objects.filter(
        pk__in=[delivery_id, *rest], status=AlertDelivery.Status.SENDING, claim_key=worker_key()
    )
    mine.update(
        next_attempt_at=lease_end(),
        in_flight=Case(When(pk=delivery_id, then=Value(in_flight)), default=Value(False)),
    )
    return mine.filter(pk=delivery_id).exists()


def finish(delivery_id: int, **fields: object) -> bool:
    """Record the outcome of this worker's send; False (and nothing written) if the claim was
    taken over meanwhile (the other worker's outcome stands)."""
    done = AlertDelivery.objects.filter(
        pk=delivery_id, status=AlertDelivery.Status.SENDING, claim_key=worker_key()
    ).update(in_flight=False, claimed_by="", claim_key=None, **fields)
    if not done:
        logger.warning(
            "alert delivery %s: the claim was taken over before the send ended", delivery_id
        )
    return bool(done)


def unclaim(ids: list[int]) -> None:
    """Give back claimed deliveries this worker did not start (it is stopping early)."""
    AlertDelivery.objects.filter(
        pk__in=ids, status=AlertDelivery.Status.SENDING, claim_key=worker_key(), in_flight=False
    ).update(
        status=AlertDelivery.Status.PENDING,
        attempts=Greatest(F("attempts") - 1, 0),
        next_attempt_at=timezone.now(),
        claimed_by="",
        claim_key=None,
    )


# Claims of workers whose lock is gone (the process or its session died) or whose lease ended.
_ORPHANS = """
SELECT d.id FROM renewals_alertdelivery d
WHERE d.status = 'sending'
  AND (d.next_attempt_at IS NULL OR d.next_attempt_at < %(expired_before)s
       OR d.claim_key IS NULL
       OR NOT EXISTS (SELECT 1 FROM pg_locks l
                      WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted
                        AND l.classid = %(namespace)s::oid AND l.objid = d.claim_key::oid))
FOR UPDATE OF d SKIP LOCKED
"""


def release_orphans(*, grace: dt.timedelta = dt.timedelta(0)) -> int:
    """Take over the claims of dead workers (and of leases that ended more than ``grace`` ago):
    unstarted deliveries go back to pending, an in-flight one is sent once more, a second time
    in flight makes it a dead letter. Returns how many were released."""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_ORPHANS, {"expired_before": now - grace, "namespace": LOCK_NAMESPACE})
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0
        rows = AlertDelivery.objects.filter(pk__in=ids)
        common = {"claimed_by": "", "claim_key": None, "in_flight": False}
        rows.filter(in_flight=False).update(
            status=AlertDelivery.Status.PENDING,
            attempts=Greatest(F("attempts") - 1, 0),  # the claim counted a try never made
            next_attempt_at=now,
            **common,
        )
        twice = rows.filter(in_flight=True, crash_resends__gte=1)
        dead = list(twice.values_list("pk", flat=True))
        twice.update(
            status=AlertDelivery.Status.FAILED,
            last_error="A worker stopped twice while sending this; it may have arrived, so it "
            "was not sent a third time. Check with the recipient, then send it again by hand.",
            **common,
        )
        rows.filter(in_flight=True).exclude(pk__in=dead).update(
            status=AlertDelivery.Status.PENDING,
            crash_resends=F("crash_resends") + 1,
            next_attempt_at=now,
            last_error="A worker stopped while sending this; sent again with the same "
            "idempotency key.",
            **common,
        )
    logger.warning("alert deliveries taken over from stopped workers: %s", len(ids))
    return len(ids)


def next_due() -> dt.datetime | None:
    """When the earliest pending delivery is due (None if nothing is pending)."""
    earliest = list(
        AlertDelivery.objects.filter(status=AlertDelivery.Status.PENDING)
        .order_by(F("next_attempt_at").asc(nulls_first=True))
        .values_list("next_attempt_at", flat=True)[:1]
    )
    if not earliest:
        return None
    return earliest[0] or timezone.now()  # no time set: due now


def try_wait_lock() -> bool:
    """Only one delivery run at a time sleeps until a retry is due (the others return)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, _WAITER_KEY])
        return bool(cursor.fetchone()[0])


def wait_unlock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, _WAITER_KEY])


def arm_wakeup(due: dt.datetime | None) -> dt.datetime | None:
    """Make the one-off wake-up schedule fire WAKEUP_LEAD_SECONDS before ``due`` (the next
    pending delivery's time; at once if that is sooner). Returns its time (None: nothing due)."""
    if due is None:
        return None
    at = max(due - dt.timedelta(seconds=WAKEUP_LEAD_SECONDS), timezone.now())
    with transaction.atomic():
        armed = Schedule.objects.select_for_update().filter(name=WAKEUP_NAME).order_by("pk").first()
        if armed is None:
            Schedule.objects.create(
                name=WAKEUP_NAME,
                func="renewals.tasks.deliver_alerts",
                schedule_type=Schedule.ONCE,
                repeats=-1,  # a ONCE schedule with negative repeats is deleted when it fires
                next_run=at,
            )
        elif armed.next_run is None or armed.next_run > at:
            armed.next_run = at
            armed.save(update_fields=["next_run"])
    return at
