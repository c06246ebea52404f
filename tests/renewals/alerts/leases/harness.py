"""What the lease tests share: a webhook on 127.0.0.1 that hangs or fails on request, due alerts,
the delivery task in a process of its own, and how it is killed."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings

from renewals.alerts import services as alerts
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import Subscription
from renewals.notify.models import ChatChannel
from tests import helpers
from tests.conftest import Cast
from tests.factories import SubscriptionFactory

ROOT = Path(__file__).resolve().parents[4]  # the repository (manage.py)
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
