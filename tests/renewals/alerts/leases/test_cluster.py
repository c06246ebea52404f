"""With a real django-q2 cluster: a task stopped at Q_TIMEOUT loses nothing and sends once more,
and short and long back-offs are kept to the second."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django_q.conf import Conf
from django_q.tasks import async_task

from renewals.alerts import claims as alert_claims
from renewals.alerts.models import AlertDelivery
from tests.conftest import Cast
from tests.renewals.alerts.leases.harness import (
    KEY_PREFIX,
    ROOT,
    Hook,
    due_alerts,
    statuses,
    worker_env,
)


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
