"""The stand-in tool `dev.py start` runs beside the demo: manage.py demo_scim_tool fills a real
SCIM server with a demo subscription's accounts, and a connector reads them back as seats and
unknown accounts."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integrations.connectors import sync
from integrations.models import Account, Connector
from tests.factories import PersonFactory, SeatFactory, SubscriptionFactory
from tests.integrations.connectors.scim_server import ScimServer

pytestmark = pytest.mark.django_db


def test_the_demo_tool_holds_the_holders_a_leaver_and_two_strangers(
    scim_server: ScimServer,
) -> None:
    SubscriptionFactory.create(product="Jira Software", ref="SUB-0001")  # no leaver's seat
    jira = SubscriptionFactory.create(product="ClickUp", ref="SUB-0019", seats_purchased=10)
    holders = [PersonFactory.create(email=f"dev{i}@example.cn") for i in range(3)]
    holders.append(
        PersonFactory.create(email="gone@example.cn", status="left", left_on=dt.date(2026, 3, 1))
    )
    for person in holders:
        SeatFactory.create(subscription=jira, person=person)
    out = StringIO()
    call_command("demo_scim_tool", "--url", scim_server.url, "--token", scim_server.token,
                 stdout=out)  # fmt: skip
    assert "6 accounts added" in out.getvalue() and "SUB-0019" in out.getvalue()
    again = StringIO()  # a second start adds nothing twice
    call_command("demo_scim_tool", "--url", scim_server.url, "--token", scim_server.token,
                 stdout=again)  # fmt: skip
    assert "0 accounts added" in again.getvalue()
    connector = Connector(name="Demo", kind="scim", base_url=scim_server.url, subscription=jira)
    connector.set_secrets({"token": scim_server.token})
    connector.save()
    run = sync.sync_connector(connector)
    assert run is not None, "the connector is there"
    assert run.counts["accounts"] == 6, run.error
    assert run.counts["unknown"] == 2  # the contractor and the personal e-mail
    leaver = Account.objects.get(email="gone@example.cn")
    assert leaver.person == holders[-1]  # the leaver's account: the campaign's row deactivates it


def test_without_a_demo_subscription_it_says_so(scim_server: ScimServer) -> None:
    SubscriptionFactory.create(product="Jira Software")  # nobody who left holds a seat of it
    with pytest.raises(CommandError, match="seed the demo first"):
        call_command("demo_scim_tool", "--url", scim_server.url, "--token", scim_server.token)
