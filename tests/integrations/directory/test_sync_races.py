"""Two workers syncing one source at once, and an event racing a sync, on real PostgreSQL
connections in parallel threads: the source's advisory lock makes them take turns, so nothing is
made twice and the second finds nothing to change."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from integrations.directory import sync
from integrations.directory.entries import ExternalDepartment as D
from integrations.directory.entries import ExternalPerson as P
from integrations.directory.entries import Snapshot
from integrations.models import DirectoryEvent, DirectoryLink, DirectorySource, SyncRun
from org.models import Department, Person
from tests.helpers import in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot(n: int) -> Snapshot:
    depts = [D("root", "集团"), D("rd", "研发部", "root")]
    people = [P(f"u{i}", f"员工{i}", "rd", employee_no=f"E{i:04}") for i in range(n)]
    return Snapshot(
        people=people, departments=depts,
        present_people={p.external_id for p in people},
        present_departments={d.external_id for d in depts},
    )  # fmt: skip


def test_two_workers_syncing_one_source_make_everything_once():
    source = DirectorySource.objects.create(name="AD", kind="ldap")
    read = snapshot(300)
    with mock.patch.object(sync, "reader_for", return_value=lambda s, full: read):
        runs = in_threads(2, lambda i: sync.sync_source(source, full=True))
    assert all(isinstance(r, SyncRun) for r in runs), runs
    assert sorted(r.status for r in runs) == ["succeeded", "succeeded"]
    assert Person.objects.count() == 300 and Department.objects.count() == 2
    assert DirectoryLink.objects.filter(kind="person").count() == 300
    created = sorted(r.counts.get("people_created", 0) for r in runs)
    assert created == [0, 300]  # the second one found everything there


def test_the_same_event_delivered_twice_at_once_is_applied_once():
    source = DirectorySource.objects.create(name="飞书", kind="feishu")
    with mock.patch.object(sync, "reader_for", return_value=lambda s, full: snapshot(2)):
        sync.sync_source(source, full=True)
    at = timezone.now() + dt.timedelta(seconds=5)
    entry = P("u9", "新人", "rd", employee_no="E0009")
    outcomes = in_threads(
        4, lambda i: sync.apply_person(source, entry, occurred_at=at, event_id="ev-9")
    )
    assert sorted(o.status for o in outcomes) == ["applied", "replayed", "replayed", "replayed"]
    assert Person.objects.filter(employee_no="E0009").count() == 1
    assert DirectoryEvent.objects.filter(event_id="ev-9").count() == 1


def test_a_leaver_event_racing_a_sync_that_still_lists_them_stays_left():
    """The sync read the directory before the person was deleted; the deletion event arrives
    while the sync applies. Whichever runs first, the leaver is not brought back."""
    source = DirectorySource.objects.create(name="AD", kind="ldap")
    read = snapshot(50)
    with mock.patch.object(sync, "reader_for", return_value=lambda s, full: read):
        sync.sync_source(source, full=True)
        started = timezone.now()
        deleted_at = started + dt.timedelta(seconds=1)

        def work(i: int) -> object:
            if i == 0:
                run = SyncRun.objects.create(source=source, trigger="schedule")
                return sync.apply_snapshot(source, read, run=run, occurred_at=started)
            with mock.patch("integrations.directory.sync.async_task"):
                return sync.remove_person(source, "u7", occurred_at=deleted_at, event_id="del-7")

        results = in_threads(2, work)
    assert not any(isinstance(r, Exception) for r in results), results
    assert Person.objects.get(employee_no="E0007").status == "left"
