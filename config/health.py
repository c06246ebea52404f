"""What /healthz, the dashboard and the status page report about the database and the worker."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone


@dataclass(frozen=True)
class WorkerStatus:
    """When the django-q2 cluster last finished a task, and whether that is recent enough."""

    last_run: dt.datetime | None
    stale_after: int

    @property
    def age_seconds(self) -> int | None:
        if self.last_run is None:
            return None
        return max(0, int((timezone.now() - self.last_run).total_seconds()))

    @property
    def status(self) -> str:
        if self.last_run is None:
            return "never"
        return "ok" if (self.age_seconds or 0) <= self.stale_after else "stale"


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def worker_status() -> WorkerStatus:
    """Every schedule run leaves a Task row; the heartbeat schedule makes one every minute."""
    from django_q.models import Task

    last = Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()
    return WorkerStatus(last_run=last, stale_after=settings.WORKER_STALE_AFTER_SECONDS)
