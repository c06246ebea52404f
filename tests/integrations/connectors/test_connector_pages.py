"""Usage connectors as an IT admin keeps them on the pages: the token write-only (encrypted, never
shown, never in the trail), bad input refused with nothing saved, the page's figures and unknown
accounts, "sync now" through the worker, removal, and queries that do not grow with the data."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.models import Account, Connector, ConnectorRun
from tests.conftest import make_user
from tests.factories import PersonFactory, SubscriptionFactory
from tests.test_audit_secrets import tables_holding

pytestmark = pytest.mark.django_db
TOKEN = "scim-Token-5531-very-secret"  # noqa: S105 - a test value


@pytest.fixture
def it(client: Client) -> Client:
    client.force_login(make_user("it", "it_admin"))
    return client


def form(subscription_pk: int, **extra: str) -> dict[str, Any]:
    return {
        "subscription": subscription_pk, "name": "Jira SCIM",
        "base_url": "https://api.atlassian.com/scim/directory/abc", "token": TOKEN,
        "deprovision": "deactivate", "sync_every_minutes": "360", "enabled": "on",
        "page_size": "100", **extra,
    }  # fmt: skip


def test_a_connector_is_added_with_its_token_encrypted_and_never_shown(it: Client) -> None:
    subscription = SubscriptionFactory.create()
    response = it.post(reverse("integrations:connector-add"), form(subscription.pk))
    assert response.status_code == 302
    connector = Connector.objects.get()
    assert connector.secrets == {"token": TOKEN} and connector.config == {"page_size": 100}
    assert tables_holding(TOKEN) == []
    page = it.get(connector.get_absolute_url()).content.decode()
    edit = it.get(reverse("integrations:connector-edit", args=[connector.pk])).content.decode()
    assert TOKEN not in page and TOKEN not in edit
    assert "api.atlassian.com" in page
    # Edited without a token: the stored one stays.
    again = form(subscription.pk, token="", name="Jira")
    assert (
        it.post(reverse("integrations:connector-edit", args=[connector.pk]), again).status_code
        == 302
    )
    connector.refresh_from_db()
    assert connector.name == "Jira" and connector.secrets == {"token": TOKEN}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"token": ""}, "token"),
        ({"base_url": "http://tool.example.cn/scim"}, None),
        ({"base_url": "https://admin:pw@tool.example.cn/scim"}, None),
        ({"base_url": "javascript:alert(1)"}, "base_url"),
        ({"name": "x" * 101}, "name"),
        ({"name": "evil\x00name"}, "name"),
        ({"page_size": "100000"}, "page_size"),
        ({"sync_every_minutes": "-5"}, "sync_every_minutes"),
        ({"subscription": "999999"}, "subscription"),
        ({"token": "t" * 5000}, "token"),
    ],
)
def test_bad_input_is_a_400_with_the_error_and_nothing_saved(
    it: Client, change: dict[str, str], field: str | None
) -> None:
    subscription = SubscriptionFactory.create()
    response = it.post(reverse("integrations:connector-add"), form(subscription.pk, **change))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert (field in errors) if field else errors
    assert not Connector.objects.exists()


def test_an_archived_subscription_cannot_be_chosen(it: Client) -> None:
    subscription = SubscriptionFactory.create()
    subscription.archived_at = dt.datetime.now(dt.UTC)
    subscription.save(update_fields=["archived_at"])
    response = it.post(reverse("integrations:connector-add"), form(subscription.pk))
    assert response.status_code == 400 and not Connector.objects.exists()


def make(subscription_pk: int | None = None, accounts: int = 0) -> Connector:
    connector = Connector(
        name=f"C{Connector.objects.count()}", kind="scim", base_url="https://t.example.cn/scim",
        subscription_id=subscription_pk or SubscriptionFactory.create().pk,
    )  # fmt: skip
    connector.set_secrets({"token": "t"})
    connector.save()
    now = dt.datetime.now(dt.UTC)
    person = PersonFactory.create()
    Account.objects.bulk_create(
        Account(
            connector=connector,
            external_id=f"id-{i}",
            user_name=f"guest{i}",
            changed_at=now,
            person=person if i % 2 else None,
        )  # fmt: skip
        for i in range(accounts)
    )
    for i in range(min(accounts, 25)):
        ConnectorRun.objects.create(connector=connector, trigger="manual", status="succeeded",
                                    counts={"accounts": i, "unknown": 1})  # fmt: skip
    return connector


def test_the_page_shows_figures_and_unknown_accounts(it: Client) -> None:
    connector = make(accounts=6)
    page = it.get(connector.get_absolute_url())
    assert page.status_code == 200
    figures = page.context["figures"]
    assert (figures["n_listed"], figures["n_matched"], figures["n_unknown"]) == (6, 3, 3)
    assert [a.user_name for a in page.context["unknown"]] == ["guest0", "guest2", "guest4"]
    listed = it.get(reverse("integrations:connector-list")).content.decode()
    assert connector.name in listed


def test_the_pages_use_the_same_queries_whatever_the_data(it: Client) -> None:
    small, large = make(accounts=2), make(accounts=300)
    for _i in range(5):
        make(accounts=3)

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert it.get(url).status_code == 200
        return len(queries)

    assert count(small.get_absolute_url()) == count(large.get_absolute_url())
    few = count(reverse("integrations:connector-list"))
    for _i in range(10):
        make(accounts=2)
    assert count(reverse("integrations:connector-list")) == few


def test_sync_now_queues_the_worker_and_remove_keeps_the_seats(it: Client) -> None:
    connector = make(accounts=1)
    with mock.patch("integrations.connectors.services.async_task") as queued:
        response = it.post(reverse("integrations:connector-sync", args=[connector.pk]))
    assert response.status_code == 302
    queued.assert_called_once_with("integrations.tasks.connector_sync", connector.pk, "manual")
    response = it.post(reverse("integrations:connector-remove", args=[connector.pk]))
    assert response.status_code == 302 and not Connector.objects.exists()


def test_an_unknown_account_is_mapped_to_a_person_and_gets_a_seat(it: Client) -> None:
    connector = make(accounts=1)
    account = Account.objects.get(connector=connector)
    person = PersonFactory.create(employee_no="E-7788", email="wang@example.cn")
    url = reverse("integrations:connector-account-map", args=[connector.pk, account.pk])
    response = it.post(url, {"person": "nobody@example.cn"}, follow=True)
    assert "nobody@example.cn" in response.content.decode()
    account.refresh_from_db()
    assert account.person is None  # nothing changed
    response = it.post(url, {"person": "WANG@example.cn"}, follow=True)
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.person == person and account.matched_by == "hand"
    assert account.seat is not None and account.seat.person == person
    assert account.seat.revoked_on is None and account.seat.account == "guest0"
    other = make(accounts=1)  # an account of another connector: not found under this one
    foreign = Account.objects.get(connector=other)
    bad = reverse("integrations:connector-account-map", args=[connector.pk, foreign.pk])
    assert it.post(bad, {"person": "E-7788"}).status_code == 404
