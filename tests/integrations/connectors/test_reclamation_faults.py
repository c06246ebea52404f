"""Reclamation under faults and hostile input (#20, the review's cases): a worker killed in the
middle of a call, a redirect taken for a yes, a failed undo tried again, an idle account used
while its revocation waited, a leaver's revocation IT cancelled, a playbook setting out of range,
ids that are not ids, a seat revoked on the subscription page."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.connectors import playbooks, revoking, sync
from integrations.connectors.entries import ConnectorError
from integrations.connectors.forms import PlaybookForm
from integrations.connectors.http import VendorHttp
from integrations.models import Account, Connector, Playbook, Revocation
from renewals.usage import services as seat_services
from renewals.usage.models import Seat
from tests.conftest import make_user
from tests.factories import PersonFactory, SubscriptionFactory
from tests.integrations.connectors.scim_server import ScimServer, user

pytestmark = pytest.mark.django_db


def scim_connector(url: str) -> Connector:
    made = Connector(name="Jira SCIM", kind="scim", base_url=url,
                     subscription=SubscriptionFactory.create(seats_purchased=10))  # fmt: skip
    made.set_secrets({"token": "connector-test-token"})
    made.save()
    return made


def synced(scim_server: ScimServer, n: int = 2) -> tuple[Connector, list[Account], list[str]]:
    people = [PersonFactory.create(email=f"p{i}@example.cn") for i in range(n)]
    ids = scim_server.add(*(user(f"p{i}", email=p.email) for i, p in enumerate(people)))
    connector = scim_connector(scim_server.url)
    sync.sync_connector(connector)
    return connector, list(Account.objects.order_by("user_name")), ids


def test_a_worker_killed_during_the_call_leaves_it_to_the_next_run_after_the_lease(
    scim_server: ScimServer,
) -> None:
    connector, [account, _other], _ids = synced(scim_server)
    with mock.patch.object(revoking, "async_task"):
        revoking.revocations_request(connector=connector, account_ids=[account.pk], user=None,
                                     reason="idle")  # fmt: skip
    now = timezone.now()
    with mock.patch.object(revoking, "_act", side_effect=SystemExit), pytest.raises(SystemExit):
        revoking.revocations_run(connector.pk, now=now)  # the worker dies mid-call
    claimed = Revocation.objects.get()
    assert (claimed.status, claimed.attempts) == ("pending", 1)  # counted, and leased
    assert claimed.next_attempt_at == now + revoking.LEASE
    assert revoking.revocations_run(connector.pk, now=now + dt.timedelta(minutes=1)) == {}
    assert revoking.revocations_run(connector.pk, now=now + revoking.LEASE) == {"done": 1}


class _Redirecting(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_DELETE(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(307)
        self.send_header("Location", "https://elsewhere.example.com/")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def redirecting() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_redirect_is_never_taken_for_the_tools_yes(redirecting: str) -> None:
    connector = Connector(name="x", kind="github", base_url=redirecting, config={})
    with VendorHttp(connector, redirecting) as api, pytest.raises(ConnectorError, match="307"):
        api.request("DELETE", "/orgs/acme/memberships/octocat")


def test_a_failed_undo_can_be_tried_again(
    scim_server: ScimServer, django_capture_on_commit_callbacks: Any
) -> None:
    connector, [account, _other], [external, _x] = synced(scim_server)
    it = make_user("it", "it_admin")
    with django_capture_on_commit_callbacks(execute=True):
        revoking.revocations_request(connector=connector, account_ids=[account.pk], user=it,
                                     reason="idle")  # fmt: skip
    done = Revocation.objects.get()
    with mock.patch.object(revoking, "async_task"):
        first = revoking.reactivation_request(revocation=done, user=it)
    Revocation.objects.filter(pk=first.pk).update(status="failed", last_error="down")
    with django_capture_on_commit_callbacks(execute=True):
        second = revoking.reactivation_request(revocation=done, user=it)
    second.refresh_from_db()
    assert second.status == "done" and scim_server.get(external).json()["active"] is True


def test_an_idle_account_used_while_its_revocation_waited_is_not_revoked(
    scim_server: ScimServer,
) -> None:
    connector, [account, _other], [external, _x] = synced(scim_server)
    [held] = revoking.revocations_request(connector=connector, account_ids=[account.pk],
                                          user=None, reason="idle", source="idle", held=True)  # fmt: skip
    Account.objects.filter(pk=account.pk).update(
        last_active_at=timezone.now() + dt.timedelta(hours=1)
    )
    it = make_user("it", "it_admin")
    with mock.patch.object(revoking, "async_task"):
        revoking.revocations_confirm(connector=connector, ids=[held.pk], user=it, go=True)
    assert revoking.revocations_run(connector.pk) == {"cancelled": 1}
    held.refresh_from_db()
    assert held.status == "cancelled" and "used the tool again" in held.last_error
    assert scim_server.get(external).json()["active"] is True


def test_a_leavers_revocation_it_cancelled_is_not_asked_again(scim_server: ScimServer) -> None:
    connector, [account, _other], _ids = synced(scim_server)
    Playbook.objects.create(subscription=connector.subscription, leaver_enabled=True)
    account.person.status, account.person.left_on = "left", timezone.localdate()  # type: ignore[union-attr]
    account.person.save()  # type: ignore[union-attr]
    with mock.patch.object(revoking, "async_task"):
        assert playbooks.leavers_run() == {"held": 1}  # 10% of two accounts: none goes alone
        revocation = Revocation.objects.get()
        revoking.revocations_confirm(connector=connector, ids=[revocation.pk],
                                     user=make_user("it", "it_admin"), go=False)  # fmt: skip
        assert playbooks.leavers_run() == {}  # cancelled by IT: a minute later, not again
    assert Revocation.objects.count() == 1


def test_a_playbook_setting_out_of_range_is_refused_and_one_failing_connector_stops_no_other(
    scim_server: ScimServer,
) -> None:
    form = PlaybookForm({"idle_enabled": "on", "idle_days": "1000000", "grace_days": "14"})
    assert not form.is_valid() and "idle_days" in form.errors
    connector, _accounts, _ids = synced(scim_server)
    Playbook.objects.create(subscription=connector.subscription, idle_enabled=True)
    with mock.patch.object(playbooks, "_send_notices", side_effect=OverflowError):
        result = playbooks.idle_run()
    assert result["failed"] == 1 and not result.get("notices")


def test_ids_that_are_not_ids_are_ignored_not_a_500(scim_server: ScimServer) -> None:
    connector, _accounts, _ids = synced(scim_server)
    client = Client()
    client.force_login(make_user("it", "it_admin"))
    hostile = ["²", "9" * 5000, "-1", "1e3", " 1"]
    preview = client.get(reverse("integrations:connector-revoke", args=[connector.pk]),
                         {"account": hostile})  # fmt: skip
    assert preview.status_code == 200 and not preview.context["accounts"]
    confirm = client.post(reverse("integrations:connector-revocations-confirm", args=[connector.pk]),
                          {"revocation": hostile, "go": "confirm"})  # fmt: skip
    assert confirm.status_code == 302 and not Revocation.objects.exists()


def test_a_seat_revoked_on_the_subscription_page_is_revoked_in_the_tool(
    scim_server: ScimServer, django_capture_on_commit_callbacks: Any
) -> None:
    connector, [account, _other], [external, _x] = synced(scim_server)
    seat = Seat.objects.get(person=account.person)
    with django_capture_on_commit_callbacks(execute=True):
        seat_services.seat_revoke(user=make_user("it", "it_admin"), seat=seat, reason="换岗")
    revocation = Revocation.objects.get()
    assert (revocation.source, revocation.status, revocation.reason) == ("seat", "done", "换岗")
    assert scim_server.get(external).json()["active"] is False


def test_the_playbook_is_saved_through_its_service_once_per_subscription(
    scim_server: ScimServer,
) -> None:
    connector, _accounts, _ids = synced(scim_server)
    it = make_user("it", "it_admin")
    client = Client()
    client.force_login(it)
    url = reverse("integrations:connector-playbook", args=[connector.pk])
    for days in (60, 45):
        client.post(url, {"idle_enabled": "on", "idle_days": days, "grace_days": 7})
    playbook = Playbook.objects.get(subscription=connector.subscription)
    assert (playbook.idle_enabled, playbook.idle_days, playbook.updated_by) == (True, 45, it)
    client.post(url, {"idle_days": "3", "grace_days": "7"})  # below the minimum: refused
    assert Playbook.objects.get().idle_days == 45
