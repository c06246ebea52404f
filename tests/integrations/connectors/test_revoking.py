"""Revoking accounts in the tool: the preview, the confirmation, the worker deactivating them on
a real SCIM server (scim2-server), retries with back-off when the tool refuses, never "done"
without the tool's yes, and one revocation per account whatever the clicks."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from unittest import mock

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.connectors import revoking, sync
from integrations.models import Account, Connector, Revocation
from renewals.usage.models import Seat
from tests.conftest import make_user
from tests.factories import PersonFactory, SubscriptionFactory
from tests.fakes.scim import FaultyScim, scim_user
from tests.integrations.connectors.scim_server import ScimServer, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def it(client: Client) -> Client:
    client.force_login(make_user("it", "it_admin"))
    return client


def connector_for(url: str, name: str = "Jira SCIM") -> Connector:
    made = Connector(name=name, kind="scim", base_url=url,
                     subscription=SubscriptionFactory.create())  # fmt: skip
    made.set_secrets({"token": "connector-test-token"})
    made.save()
    return made


def test_an_account_is_previewed_confirmed_and_deactivated_in_the_tool(
    it: Client, scim_server: ScimServer, django_capture_on_commit_callbacks: Any
) -> None:
    person = PersonFactory.create(email="left.early@example.cn")
    ids = scim_server.add(user("guest", email="guest@gmail.com"),
                          user("left", email="left.early@example.cn"))  # fmt: skip
    connector = connector_for(scim_server.url)
    sync.sync_connector(connector)
    guest, held = Account.objects.get(user_name="guest"), Account.objects.get(user_name="left")
    assert Seat.objects.get(person=person).revoked_on is None
    url = reverse("integrations:connector-revoke", args=[connector.pk])
    preview = it.get(url, {"account": [guest.pk, held.pk, 999999]})
    assert preview.status_code == 200
    assert [a.pk for a in preview.context["accounts"]] == [guest.pk, held.pk]  # exactly these
    assert not Revocation.objects.exists()  # a preview changes nothing
    no_reason = it.post(url, {"account": [guest.pk, held.pk], "reason": "  "})
    assert no_reason.status_code == 400 and not Revocation.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = it.post(url, {"account": [guest.pk, held.pk], "reason": "离职 / guest"})
    assert done.status_code == 302
    assert set(Revocation.objects.values_list("status", flat=True)) == {"done"}
    for external_id in ids:
        assert scim_server.get(external_id).json()["active"] is False
    held.refresh_from_db()
    assert not held.active
    seat = Seat.objects.get(person=person)
    assert seat.revoked_on is not None and "Jira SCIM" in seat.revoke_reason
    page = it.get(connector.get_absolute_url()).content.decode()
    assert "离职 / guest" in page
    again = it.post(url, {"account": [guest.pk], "reason": "again"})  # nothing left to revoke
    assert again.status_code == 302 and Revocation.objects.count() == 2


def test_a_refusing_tool_is_retried_with_back_off_and_never_marked_done() -> None:
    with FaultyScim([scim_user(1)]) as fake:
        fake.patch_status = 500
        connector = connector_for(fake.url)
        sync.sync_connector(connector)
        account = Account.objects.get()
        made = revoking.revocations_request(
            connector=connector, account_ids=[account.pk], user=None, reason="idle"
        )
        assert len(made) == 1
        now = timezone.now()
        assert revoking.revocations_run(connector.pk, now=now) == {"retried": 1}
        revocation = Revocation.objects.get()
        assert revocation.status == "pending" and revocation.attempts == 1
        assert "HTTP 500" in revocation.last_error
        assert revocation.next_attempt_at == now + dt.timedelta(minutes=1)
        assert revoking.revocations_run(connector.pk, now=now) == {}  # not due yet
        waits = []
        for _attempt in range(revoking.MAX_ATTEMPTS - 1):
            revocation.refresh_from_db()
            waits.append(revocation.next_attempt_at - now)
            now = revocation.next_attempt_at
            revoking.revocations_run(connector.pk, now=now)
    revocation.refresh_from_db()
    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert revocation.status == "failed" and revocation.attempts == revoking.MAX_ATTEMPTS
    account.refresh_from_db()
    assert account.active  # never marked done without the tool's yes


def test_one_revocation_per_account_whatever_the_requests(scim_server: ScimServer) -> None:
    scim_server.add(user("guest", email="guest@gmail.com"))
    connector = connector_for(scim_server.url)
    sync.sync_connector(connector)
    account = Account.objects.get()
    for _click in range(3):
        revoking.revocations_request(
            connector=connector, account_ids=[account.pk], user=None, reason="twice"
        )
    assert Revocation.objects.count() == 1
    other = connector_for(scim_server.url, name="Other")
    made = revoking.revocations_request(  # an account of another connector: not this one's
        connector=other, account_ids=[account.pk], user=None, reason="wrong connector"
    )
    assert made == [] and Revocation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_revocation_once() -> None:
    with FaultyScim([scim_user(i) for i in range(20)]) as fake:
        connector = connector_for(fake.url)
        sync.sync_connector(connector)
        ids = list(Account.objects.values_list("pk", flat=True))
        with mock.patch.object(revoking, "async_task"):  # no run queued: the two workers do it
            revoking.revocations_request(
                connector=connector, account_ids=ids, user=None, reason="x"
            )
        assert not fake.patches
        fake.delay = 0.1  # each PATCH takes a while: the workers overlap
        results: list[dict[str, int]] = []

        def worker() -> None:
            try:
                results.append(revoking.revocations_run(connector.pk))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(fake.patches) == sorted(f"/scim/v2/Users/id-{i}" for i in range(20))
    errors = set(Revocation.objects.values_list("last_error", flat=True))
    assert sum(r.get("done", 0) for r in results) == 20, (results, errors)
    assert all(r.get("done") for r in results), results
    assert set(Revocation.objects.values_list("status", flat=True)) == {"done"}
