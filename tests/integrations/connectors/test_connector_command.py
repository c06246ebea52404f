"""manage.py connector, the connector's service checks, and the schedule that queues syncs."""

from __future__ import annotations

import io
import os
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from integrations import tasks
from integrations.connectors import services
from integrations.models import Account, Connector, ConnectorRun
from renewals.inventory.models import Subscription
from tests.factories import PersonFactory, SubscriptionFactory
from tests.integrations.connectors.scim_server import ScimServer, user

pytestmark = pytest.mark.django_db


def command(*args: str, token: str = "connector-test-token") -> str:
    out = io.StringIO()
    with mock.patch.dict(os.environ, {"CONNECTOR_TOKEN": token}):
        call_command("connector", *args, stdout=out)
    return out.getvalue()


def test_add_list_sync_and_remove_as_an_it_admin_would(scim_server: ScimServer) -> None:
    SubscriptionFactory.create(ref="SUB-0042", seats_purchased=5)
    PersonFactory.create(email="u1@example.cn")
    scim_server.add(user("u1", email="u1@example.cn"), user("guest", email="g@gmail.com"))
    added = command("add", "scim", "--name", "Jira SCIM", "--subscription", "SUB-0042",
                    "--url", scim_server.url, "--set", "page_size=50")  # fmt: skip
    assert "Added scim connector 'Jira SCIM'" in added
    connector = Connector.objects.get()
    assert connector.secrets == {"token": "connector-test-token"}
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT credentials FROM integrations_connector")
        stored = cursor.fetchone()[0]
    assert stored.startswith("fernet:") and "connector-test-token" not in stored
    synced = command("sync", "Jira SCIM")
    assert synced.startswith("succeeded") and "'unknown': 1" in synced
    assert "Jira SCIM\tscim\tSUB-0042\tevery 360 min\t" in command("list")
    assert "succeeded" in command("list")
    assert "the seats it kept stay" in command("remove", "Jira SCIM")
    assert not Connector.objects.exists() and not Account.objects.exists()
    assert (
        Subscription.objects.get(ref="SUB-0042").seats.filter(revoked_on__isnull=True).count() == 1
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--subscription", "SUB-NONE", "--url", "https://x.example.cn/scim"], "No subscription"),
        (["--subscription", "SUB-1", "--url", "https://u:p@x.example.cn/scim"], "no user name or password"),
        (["--subscription", "SUB-1", "--url", "http://x.example.cn/scim"], "https://"),
        (["--subscription", "SUB-1", "--url", "not a url"], "https://"),
        (["--subscription", "SUB-1", "--url", "https://x.example.cn/scim", "--set", "evil=1"], "Unknown settings"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_and_nothing_is_added(args: list[str], message: str) -> None:
    SubscriptionFactory.create(ref="SUB-1")
    with pytest.raises(CommandError, match=message):
        command("add", "scim", "--name", "X", *args)
    assert not Connector.objects.exists()


def test_a_connector_without_a_token_is_refused() -> None:
    SubscriptionFactory.create(ref="SUB-1")
    with mock.patch("getpass.getpass", return_value=""), pytest.raises(CommandError, match="token"):
        command("add", "scim", "--name", "X", "--subscription", "SUB-1",
                "--url", "https://x.example.cn/scim", token="")  # fmt: skip
    assert not Connector.objects.exists()


def test_an_edit_without_a_token_keeps_the_stored_one() -> None:
    subscription = SubscriptionFactory.create()
    saved = services.connector_save(
        connector=None, subscription=subscription, kind="scim", name="Slack",
        base_url="https://api.slack.com/scim/v2", config={}, secrets={"token": "xoxp-1"},
    )  # fmt: skip
    again = services.connector_save(
        connector=saved, subscription=subscription, kind="scim", name="Slack",
        base_url="https://api.slack.com/scim/v2", config={"page_size": 200}, secrets={"token": ""},
    )  # fmt: skip
    assert again.secrets == {"token": "xoxp-1"} and again.config == {"page_size": 200}


def test_the_schedule_queues_connectors_whose_interval_passed() -> None:
    subscription = SubscriptionFactory.create()
    make = lambda name, every: services.connector_save(  # noqa: E731
        connector=None, subscription=subscription, kind="scim", name=name,
        base_url="https://x.example.cn/scim", config={}, secrets={"token": "t"},
        sync_every_minutes=every,
    )  # fmt: skip
    due, by_hand, recent = make("due", 60), make("by hand", 0), make("recent", 60)
    ConnectorRun.objects.create(connector=recent, trigger="schedule")
    with mock.patch.object(tasks, "async_task") as queued:
        tasks.sync_due()
    called = [
        c.args for c in queued.call_args_list if c.args[0] == "integrations.tasks.connector_sync"
    ]
    assert called == [("integrations.tasks.connector_sync", due.pk, "schedule")]
    assert by_hand.pk not in [c[1] for c in called]
