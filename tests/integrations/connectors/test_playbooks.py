"""Reclamation playbooks (#20) on a real SCIM server (scim2-server): the idle playbook tells
each holder once, a holder keeps their seat, an account used again is spared, the others are
revoked after the grace period (at most CONNECTOR_MAX_REVOKE_PERCENT of the accounts by one
run, the rest held for IT); the leaver playbook revokes at once; two workers at once send each
notice once."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.connectors import playbooks, sync
from integrations.models import Account, Connector, IdleNotice, Playbook, Revocation
from renewals.cleanup import services as cleanup
from renewals.notify.models import Notification
from tests.conftest import make_user
from tests.factories import PersonFactory, SubscriptionFactory
from tests.fakes.scim import FaultyScim, scim_user
from tests.integrations.connectors.scim_server import ScimServer, user

pytestmark = pytest.mark.django_db


def company(scim_server: ScimServer, n: int = 20) -> tuple[Connector, list[Any]]:
    """n people with a sign-in each, their accounts in the tool, synced; last activity: the
    server's meta.lastModified (when the account was last changed there)."""
    people = []
    for i in range(n):
        holder = make_user(f"holder{i}", language="en", email=f"p{i}@example.cn")
        people.append(PersonFactory.create(name=f"员工{i}", email=f"p{i}@example.cn", user=holder))
    scim_server.add(*(user(f"p{i}", email=f"p{i}@example.cn") for i in range(n)))
    connector = Connector(name="Jira SCIM", kind="scim", base_url=scim_server.url,
                          subscription=SubscriptionFactory.create(seats_purchased=50),
                          config={"last_active_attribute": "meta.lastModified"})  # fmt: skip
    connector.set_secrets({"token": "connector-test-token"})
    connector.save()
    run = sync.sync_connector(connector)
    assert run is not None, "the connector is there"
    assert run.counts["seats_created"] == n, run.error
    return connector, people


def playbook(connector: Connector, **on: Any) -> Playbook:
    return Playbook.objects.create(subscription=connector.subscription, **on)


def test_the_idle_playbook_tells_keeps_spares_and_revokes_once_each(
    scim_server: ScimServer, django_capture_on_commit_callbacks: Any
) -> None:
    connector, people = company(scim_server)
    playbook(connector, idle_enabled=True, idle_days=90, grace_days=14)
    day0 = timezone.localdate() + dt.timedelta(days=91)  # nobody used it for 91 days
    call_command("connector", "playbooks", "--today", day0.isoformat())
    assert IdleNotice.objects.filter(answer="waiting").count() == 20
    assert Notification.objects.filter(user=people[0].user).count() == 1
    assert any(m.to == ["p0@example.cn"] and "Keep my seat" in m.body for m in mail.outbox)
    call_command("connector", "playbooks", "--today", day0.isoformat())  # again: nothing new
    assert IdleNotice.objects.count() == 20 and not Revocation.objects.exists()
    # p0 keeps the seat on the page the notice links to; p1 used the tool again meanwhile.
    keeper = Client(HTTP_ACCEPT_LANGUAGE="en")
    keeper.force_login(people[0].user)
    notice = IdleNotice.objects.get(person=people[0])
    assert keeper.post(reverse("integrations:idle-keep", args=[notice.pk])).status_code == 302
    used = timezone.make_aware(dt.datetime.combine(day0 + dt.timedelta(days=2), dt.time(9)))
    Account.objects.filter(person=people[1]).update(last_active_at=used)
    day1 = day0 + dt.timedelta(days=14)
    it = make_user("it", "it_admin", language="en")
    campaign = cleanup.campaign_open(user=it, name="2027 数字办公日", due_on=day1)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("connector", "playbooks", "--today", day1.isoformat())
    answers = dict(IdleNotice.objects.values_list("person_id", "answer"))
    assert answers[people[0].pk] == "kept" and answers[people[1].pk] == "over"
    assert sorted(answers.values()).count("revoked") == 18
    # 10% of 20 active accounts may go in one run; the other 16 wait for IT.
    statuses = sorted(Revocation.objects.values_list("status", flat=True))
    assert statuses == ["done"] * 2 + ["held"] * 16
    assert set(Revocation.objects.values_list("source", flat=True)) == {"idle"}
    assert all(r.requested_by is None for r in Revocation.objects.all())
    done = Revocation.objects.filter(status="done").select_related("account")
    for revocation in done:
        assert scim_server.get(revocation.account.external_id).json()["active"] is False
    assert scim_server.get(Account.objects.get(person=people[0]).external_id).json()["active"]
    # The campaign's report lists each automatic revoke and what triggered it.
    reader = Client(HTTP_ACCEPT_LANGUAGE="en")
    reader.force_login(it)
    report = reader.get(reverse("renewals:cleanup-report", args=[campaign.pk])).content.decode()
    assert report.count("Idle-seat playbook") == 18 and "Done in the tool" in report
    with django_capture_on_commit_callbacks(execute=True):  # the next day: nothing twice
        call_command("connector", "playbooks", "--today", (day1 + dt.timedelta(days=1)).isoformat())
    assert Revocation.objects.count() == 18 and IdleNotice.objects.count() == 20


def test_the_keep_page_is_the_holders_only(scim_server: ScimServer) -> None:
    connector, people = company(scim_server, n=2)
    playbook(connector, idle_enabled=True, idle_days=30, grace_days=7)
    playbooks.idle_run(timezone.localdate() + dt.timedelta(days=31))
    notice = IdleNotice.objects.get(person=people[0])
    url = reverse("integrations:idle-keep", args=[notice.pk])
    assert Client().get(url).status_code == 302  # sign in first
    other = Client()
    other.force_login(people[1].user)
    assert other.get(url).status_code == 404 and other.post(url).status_code == 404
    it = Client()
    it.force_login(make_user("it", "it_admin"))
    assert it.post(url).status_code == 404  # not even IT keeps someone's seat for them
    notice.refresh_from_db()
    assert notice.answer == "waiting"
    holder = Client()
    holder.force_login(people[0].user)
    assert holder.get(url).status_code == 200
    holder.post(url)
    notice.refresh_from_db()
    assert notice.answer == "kept"


def test_the_leaver_playbook_revokes_at_once_and_only_once(
    scim_server: ScimServer, django_capture_on_commit_callbacks: Any
) -> None:
    connector, people = company(scim_server, n=10)
    assert playbooks.leavers_run() == {}  # off by default
    playbook(connector, leaver_enabled=True)
    people[3].status, people[3].left_on = "left", timezone.localdate()
    people[3].save()
    with django_capture_on_commit_callbacks(execute=True):
        assert playbooks.leavers_run() == {"revoking": 1}
    revocation = Revocation.objects.get()
    assert (revocation.source, revocation.status) == ("leaver", "done")
    assert scim_server.get(revocation.account.external_id).json()["active"] is False
    assert playbooks.leavers_run() == {}


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_idle_notice_once() -> None:
    with FaultyScim([scim_user(i) for i in range(30)]) as fake:
        people = [PersonFactory.create(email=f"user{i}@example.cn") for i in range(30)]
        connector = Connector(name="SCIM", kind="scim", base_url=fake.url,
                              subscription=SubscriptionFactory.create(seats_purchased=30))  # fmt: skip
        connector.set_secrets({"token": "connector-test-token"})
        connector.save()
        sync.sync_connector(connector)
    assert Account.objects.filter(person__in=people).count() == 30
    Account.objects.update(last_active_at=timezone.now() - dt.timedelta(days=200))
    playbook(connector, idle_enabled=True, idle_days=90, grace_days=14)
    results: list[dict[str, int]] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait()
            results.append(playbooks.idle_run())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert IdleNotice.objects.count() == 30
    assert sum(r.get("notices", 0) for r in results) == 30, results
