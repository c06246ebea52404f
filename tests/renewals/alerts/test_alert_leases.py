"""Alert deliveries when workers die and when sends fail (issue #16, points 7 and 8).

Real processes, real signals: a delivery worker in a process of its own (the `deliver_alerts`
task function) posts to a local webhook that hangs on request; the test SIGKILLs (or SIGSTOPs) it
mid-send, and checks that the claimed deliveries are taken over at once (or when the lease ends),
that the one in flight is sent again at most once with the same idempotency key, and, with a real
django-q2 cluster, that a task stopped at Q_TIMEOUT is recovered the same way and that retries
leave when their back-off ends, not at the next tick.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.tasks import async_task

from renewals import tasks
from renewals.alerts import claims as alert_claims
from renewals.alerts import services as alerts
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import Subscription
from renewals.notify.models import ChatChannel
from tests import helpers
from tests.conftest import Cast
from tests.factories import SubscriptionFactory

ROOT = Path(__file__).resolve().parent.parent.parent
TERM_END = dt.date(2027, 3, 31)
KEY_PREFIX = "renewaldesk-alert-"


@dataclass
class Hook:
    """A webhook on 127.0.0.1: answers each request by the next step of ``script`` ("hang" =
    answer only when ``release`` is set; a number = that HTTP status; (429, s) = Retry-After s;
    200 once the script is used up) and records (time, Idempotency-Key, body)."""

    url: str = ""
    script: list[Any] = field(default_factory=list)
    received: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    hanging: threading.Event = field(default_factory=threading.Event)

    def keys(self) -> list[str]:
        return [key for _, key, _ in self.received]


@pytest.fixture
def hook(settings: Any) -> Iterator[Hook]:
    state = Hook()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            with lock:
                step = state.script.pop(0) if state.script else 200
                state.received.append((time.time(), self.headers.get("Idempotency-Key", ""), body))
            if step == "hang":
                state.hanging.set()
                state.release.wait(120)
                step = 200
            status, retry_after = step if isinstance(step, tuple) else (step, None)
            payload = b'{"errcode": 0}'
            self.send_response(status)
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            try:
                self.wfile.write(payload)
            except BrokenPipeError:  # the worker was killed while waiting for this answer
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_ALLOWED_PORTS = [server.server_address[1]]
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


def due_alerts(cast: Cast, hook: Hook, channels: int) -> Subscription:
    """A subscription of department B 7 days before its term end, with ``channels`` generic chat
    channels (B's heads, software admins and the IT admins also get in-app and e-mail alerts)."""
    sub = SubscriptionFactory.create(ref="LEASE-1", department=cast.dept_b, term_end=TERM_END)
    for n in range(channels):
        ChatChannel.objects.create(
            department=cast.dept_b, name=f"群{n}", kind="generic", url=hook.url
        )
    alerts.alerts_sweep(today=TERM_END - dt.timedelta(days=7))
    return sub


def worker_env(**extra: str) -> dict[str, str]:
    """Another process on the test database, allowed to post to this test's webhook."""
    return {
        **os.environ,
        "DATABASE_URL": helpers.database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "WEBHOOK_ALLOWED_PORTS": ",".join(str(p) for p in django_settings.WEBHOOK_ALLOWED_PORTS),
        **extra,
    }


WORKER = "import django; django.setup(); from renewals import tasks; print(tasks.deliver_alerts())"


def start_worker(hook: Hook, **extra: str) -> subprocess.Popen[bytes]:
    """The delivery task in a process of its own; returns once it hangs in a send."""
    hook.hanging.clear()
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", WORKER], env=worker_env(**extra), cwd=ROOT
    )
    deadline = time.monotonic() + 60
    while not hook.hanging.wait(0.1):
        assert worker.poll() is None, "the worker ended before it hung in a send"
        assert time.monotonic() < deadline, "the worker never reached the webhook"
    return worker


def kill(worker: subprocess.Popen[bytes]) -> None:
    os.kill(worker.pid, signal.SIGKILL)  # a real kill: no clean-up runs in the worker
    worker.wait()


def statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in AlertDelivery.objects.exclude(status="skipped").values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


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


def _cluster(log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """A django-q2 cluster in a process of its own on the test database, as production runs it
    (config.settings, the ORM broker)."""
    env = {k: v for k, v in worker_env(**extra).items() if k not in ("REDIS_URL",)}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="true",
        SECRET_KEY=django_settings.SECRET_KEY,
    )
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(cluster: subprocess.Popen[bytes]) -> None:
    if cluster.poll() is None:
        os.kill(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(cluster.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    cluster.wait()


def _wait(condition: Any, seconds: float, cluster: subprocess.Popen[bytes], log: Path) -> float:
    deadline = time.monotonic() + seconds
    while not condition():
        assert cluster.poll() is None, log.read_text()[-4000:]
        assert time.monotonic() < deadline, log.read_text()[-4000:]
        time.sleep(0.1)
    return time.monotonic()


@pytest.mark.django_db(transaction=True)
def test_in_a_real_cluster_a_task_stopped_at_q_timeout_loses_nothing_and_sends_once_more(
    cast: Cast, hook: Hook, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(Conf, "SYNC", False)  # queue, as production does
    due_alerts(cast, hook, channels=3)
    due = AlertDelivery.objects.exclude(status="skipped").count()
    hook.script = ["hang"]
    async_task("renewals.tasks.deliver_alerts")
    log = tmp_path / "qcluster.log"
    cluster = _cluster(log, Q_TIMEOUT="6", Q_RETRY="600", Q_WORKERS="1", ALERT_CLAIM_SLICE="500")
    try:
        _wait(hook.hanging.is_set, 90, cluster, log)
        in_flight = AlertDelivery.objects.get(in_flight=True)
        key = in_flight.claim_key

        def owner_gone() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
                    " AND classid = %s::oid AND objid = %s::oid",
                    [alert_claims.LOCK_NAMESPACE, key],
                )
                return cursor.fetchone()[0] == 0

        stopped = _wait(owner_gone, 60, cluster, log)  # django-q2 stopped the task at 6 s
        # What the minute tick queues next:
        async_task("renewals.tasks.deliver_alerts")
        done = _wait(lambda: statuses() == {"sent": due}, 60, cluster, log)
    finally:
        hook.release.set()
        _stop(cluster)
    print(f"Q_TIMEOUT: all sent {done - stopped:.1f} s after the task's session ended")
    assert done - stopped < 20, done - stopped  # queue pick-up included
    in_flight.refresh_from_db()
    assert in_flight.crash_resends == 1
    assert hook.keys().count(f"{KEY_PREFIX}{in_flight.pk}") == 2 and len(hook.keys()) == 4


@pytest.mark.django_db(transaction=True)
def test_in_a_real_cluster_short_and_long_back_offs_are_kept_to_the_second(
    cast: Cast, hook: Hook, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """500, then 429 with Retry-After 45 s, then accepted: the first retry is waited for by the
    running task, the second by a one-off wake-up the cluster's scheduler fires early."""
    monkeypatch.setattr(Conf, "SYNC", False)
    due_alerts(cast, hook, channels=1)
    chat = AlertDelivery.objects.get(channel="chat", status="pending")
    hook.script = [500, (429, 45)]
    async_task("renewals.tasks.deliver_alerts")
    log = tmp_path / "qcluster.log"
    cluster = _cluster(log, ALERT_RETRY_BASE_SECONDS="6", Q_WORKERS="2")
    planned: dict[int, float] = {}
    try:

        def note_plan() -> bool:
            row = AlertDelivery.objects.get(pk=chat.pk)
            if row.status == "pending" and row.attempts and row.next_attempt_at:
                planned.setdefault(row.attempts, row.next_attempt_at.timestamp())
            return row.status == "sent"

        _wait(note_plan, 150, cluster, log)
    finally:
        _stop(cluster)
    times = [at for at, _, _ in hook.received]
    assert len(times) == 3 and set(planned) == {1, 2}
    assert times[2] - times[1] >= 45 - 0.5  # Retry-After is never cut short
    for attempt in (1, 2):
        late = times[attempt] - planned[attempt]
        print(f"retry {attempt}: sent {late:+.2f} s from its planned time")
        assert -0.5 <= late <= 3, (attempt, late)
