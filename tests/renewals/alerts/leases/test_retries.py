"""Claims come in small slices, every attempt of an e-mail has one Message-ID, and retries leave
when their back-off ends (a long one arms a one-off wake-up), not at the next tick."""

from __future__ import annotations

import datetime as dt
import threading
import time
import urllib.parse
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from renewals import tasks
from renewals.alerts import claims as alert_claims
from renewals.alerts import services as alerts
from renewals.alerts.models import AlertDelivery
from tests.conftest import Cast
from tests.factories import SubscriptionFactory
from tests.renewals.alerts.leases.harness import (
    KEY_PREFIX,
    TERM_END,
    Hook,
    due_alerts,
)


@pytest.mark.django_db
def test_claims_come_in_small_slices_and_every_attempt_of_an_e_mail_has_one_message_id(
    cast: Cast, settings: Any
) -> None:
    cast.it_admin.email = "it@example.cn"
    cast.it_admin.save()
    SubscriptionFactory.create(department=cast.dept_b, term_end=TERM_END)
    alerts.alerts_sweep(today=TERM_END - dt.timedelta(days=7))
    settings.ALERT_CLAIM_SLICE = 3
    assert len(alerts._claim(settings.ALERT_CLAIM_SLICE)) == 3
    ends = set(
        AlertDelivery.objects.filter(status="sending").values_list("next_attempt_at", flat=True)
    )
    assert len(ends) == 1
    end = ends.pop()
    assert end is not None
    assert (
        timezone.now() < end <= timezone.now() + dt.timedelta(seconds=settings.ALERT_LEASE_SECONDS)
    )
    AlertDelivery.objects.filter(status="sending").update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    alerts.alerts_release_stuck()
    email = AlertDelivery.objects.get(recipient=cast.it_admin, channel="email", threshold=7)
    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("down")
    ):
        alerts.alerts_deliver()
    AlertDelivery.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    alerts.alerts_deliver()
    sent = [m for m in mail.outbox if m.to == ["it@example.cn"]]
    assert len(sent) == 1 and sent[0].extra_headers["Message-ID"] == alerts.message_id(email)
    host = urllib.parse.urlsplit(settings.SITE_URL).hostname
    assert alerts.message_id(email) == f"<{KEY_PREFIX}{email.pk}@{host}>"
    assert "Message-ID: " + alerts.message_id(email) in sent[0].message().as_string()


@pytest.mark.django_db(transaction=True)
def test_a_retry_leaves_when_its_back_off_ends_not_at_the_next_tick(
    cast: Cast, hook: Hook, settings: Any
) -> None:
    settings.ALERT_RETRY_BASE_SECONDS = 4  # the first back-off: 2 to 6 s with jitter
    due_alerts(cast, hook, channels=1)
    chat = AlertDelivery.objects.get(channel="chat", status="pending")
    hook.script = [500]
    planned: list[dt.datetime] = []

    def watch() -> None:
        try:
            while not planned and len(hook.received) < 2:
                row = AlertDelivery.objects.filter(pk=chat.pk, status="pending", attempts=1).first()
                if row is not None and row.next_attempt_at is not None:
                    planned.append(row.next_attempt_at)
                time.sleep(0.05)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    tasks.deliver_alerts()  # the task the tick (or the wake-up) runs
    watcher.join()
    assert len(hook.received) == 2
    chat.refresh_from_db()
    assert chat.status == "sent" and planned
    late = hook.received[1][0] - planned[0].timestamp()
    print(f"retry: sent {late:+.2f} s from its planned time")
    assert -0.5 <= late <= 2, late  # to the second, where the 5-minute tick made it minutes


@pytest.mark.django_db
def test_a_long_back_off_arms_a_one_off_wake_up_just_before_it_ends(cast: Cast, hook: Hook) -> None:
    due_alerts(cast, hook, channels=1)
    hook.script = [(429, 300)]
    tasks.deliver_alerts()
    chat = AlertDelivery.objects.get(channel="chat", threshold=7)
    assert chat.status == "pending" and chat.next_attempt_at is not None
    wakeup = Schedule.objects.get(name=alert_claims.WAKEUP_NAME)
    assert wakeup.schedule_type == Schedule.ONCE and wakeup.func == "renewals.tasks.deliver_alerts"
    lead = (chat.next_attempt_at - wakeup.next_run).total_seconds()
    assert lead == pytest.approx(alert_claims.WAKEUP_LEAD_SECONDS, abs=0.01)
    # sync_schedules keeps it (it is not one of the listed recurring schedules).
    from django.core.management import call_command

    call_command("sync_schedules")
    assert Schedule.objects.filter(name=alert_claims.WAKEUP_NAME).count() == 1
    assert Schedule.objects.get(name="renewaldesk:alert-delivery").minutes == 1
