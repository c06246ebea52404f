"""A delivery worker SIGKILLed (or SIGSTOPped) mid-send: its claims are taken over at once (or when
the lease ends), the delivery in flight is sent again at most once with the same idempotency
key, and a delivery in flight at two crashes becomes a dead letter."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from renewals import tasks
from renewals.alerts import services as alerts
from renewals.alerts.models import AlertDelivery
from tests.conftest import Cast
from tests.renewals.alerts.leases.harness import (
    KEY_PREFIX,
    Hook,
    due_alerts,
    kill,
    start_worker,
    statuses,
)


@pytest.mark.django_db(transaction=True)
def test_a_killed_workers_claims_are_taken_over_at_once_and_the_one_in_flight_sent_once_more(
    cast: Cast, hook: Hook
) -> None:
    due_alerts(cast, hook, channels=4)
    due = AlertDelivery.objects.filter(status="pending").count()
    chats = AlertDelivery.objects.filter(status="pending", channel="chat").count()
    assert chats == 4 and due > chats
    hook.script = ["hang"]
    # The whole batch in one claim, as before: it is what a dead worker used to strand.
    worker = start_worker(hook, ALERT_CLAIM_SLICE="500")
    kill(worker)
    killed = time.monotonic()
    in_flight = AlertDelivery.objects.get(in_flight=True)
    stranded = AlertDelivery.objects.filter(status="sending").count()
    assert in_flight.channel == "chat" and stranded == 4  # the hung one and the 3 after it

    # The next delivery run (the minute tick) takes everything over at once: no lease to wait.
    mail.outbox.clear()
    assert tasks.deliver_alerts() == "4 sent"
    recovered = time.monotonic() - killed
    assert statuses() == {"sent": due}
    assert recovered < 5, recovered
    # The in-flight one went out once more with the same key; every other one exactly once.
    keys = hook.keys()
    assert keys.count(f"{KEY_PREFIX}{in_flight.pk}") == 2
    assert sorted(set(keys)) == sorted(
        f"{KEY_PREFIX}{pk}"
        for pk in AlertDelivery.objects.filter(channel="chat")
        .exclude(status="skipped")
        .values_list("pk", flat=True)
    )
    assert len(keys) == 5
    assert {body["idempotency_key"] for _, _, body in hook.received} == set(keys)
    in_flight.refresh_from_db()
    assert (in_flight.crash_resends, in_flight.attempts) == (1, 2)
    others = AlertDelivery.objects.exclude(pk=in_flight.pk).exclude(status="skipped")
    assert set(others.values_list("attempts", "crash_resends")) == {(1, 0)}
    assert not AlertDelivery.objects.exclude(claim_key=None).exists()


@pytest.mark.django_db(transaction=True)
def test_a_delivery_in_flight_at_two_crashes_becomes_a_dead_letter_not_a_third_copy(
    cast: Cast, hook: Hook
) -> None:
    due_alerts(cast, hook, channels=2)
    hook.script = ["hang"]
    kill(start_worker(hook))
    first = AlertDelivery.objects.get(in_flight=True)
    hook.script = ["hang"]  # the re-send hangs too, and that worker dies as well
    kill(start_worker(hook))
    assert AlertDelivery.objects.get(in_flight=True).pk == first.pk
    tasks.deliver_alerts()
    first.refresh_from_db()
    assert first.status == "failed" and "not sent a third time" in first.last_error
    assert hook.keys().count(f"{KEY_PREFIX}{first.pk}") == 2
    assert statuses() == {
        "sent": AlertDelivery.objects.exclude(status="skipped").count() - 1,
        "failed": 1,
    }
    # The dead letter is listed in the admin's deliveries (status "failed") and sent again by
    # hand from there, with the same key; the action queues a delivery run at once.
    client = Client()
    client.force_login(cast.it_admin)
    changelist = reverse("admin:renewals_alertdelivery_changelist")
    assert f"{first.pk}" in client.get(changelist, {"status__exact": "failed"}).content.decode()
    client.post(changelist, {"action": "resend", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert (first.status, first.crash_resends) == ("sent", 0)
    assert hook.keys().count(f"{KEY_PREFIX}{first.pk}") == 3


@pytest.mark.django_db(transaction=True)
def test_a_frozen_worker_keeps_its_claims_until_the_lease_ends_then_loses_them(
    cast: Cast, hook: Hook
) -> None:
    """A worker whose session lives (stopped, or cut off from the database) is not robbed
    early; its lease, scaled down here to 3 s, ends and the claims move on."""
    lease = 3
    due_alerts(cast, hook, channels=3)
    hook.script = ["hang"]
    worker = start_worker(hook, ALERT_LEASE_SECONDS=str(lease), ALERT_CLAIM_SLICE="500")
    os.kill(worker.pid, signal.SIGSTOP)
    try:
        frozen = time.monotonic()
        in_flight = AlertDelivery.objects.get(in_flight=True)
        assert alerts.alerts_deliver() == 0  # its lease holds
        assert AlertDelivery.objects.filter(status="sending").count() == 3
        while AlertDelivery.objects.filter(status="sending").exists():
            alerts.alerts_deliver()
            assert time.monotonic() - frozen < lease + 5, "the lease never ended"
            time.sleep(0.2)
        taken_over = time.monotonic() - frozen
        assert lease - 1 <= taken_over <= lease + 2, taken_over
        assert statuses() == {"sent": AlertDelivery.objects.exclude(status="skipped").count()}
        # The worker wakes up: its late answer changes nothing, and it sends nothing twice.
        hook.release.set()
        os.kill(worker.pid, signal.SIGCONT)
        assert worker.wait(60) == 0
    finally:
        if worker.poll() is None:
            kill(worker)
    in_flight.refresh_from_db()
    assert (in_flight.status, in_flight.crash_resends) == ("sent", 1)
    assert hook.keys().count(f"{KEY_PREFIX}{in_flight.pk}") == 2 and len(hook.keys()) == 4
