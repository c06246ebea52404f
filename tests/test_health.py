"""/healthz, the worker status and the real django-q2 scheduler running our schedules."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule, Success
from django_q.scheduler import scheduler

from core.schedules import PREFIX, SCHEDULES

pytestmark = pytest.mark.django_db


def test_healthz_before_the_worker_ever_ran() -> None:
    body = Client().get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["worker"] == {"status": "never", "last_run": None, "age_seconds": None}


def test_the_real_scheduler_runs_the_heartbeat_schedule_and_healthz_sees_it() -> None:
    call_command("sync_schedules")
    heartbeat = Schedule.objects.get(name=PREFIX + "heartbeat")
    Schedule.objects.filter(pk=heartbeat.pk).update(
        next_run=timezone.now() - dt.timedelta(seconds=1)
    )
    scheduler()  # django-q2's own scheduler; tests run tasks synchronously (Q_CLUSTER sync)
    assert Success.objects.filter(func="org.tasks.heartbeat").count() == 1
    heartbeat.refresh_from_db()
    assert heartbeat.next_run > timezone.now()  # the next run was scheduled a minute ahead
    body = Client().get("/healthz").json()
    assert body["worker"]["status"] == "ok"
    assert body["worker"]["age_seconds"] < 60
    scheduler()  # not due again yet: nothing new runs
    assert Success.objects.filter(func="org.tasks.heartbeat").count() == 1


def test_a_silent_worker_is_reported_stale_without_failing_the_check() -> None:
    call_command("sync_schedules")
    Schedule.objects.update(next_run=timezone.now() - dt.timedelta(seconds=1))
    scheduler()
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"]["status"] == "stale"


def test_healthz_is_503_when_the_database_is_down() -> None:
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("down")
    ):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}


def test_healthz_is_not_cached() -> None:
    response = Client().get("/healthz")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_sync_schedules_is_idempotent_and_keeps_next_run() -> None:
    call_command("sync_schedules")
    first = {s.name: s.next_run for s in Schedule.objects.all()}
    call_command("sync_schedules")
    assert {s.name: s.next_run for s in Schedule.objects.all()} == first
    assert set(first) == {spec.full_name for spec in SCHEDULES}


def test_sync_schedules_repairs_changed_rows_removes_ours_and_keeps_manual_ones() -> None:
    call_command("sync_schedules")
    Schedule.objects.filter(name=PREFIX + "heartbeat").update(minutes=99, func="x.y")
    Schedule.objects.create(name=PREFIX + "retired", func="org.tasks.heartbeat")
    Schedule.objects.create(name=PREFIX + "heartbeat", func="org.tasks.heartbeat")  # duplicate
    manual = Schedule.objects.create(name="made by hand", func="org.tasks.heartbeat")
    call_command("sync_schedules")
    ours = Schedule.objects.filter(name__startswith=PREFIX).order_by("name")
    assert [(s.name, s.func, s.minutes) for s in ours] == sorted(
        (spec.full_name, spec.func, spec.minutes) for spec in SCHEDULES
    )
    assert Schedule.objects.filter(pk=manual.pk).exists()


def test_cron_schedules_are_computed_in_the_configured_time_zone(settings: object) -> None:
    # A daily 08:00 job must fire at 08:00 Shanghai time (00:00 UTC), not 08:00 UTC.
    schedule = Schedule(func="org.tasks.heartbeat", schedule_type=Schedule.CRON, cron="0 8 * * *")
    with time_machine.travel(dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)):  # 15:00 in Shanghai
        schedule.save()
    assert schedule.next_run == dt.datetime(2026, 11, 27, 0, 0, tzinfo=dt.UTC)
