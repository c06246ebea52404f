"""Reclamation that acts (#20): a seat revoked in a clean-up campaign or from a finding is
deactivated in the tool (a real SCIM server, scim2-server); the checklist previews exactly which
account before the click and shows the result after; a revocation is undone within 30 days
and not after; revocations held over CONNECTOR_MAX_REVOKE_PERCENT wait for IT."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.connectors import revoking, sync
from integrations.models import Account, Connector, Revocation
from renewals.cleanup import services as cleanup
from renewals.cleanup.models import CleanupItem
from renewals.usage import reclaim
from renewals.usage.models import Seat
from tests.conftest import make_user
from tests.factories import DepartmentFactory, PersonFactory, SubscriptionFactory
from tests.integrations.connectors.scim_server import ScimServer, user

pytestmark = pytest.mark.django_db


def scim_connector(url: str, *, seats: int = 10, **extra: Any) -> Connector:
    made = Connector(name="Jira SCIM", kind="scim", base_url=url,
                     subscription=SubscriptionFactory.create(seats_purchased=seats), **extra)  # fmt: skip
    made.set_secrets({"token": "connector-test-token"})
    made.save()
    return made


def test_a_campaign_revoke_previews_then_deactivates_the_account_in_the_tool(
    scim_server: ScimServer, django_capture_on_commit_callbacks: Any
) -> None:
    left = PersonFactory.create(name="离职者", email="left@example.cn", status="left",
                                left_on=dt.date(2026, 1, 5))  # fmt: skip
    stays = PersonFactory.create(name="在职", email="stays@example.cn")
    ids = scim_server.add(user("left", email="left@example.cn"),
                          user("stays", email="stays@example.cn"))  # fmt: skip
    connector = scim_connector(scim_server.url)
    sync.sync_connector(connector)
    # The leaver has no seat from the sync (leavers never get one): the HR import gave one.
    seat = Seat.objects.create(subscription=connector.subscription, person=left,
                               assigned_on=dt.date(2025, 1, 1), account="left")  # fmt: skip
    it = make_user("it", "it_admin", language="en")
    campaign = cleanup.campaign_open(user=it, name="2026 数字办公日", due_on=timezone.localdate())
    item = CleanupItem.objects.get(campaign=campaign, seat=seat)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(it)
    page = client.get(reverse("renewals:cleanup-checklist", args=[campaign.pk, item.department_id]))
    text = page.content.decode()
    assert "Revoking also deactivates left in Jira SCIM." in text  # the preview, before the click
    assert not Revocation.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        cleanup.item_decide(item=item, user=it, decision="revoke", seen="pending")
    revocation = Revocation.objects.get()
    assert (revocation.source, revocation.seat_id, revocation.requested_by) == (
        "campaign",
        seat.pk,
        it,
    )
    assert revocation.status == "done" and "2026 数字办公日" in revocation.reason
    assert scim_server.get(ids[0]).json()["active"] is False  # really deactivated there
    assert scim_server.get(ids[1]).json()["active"] is True  # and nobody else
    found = reclaim.tool_accounts([seat.pk])[seat.pk]
    assert [(t.tool, t.account, t.status) for t in found] == [("Jira SCIM", "left", "done")]
    text = client.get(reverse("renewals:cleanup-checklist",
                              args=[campaign.pk, item.department_id])).content.decode()  # fmt: skip
    assert "Jira SCIM · left: <strong>Done in the tool</strong>" in text
    assert Seat.objects.get(person=stays).revoked_on is None


def test_a_seat_revoked_from_a_finding_is_revoked_in_the_tool(
    scim_server: ScimServer, django_capture_on_commit_callbacks: Any
) -> None:
    person = PersonFactory.create(email="idle@example.cn")
    [external] = scim_server.add(user("idle", email="idle@example.cn"))
    connector = scim_connector(scim_server.url)
    sync.sync_connector(connector)
    seat = Seat.objects.get(person=person)
    it = make_user("it", "it_admin")
    with django_capture_on_commit_callbacks(execute=True):
        assert cleanup.seat_revoke(seat=seat, user=it)
    revocation = Revocation.objects.get()
    assert (revocation.source, revocation.status) == ("seat", "done")
    assert scim_server.get(external).json()["active"] is False
    with django_capture_on_commit_callbacks(execute=True):
        assert not cleanup.seat_revoke(seat=seat, user=it)  # a replayed click adds nothing
    assert Revocation.objects.count() == 1


def test_a_revocation_is_undone_within_30_days_and_not_after(
    scim_server: ScimServer, django_capture_on_commit_callbacks: Any
) -> None:
    person = PersonFactory.create(email="back@example.cn")
    [external] = scim_server.add(user("back", email="back@example.cn"))
    connector = scim_connector(scim_server.url)
    sync.sync_connector(connector)
    account = Account.objects.get()
    it = make_user("it", "it_admin", language="en")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(it)
    with django_capture_on_commit_callbacks(execute=True):
        revoking.revocations_request(connector=connector, account_ids=[account.pk], user=it,
                                     reason="idle")  # fmt: skip
    revocation = Revocation.objects.get()
    assert revocation.status == "done" and Seat.objects.get(person=person).revoked_on
    undo_url = reverse("integrations:connector-revocation-undo", args=[connector.pk, revocation.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(undo_url).status_code == 302
    undo = Revocation.objects.get(action="reactivate")
    assert (undo.undoes, undo.status) == (revocation, "done")
    assert scim_server.get(external).json()["active"] is True  # active again in the tool
    account.refresh_from_db()
    assert account.active
    assert Seat.objects.get(person=person, revoked_on__isnull=True)  # and the seat is back
    with pytest.raises(ValidationError, match="already"):  # one undo per revocation
        revoking.reactivation_request(revocation=revocation, user=it)
    # A revocation older than 30 days can no longer be undone.
    with django_capture_on_commit_callbacks(execute=True):
        revoking.revocations_request(connector=connector, account_ids=[account.pk], user=it,
                                     reason="idle again")  # fmt: skip
    old = Revocation.objects.filter(action="revoke", status="done").latest("pk")
    Revocation.objects.filter(pk=old.pk).update(done_at=timezone.now() - dt.timedelta(days=31))
    old.refresh_from_db()
    response = client.post(
        reverse("integrations:connector-revocation-undo", args=[connector.pk, old.pk]), follow=True
    )
    assert "can no longer be undone" in response.content.decode()
    assert scim_server.get(external).json()["active"] is False
    assert Revocation.objects.filter(action="reactivate").count() == 1


def test_held_revocations_wait_for_it_and_are_confirmed_or_cancelled(
    scim_server: ScimServer, django_capture_on_commit_callbacks: Any
) -> None:
    ids = scim_server.add(user("a", email="a@example.cn"), user("b", email="b@example.cn"))
    connector = scim_connector(scim_server.url)
    sync.sync_connector(connector)
    a, b = Account.objects.order_by("user_name")
    for account in (a, b):
        revoking.revocations_request(connector=connector, account_ids=[account.pk], user=None,
                                     reason="playbook", source="idle", held=True)  # fmt: skip
    assert set(Revocation.objects.values_list("status", flat=True)) == {"held"}
    assert revoking.revocations_run(connector.pk) == {}  # held ones are never sent
    it = make_user("it", "it_admin")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(it)
    url = reverse("integrations:connector-revocations-confirm", args=[connector.pk])
    held = dict(Revocation.objects.values_list("account_id", "pk"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"revocation": [held[a.pk]], "go": "confirm"})
        client.post(url, {"revocation": [held[b.pk]], "go": "cancel"})
    statuses = dict(Revocation.objects.values_list("account_id", "status"))
    assert statuses == {a.pk: "done", b.pk: "cancelled"}
    assert Revocation.objects.get(account=a).confirmed_by == it
    assert [scim_server.get(i).json()["active"] for i in ids] == [False, True]


def test_a_file_drop_connector_cannot_revoke_and_the_preview_says_so() -> None:
    person = PersonFactory.create(email="f@example.cn")
    connector = Connector.objects.create(
        name="Files", kind="file", base_url="https://files.example.cn/a.csv",
        subscription=SubscriptionFactory.create(department=DepartmentFactory.create()),
    )  # fmt: skip
    now = timezone.now()
    account = Account.objects.create(connector=connector, external_id="f", user_name="f",
                                     person=person, changed_at=now)  # fmt: skip
    seat = Seat.objects.create(subscription=connector.subscription, person=person,
                               assigned_on=dt.date(2026, 1, 1))  # fmt: skip
    [found] = reclaim.tool_accounts([seat.pk])[seat.pk]
    assert not found.can_revoke
    assert (
        revoking.revocations_request(
            connector=connector, account_ids=[account.pk], user=None, reason="x"
        )
        == []
    )


def test_unknown_accounts_are_a_finding_scoped_like_their_subscription(cast: Any) -> None:
    connector = Connector.objects.create(
        name="Jira SCIM", kind="scim", base_url="https://tool.example.cn/scim/v2",
        subscription=cast.subscription_a,
    )  # fmt: skip
    now = timezone.now()
    for i in range(3):
        Account.objects.create(connector=connector, external_id=f"g{i}", user_name=f"guest{i}",
                               changed_at=now)  # fmt: skip
    Account.objects.create(connector=connector, external_id="off", active=False, changed_at=now)
    link = reverse("integrations:connector-detail", args=[connector.pk]) + "#unknown-accounts"

    def page(user: Any) -> str:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client.get(reverse("renewals:findings")).content.decode()

    it = page(cast.it_admin)
    assert 'data-testid="unknown-total">1<' in it and link in it
    head = page(cast.head_a)  # sees the finding of their department, not IT's page
    assert 'data-testid="unknown-total">1<' in head and link not in head
    assert 'data-testid="unknown-total">0<' in page(cast.head_b)
    [found] = reclaim.unknown_accounts([cast.subscription_a.pk])
    assert (found.tool, found.count) == ("Jira SCIM", 3)
