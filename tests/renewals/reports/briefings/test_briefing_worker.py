"""Monthly usage briefings in the worker: two workers on one briefing, the monthly schedule with
its time limit, sending once."""

from __future__ import annotations

import datetime as dt
import io
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation
from django_q.models import Schedule, Success
from django_q.scheduler import scheduler
from django_q.signals import pre_enqueue
from pypdf import PdfReader

from core.schedules import PREFIX
from org.models import User
from renewals.notify.models import ChatChannel, Notification
from renewals.reports.models import Briefing
from renewals.reports.services import briefings as service
from tests.conftest import Cast
from tests.renewals.notify.test_webhooks import Receiver, receiver  # noqa: F401 - a fixture
from tests.renewals.reports.briefings.conftest import (
    MONTH,
    NOON,
    TODAY,
    build,
)

# --- Concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_briefing_make_one_row_one_file_and_one_e_mail(cast: Cast) -> None:
    build(cast)
    cast.head_a.email = "head-a@example.cn"
    cast.head_a.save()
    mail.outbox.clear()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            service.briefing_send(department_id=cast.dept_a.pk, month=MONTH, today=TODAY)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(NOON):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    [briefing] = Briefing.objects.all()
    assert briefing.status == "ready" and briefing.sent_at is not None
    files = list((Path(settings.MEDIA_ROOT) / "private" / "briefings").iterdir())
    assert [f.name for f in files] == [Path(briefing.stored_name).name]
    assert [m.to for m in mail.outbox] == [["head-a@example.cn"]]
    assert Notification.objects.filter(user=cast.head_a, title__contains="研发中心 A").count() == 1


# --- The monthly schedule ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_monthly_schedule_runs_each_department_in_the_worker_with_a_time_limit_and_sends_once(
    cast: Cast,
    data: SimpleNamespace,
    receiver: str,  # noqa: F811 - the fixture
) -> None:
    english_head = User.objects.create(username="head_a_en", language="en", email="en@example.cn")
    cast.dept_a.heads.add(english_head)
    cast.head_a.email = "head-a@example.cn"
    cast.head_a.save()
    ChatChannel.objects.create(department=cast.dept_a, name="研发群", kind="generic", url=receiver)
    mail.outbox.clear()
    queued: list[dict[str, Any]] = []

    def record(sender: str, task: dict[str, Any], **kwargs: Any) -> None:
        queued.append(dict(task))

    call_command("sync_schedules")
    job = Schedule.objects.get(name=PREFIX + "monthly-briefings")
    assert job.schedule_type == Schedule.CRON and job.cron == "0 7 1 * *"
    pre_enqueue.connect(record, dispatch_uid="briefing-test")
    try:
        # 07:00 on 1 November in Asia/Shanghai: the October briefings.
        with time_machine.travel(dt.datetime(2026, 10, 31, 23, 0, 30, tzinfo=dt.UTC)):
            Schedule.objects.filter(pk=job.pk).update(
                next_run=timezone.now() - dt.timedelta(seconds=1)
            )
            scheduler()
            assert timezone.localtime(Schedule.objects.get(pk=job.pk).next_run).day == 1
    finally:
        pre_enqueue.disconnect(dispatch_uid="briefing-test")
    per_department = [t for t in queued if t["func"] == "renewals.tasks.department_briefing"]
    assert sorted(t["args"][0] for t in per_department) == sorted([cast.dept_a.pk, cast.dept_b.pk])
    assert all(t["timeout"] == service.TIME_LIMIT for t in per_department)
    assert all(t["args"][1] == "2026-10-01" for t in per_department)
    assert Success.objects.filter(func="renewals.tasks.monthly_briefings").exists()

    rows = {b.language: b for b in Briefing.objects.filter(department=cast.dept_a)}
    assert set(rows) == {"zh-hans", "en"} and all(b.sent_at for b in rows.values())
    by_address = {m.to[0]: m for m in mail.outbox}
    chinese, english = by_address["head-a@example.cn"], by_address["en@example.cn"]
    assert "软件使用简报" in chinese.subject and "usage briefing" in english.subject.lower()
    for message, language in ((chinese, "zh-hans"), (english, "en")):
        [(name, content, mimetype)] = message.attachments
        assert mimetype == "application/pdf" and name.endswith("2026-10.pdf")
        assert content == default_storage.open(rows[language].stored_name).read()
    assert "研发中心 A" in PdfReader(io.BytesIO(chinese.attachments[0][1])).pages[0].extract_text()
    assert Notification.objects.filter(user=english_head, url__contains="/briefings/").count() == 1
    assert len(Receiver.received) == 1 and "/briefings/" in str(Receiver.received[0][1])

    # A second run (a retry, or the scheduler started twice) sends nothing again.
    mail.outbox.clear()
    service.briefing_send(department_id=cast.dept_a.pk, month=MONTH, today=TODAY)
    assert mail.outbox == [] and len(Receiver.received) == 1
    assert Briefing.objects.filter(department=cast.dept_a).count() == 2


@pytest.mark.django_db
def test_a_department_without_heads_is_not_queued(cast: Cast) -> None:
    cast.dept_b.heads.clear()
    with translation.override("en"):
        from renewals.tasks import monthly_briefings

        result = monthly_briefings(today="2026-11-01")
    assert result.startswith("1 departments")
    assert not Briefing.objects.filter(department=cast.dept_b).exists()
