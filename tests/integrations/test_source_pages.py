"""Directory sources as an IT admin keeps them: the form (credentials write-only, encrypted at
rest, never in the trail or the page), bad input refused with nothing saved, "sync now" through
the worker, a held sync confirmed, the command, and the schedule."""

from __future__ import annotations

import io
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django_q.models import Schedule

from core.schedules import PREFIX
from integrations.models import DirectorySource, SyncRun
from org.models import Person
from tests.conftest import make_user
from tests.factories import DepartmentFactory, PersonFactory
from tests.test_audit_secrets import tables_holding

pytestmark = pytest.mark.django_db
PASSWORD = "s3cret-Bind-pw-7781"  # noqa: S105 - a test value


@pytest.fixture
def it(client):
    client.force_login(make_user("it", "it_admin"))
    return client


def ldap_form(**extra: str) -> dict[str, str]:
    return {
        "kind": "ldap", "name": "AD", "enabled": "on", "sync_every_minutes": "30",
        "cfg_url": "ldaps://dc1.example.cn:636", "cfg_flavour": "ad",
        "cfg_bind_dn": "CN=svc,DC=example,DC=cn", "cfg_bind_password": PASSWORD,
        "cfg_base_dn": "OU=Staff,DC=example,DC=cn", **extra,
    }  # fmt: skip


def stored_credentials(source: DirectorySource) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM integrations_directorysource WHERE id = %s", [source.pk]
        )
        return cursor.fetchone()[0]


def test_an_ldap_source_is_added_with_its_password_encrypted_and_never_shown(it):
    response = it.post(reverse("integrations:source-add"), ldap_form())
    assert response.status_code == 302
    source = DirectorySource.objects.get(name="AD")
    assert source.secrets == {"bind_password": PASSWORD}
    raw = stored_credentials(source)
    assert raw.startswith("fernet:") and PASSWORD not in raw
    assert tables_holding(PASSWORD) == []
    page = it.get(source.get_absolute_url()).content.decode()
    edit = it.get(reverse("integrations:source-edit", args=[source.pk])).content.decode()
    assert PASSWORD not in page and PASSWORD not in edit
    assert "ldaps://dc1.example.cn:636" in page


def test_an_empty_password_keeps_the_stored_one(it):
    it.post(reverse("integrations:source-add"), ldap_form())
    source = DirectorySource.objects.get()
    form = ldap_form(cfg_bind_password="", cfg_base_dn="OU=All,DC=example,DC=cn")
    it.post(reverse("integrations:source-edit", args=[source.pk]), form)
    source.refresh_from_db()
    assert source.secrets["bind_password"] == PASSWORD
    assert source.config["base_dn"] == "OU=All,DC=example,DC=cn"


@pytest.mark.parametrize(
    "bad",
    [
        {"cfg_url": "http://dc1.example.cn"},
        {"cfg_base_dn": "OU=Staff\x00,DC=x"},
        {"name": ""},
        {"cfg_bind_dn": "x" * 1001},
        {"sync_every_minutes": "-5"},
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(it, bad):
    response = it.post(reverse("integrations:source-add"), ldap_form(**bad))
    assert response.status_code == 400
    assert not DirectorySource.objects.exists()


def test_a_second_source_of_the_same_name_is_refused(it):
    it.post(reverse("integrations:source-add"), ldap_form())
    response = it.post(reverse("integrations:source-add"), ldap_form())
    assert response.status_code == 400
    assert "Another source has this name" in response.content.decode() or "名称" in (
        response.content.decode()
    )
    assert DirectorySource.objects.count() == 1


def test_sync_now_runs_in_the_worker_and_shows_an_unreachable_server(it):
    it.post(reverse("integrations:source-add"), ldap_form(cfg_url="ldap://127.0.0.1:9"))
    source = DirectorySource.objects.get()
    response = it.post(reverse("integrations:source-sync", args=[source.pk]))
    assert response.status_code == 302
    run = source.runs.get()
    assert run.status == SyncRun.Status.FAILED and run.trigger == "manual"
    assert PASSWORD not in run.error
    assert run.error in it.get(source.get_absolute_url()).content.decode()


def test_a_held_sync_is_confirmed_on_its_page(it, django_capture_on_commit_callbacks):
    source = DirectorySource.objects.create(name="飞书", kind="feishu")
    dept = DepartmentFactory()
    people = PersonFactory.create_batch(3, department=dept)
    run = SyncRun.objects.create(
        source=source, trigger="schedule", status="held", held_leavers=[p.pk for p in people],
        counts={"held_leavers": 3, "active_before": 3, "held_reason": "too_many"},
    )  # fmt: skip
    page = it.get(source.get_absolute_url()).content.decode()
    assert people[0].name in page and "3 名在职人员中将有 3 人" in page
    url = reverse("integrations:run-decide", args=[source.pk, run.pk])
    with mock.patch("integrations.directory.sync.async_task") as queue:
        with django_capture_on_commit_callbacks(execute=True):
            it.post(url, {"decision": "confirm"})
    assert Person.objects.filter(status="left").count() == 3
    assert queue.call_args.args[0] == "renewals.tasks.leavers_act"
    again = it.post(url, {"decision": "confirm"}, follow=True)
    assert Person.objects.filter(status="left").count() == 3
    assert again.status_code == 200


def test_the_command_adds_lists_and_removes_without_a_password_on_the_command_line(monkeypatch):
    monkeypatch.setenv("DIRECTORY_BIND_PASSWORD", PASSWORD)
    out = io.StringIO()
    call_command(
        "directory_source", "add", "ldap", "--name", "AD", "--url", "ldaps://dc1:636",
        "--bind-dn", "cn=svc", "--base-dn", "dc=example,dc=cn", "--set", "start_tls=false",
        stdout=out,
    )  # fmt: skip
    source = DirectorySource.objects.get(name="AD")
    assert source.secrets["bind_password"] == PASSWORD
    assert source.config["start_tls"] is False
    call_command("directory_source", "list", stdout=out)
    assert "AD\tldap" in out.getvalue() and PASSWORD not in out.getvalue()
    with pytest.raises(CommandError):
        call_command("directory_source", "add", "ldap", "--name", "X", "--set", "bind_password=x")
    call_command("directory_source", "remove", "AD", stdout=out)
    assert not DirectorySource.objects.exists()


def test_the_directory_schedule_is_a_real_schedule_row():
    call_command("sync_schedules", stdout=io.StringIO())
    row = Schedule.objects.get(name=PREFIX + "directory-sync")
    assert row.func == "integrations.tasks.sync_due" and row.minutes == 1


def test_sync_due_queues_only_sources_whose_interval_passed(django_capture_on_commit_callbacks):
    from integrations import tasks

    due = DirectorySource.objects.create(name="A", kind="ldap", sync_every_minutes=5)
    recent = DirectorySource.objects.create(name="B", kind="ldap", sync_every_minutes=60)
    DirectorySource.objects.create(name="C", kind="ldap", sync_every_minutes=0)
    SyncRun.objects.create(source=recent, trigger="schedule")
    with mock.patch("integrations.tasks.async_task") as queue:
        tasks.sync_due()
    assert [c.args[1] for c in queue.call_args_list] == [due.pk]


def test_without_a_key_in_production_the_form_says_so_and_saves_nothing(it, settings):
    settings.SECRETS_ENCRYPTION_KEYS = []
    settings.DEBUG = False
    response = it.post(reverse("integrations:source-add"), ldap_form())
    assert response.status_code == 400
    assert "SECRETS_ENCRYPTION_KEYS" in response.content.decode()
    assert not DirectorySource.objects.exists()


def test_a_rotated_key_still_reads_and_a_lost_key_asks_again(it, settings):
    from cryptography.fernet import Fernet

    it.post(reverse("integrations:source-add"), ldap_form())
    old = settings.SECRETS_ENCRYPTION_KEYS[0]
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    assert DirectorySource.objects.get().secrets["bind_password"] == PASSWORD
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    source = DirectorySource.objects.get()
    assert source.secrets == {} and source.secrets_unreadable
    assert "enter them again" in it.get(source.get_absolute_url()).content.decode() or (
        "重新" in it.get(source.get_absolute_url()).content.decode()
    )
