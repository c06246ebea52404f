"""A connector's sync on PostgreSQL, reading a real SCIM server (scim2-server): accounts kept,
matched to people, seats following them, and what a second or failed sync does."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.connectors import sync
from integrations.connectors.entries import ExternalAccount
from integrations.connectors.models import Account, Connector, ConnectorRun
from org.models import Person
from renewals.usage.models import MonthlyUsage, Seat
from tests.factories import ModuleFactory, PersonFactory, SeatFactory, SubscriptionFactory
from tests.fakes.scim import FaultyScim, error, scim_user
from tests.integrations.connectors.scim_server import ScimServer, user

pytestmark = pytest.mark.django_db


def make_connector(
    url: str, *, seats: int = 10, name: str = "Jira SCIM", **config: object
) -> Connector:
    made = Connector(
        name=name,
        kind=Connector.Kind.SCIM,
        base_url=url,
        subscription=SubscriptionFactory.create(seats_purchased=seats),
        config={"page_size": 3, **config},
    )
    made.set_secrets({"token": "connector-test-token"})
    made.save()
    return made


def active_seats(connector: Connector) -> dict[str, str]:
    seats = Seat.objects.filter(subscription=connector.subscription, revoked_on__isnull=True)
    return dict(seats.values_list("person__name", "account"))


def test_accounts_are_matched_and_seats_follow_them(scim_server: ScimServer) -> None:
    wang = PersonFactory.create(name="王磊", email="wang.lei@example.cn")
    li = PersonFactory.create(name="李娜", employee_no="E042")
    zhao = PersonFactory.create(name="赵敏", mobile="13800000003")
    PersonFactory.create(
        name="离职", email="gone@example.cn", status="left", left_on=dt.date(2026, 1, 5)
    )
    PersonFactory.create(name="甲", email="twin@example.cn")
    PersonFactory.create(name="乙", email="TWIN@example.cn")  # two people: not guessed
    scim_server.add(
        user("wang", email="Wang.Lei@Example.cn"),
        user("li", employee_no="E042"),
        user("zhao", mobile="13800000003"),
        user("gone", email="gone@example.cn"),
        user("twin", email="twin@example.cn"),
        user("guest", email="partner@gmail.com"),
    )
    connector = make_connector(scim_server.url)
    run = sync.sync_connector(connector)
    assert run is not None, "the connector is there"
    assert run.status == ConnectorRun.Status.SUCCEEDED, run.error
    matched = dict(Account.objects.values_list("user_name", "matched_by"))
    assert matched == {"wang": "email", "li": "employee_no", "zhao": "mobile", "gone": "email",
                       "twin": "", "guest": ""}  # fmt: skip
    assert active_seats(connector) == {"王磊": "wang", "李娜": "li", "赵敏": "zhao"}
    assert run.counts["unknown"] == 2 and run.counts["seats_created"] == 3
    assert Account.objects.get(user_name="wang").seat == Seat.objects.get(person=wang)
    assert {li.pk, zhao.pk} <= set(Seat.objects.values_list("person_id", flat=True))


def test_an_unchanged_second_sync_writes_nothing(scim_server: ScimServer) -> None:
    PersonFactory.create(email="u0@example.cn")
    scim_server.add(*(user(f"u{i}", email=f"u{i}@example.cn") for i in range(5)))
    connector = make_connector(scim_server.url)
    sync.sync_connector(connector)
    before = list(Account.objects.order_by("pk").values_list("pk", "changed_at", "seat_id"))
    seats = list(Seat.objects.values_list("pk", "account", "last_active_on", "revoked_on"))
    again = sync.sync_connector(connector)
    assert again is not None and again.status == ConnectorRun.Status.SUCCEEDED
    assert again.counts == {"accounts": 5, "unknown": 4}
    assert list(Account.objects.order_by("pk").values_list("pk", "changed_at", "seat_id")) == before
    assert list(Seat.objects.values_list("pk", "account", "last_active_on", "revoked_on")) == seats


def test_a_deactivated_or_dropped_account_gives_its_seat_back(scim_server: ScimServer) -> None:
    a, b, c = (PersonFactory.create(email=f"p{i}@example.cn") for i in range(3))
    ids = scim_server.add(*(user(f"p{i}", email=f"p{i}@example.cn") for i in range(3)))
    connector = make_connector(scim_server.url)
    sync.sync_connector(connector)
    scim_server.patch_active(ids[0], False)
    scim_server.delete(ids[1])
    run = sync.sync_connector(connector)
    assert run is not None and run.counts["seats_revoked"] == 2 and run.counts["gone"] == 1
    revoked = Seat.objects.filter(person__in=[a, b]).values_list("revoked_on", "revoke_reason")
    assert all(day is not None and "Jira SCIM" in why for day, why in revoked)
    assert Seat.objects.get(person=c).revoked_on is None
    dropped = Account.objects.get(external_id=ids[1])
    assert not dropped.present and dropped.person is not None  # kept, never deleted
    scim_server.patch_active(ids[0], True)  # back in the tool: back in a seat
    back = sync.sync_connector(connector)
    assert back is not None and back.counts["seats_created"] == 1
    assert Seat.objects.filter(person=a, revoked_on__isnull=True).count() == 1


def test_more_accounts_than_purchased_seats_are_counted_not_seated(
    scim_server: ScimServer,
) -> None:
    people = [PersonFactory.create(email=f"p{i}@example.cn") for i in range(5)]
    SeatFactory.create(
        subscription=SubscriptionFactory.create(), person=people[0]
    )  # another tool's seat
    scim_server.add(*(user(f"p{i}", email=f"p{i}@example.cn") for i in range(5)))
    connector = make_connector(scim_server.url, seats=3)
    run = sync.sync_connector(connector)
    assert run is not None and run.counts["seats_created"] == 3
    assert run.counts["over_purchased"] == 2
    assert len(active_seats(connector)) == 3


def test_a_hand_mapping_is_kept_and_an_existing_seat_is_reused(scim_server: ScimServer) -> None:
    person = PersonFactory.create(name="外包", email="vendor-staff@example.cn")
    seat = SeatFactory.create(person=person, account="", subscription=SubscriptionFactory.create())
    scim_server.add(user("contractor", email="c@partner.com"))
    connector = Connector.objects.get(pk=make_connector(scim_server.url).pk)
    Connector.objects.filter(pk=connector.pk).update(subscription=seat.subscription)
    connector.refresh_from_db()
    sync.sync_connector(connector)
    account = Account.objects.get()
    assert account.person is None
    Account.objects.filter(pk=account.pk).update(person=person, matched_by="hand")
    run = sync.sync_connector(connector)
    assert run is not None and run.counts.get("seats_created", 0) == 0
    seat.refresh_from_db()
    assert seat.account == "contractor" and seat.revoked_on is None
    assert Account.objects.get().seat == seat


def test_a_failure_halfway_applies_nothing_and_the_next_sync_resumes() -> None:
    PersonFactory.create(email="user1@example.cn")
    with FaultyScim([scim_user(i) for i in range(7)]) as fake:
        connector = make_connector(fake.url)
        fake.fault = lambda n, start: error(500) if start > 3 else None
        failed = sync.sync_connector(connector)
        assert failed is not None and failed.status == ConnectorRun.Status.FAILED
        assert "HTTP 500" in failed.error and not Account.objects.exists()
        fake.fault = lambda n, start: None
        resumed = sync.sync_connector(connector)
    assert resumed is not None and resumed.status == ConnectorRun.Status.SUCCEEDED
    assert Account.objects.count() == 7 and Seat.objects.count() == 1


def test_a_second_sync_while_one_runs_is_skipped(scim_server: ScimServer) -> None:
    connector = make_connector(scim_server.url)
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"], host=settings["HOST"] or None, port=settings["PORT"] or None,
        user=settings["USER"] or None, autocommit=True,
    )  # fmt: skip
    try:  # another worker's session holds the connector's sync lock
        other.execute("SELECT pg_advisory_lock(%s, %s)", [sync._LOCK_SPACE, connector.pk])
        skipped = sync.sync_connector(connector)
        assert skipped is not None and skipped.status == ConnectorRun.Status.SKIPPED
        assert not Account.objects.exists()
    finally:
        other.close()
    ran = sync.sync_connector(connector)
    assert ran is not None and ran.status == ConnectorRun.Status.SUCCEEDED


def test_a_connector_removed_while_it_read_applies_nothing() -> None:
    connector = make_connector("https://tool.example.cn/scim/v2")
    read = [ExternalAccount("id-1", user_name="u1")]
    Connector.objects.filter(pk=connector.pk).delete()
    assert sync.apply_accounts(connector, read, now=dt.datetime.now(dt.UTC)) is None
    assert not Account.objects.exists() and Person.objects.count() == 0


def test_applying_takes_the_same_queries_for_10_or_300_accounts() -> None:
    people = [PersonFactory.create(email=f"p{i}@example.cn") for i in range(5)]
    connector = make_connector("https://tool.example.cn/scim/v2", seats=1000)

    def accounts(n: int, tag: str) -> list[ExternalAccount]:
        return [  # alike at any size: every third matched by e-mail, the others unknown
            ExternalAccount(f"{tag}-{i}", user_name=f"u{i}",
                            email=people[i % 5].email if i % 3 == 0 else f"x{i}@gmail.com")
            for i in range(n)
        ]  # fmt: skip

    def queries(rows: list[ExternalAccount]) -> tuple[int, int]:
        now = dt.datetime.now(dt.UTC)
        with CaptureQueriesContext(connection) as new:
            sync.apply_accounts(connector, rows, now=now)
        with CaptureQueriesContext(connection) as same:
            sync.apply_accounts(connector, rows, now=now)
        Account.objects.filter(connector=connector).delete()
        Seat.objects.all().delete()
        return len(new), len(same)

    assert queries(accounts(10, "a")) == queries(accounts(300, "b"))


def test_the_months_active_users_come_from_the_accounts_last_activity() -> None:
    urn = "urn:ietf:params:scim:schemas:extension:slack:profile:2.0:User"
    now = timezone.now()
    this_month = timezone.localdate(now).replace(day=1)
    before = timezone.make_aware(dt.datetime.combine(this_month, dt.time.min)) - dt.timedelta(
        hours=1
    )
    stamps = [now, now, now - dt.timedelta(minutes=5), before, None]
    users = [scim_user(i, **({urn: {"lastLogin": s.isoformat()}} if s else {}))
             for i, s in enumerate(stamps)]  # fmt: skip
    with FaultyScim(users) as fake:
        connector = make_connector(fake.url, last_active_attribute=f"{urn}.lastLogin")
        run = sync.sync_connector(connector)
        assert run is not None and run.counts["active_this_month"] == 3
        usage = MonthlyUsage.objects.get(subscription=connector.subscription, module=None)
        assert (usage.month, usage.active_users) == (this_month, 3)
        again = sync.sync_connector(connector)  # the same figure: nothing rewritten
        assert again is not None and MonthlyUsage.objects.get().active_users == 3
    # A tool that says nothing of activity writes no usage rather than a zero.
    with FaultyScim([scim_user(i) for i in range(3)]) as fake:
        quiet = make_connector(fake.url, name="Without activity")
        assert sync.sync_connector(quiet) is not None
    assert not MonthlyUsage.objects.filter(subscription=quiet.subscription).exists()


def test_each_module_the_tool_names_gets_its_months_active_users() -> None:
    """Per-product activity (Atlassian's Jira / Confluence, Feishu's docs / meetings …) becomes
    the month's usage row of the subscription's module of that name, whatever its case; a
    product the subscription has no module for is left out, and a re-sync rewrites nothing."""
    now = timezone.now()
    old = now - dt.timedelta(days=70)
    connector = make_connector("http://127.0.0.1:9/scim")
    roadmaps = ModuleFactory.create(subscription=connector.subscription, name="Advanced Roadmaps")
    service = ModuleFactory.create(
        subscription=connector.subscription, name="Jira Service Management"
    )

    def account(i: int, modules: dict[str, dt.datetime | None]) -> ExternalAccount:
        return ExternalAccount(f"id{i}", user_name=f"u{i}", last_active_at=now, modules=modules)

    accounts = [
        account(1, {"advanced roadmaps": now, "Jira Service Management": old}),
        account(2, {"Advanced Roadmaps": now, "Jira Service Management": None}),
        account(3, {"Advanced Roadmaps": old, "Confluence": now}),
    ]
    counts = sync.apply_accounts(connector, accounts, now=now)
    assert counts is not None and counts["active_this_month"] == 3
    rows = dict(
        MonthlyUsage.objects.filter(subscription=connector.subscription).values_list(
            "module_id", "active_users"
        )
    )
    # "advanced roadmaps" and "Advanced Roadmaps" are one product, named by two accounts.
    assert rows == {None: 3, roadmaps.pk: 2, service.pk: 0}
    stored = Account.objects.get(external_id="id2").modules
    assert stored == {"Advanced Roadmaps": now.isoformat(), "Jira Service Management": None}

    def versions() -> list[tuple[str, str]]:  # a rewritten row gets a new xmin
        with connection.cursor() as cursor:
            cursor.execute("SELECT id::text, xmin::text FROM renewals_monthlyusage ORDER BY id")
            return cursor.fetchall()

    before = versions()
    sync.apply_accounts(connector, accounts, now=now)
    assert versions() == before


def test_unknown_accounts_and_seats_over_the_purchase_are_risks(scim_server: ScimServer) -> None:
    """Two unknown accounts and three active accounts for two purchased seats: the sync raises
    both risks at once; mapping and revoking clear them at the next refresh."""
    from renewals.risks.models import Risk
    from renewals.risks.services import risks_refresh

    PersonFactory.create(email="known@example.cn")
    scim_server.add(user("known", email="known@example.cn"), user("guest", email="x@gmail.com"),
                    user("temp", email="temp@partner.cn"))  # fmt: skip
    connector = make_connector(scim_server.url, seats=2)
    sync.sync_connector(connector)  # the test settings run the queued refresh inline
    mine = Risk.objects.filter(rule__in=["unknown_accounts", "over_purchased"])
    raised = dict(mine.exclude(status="closed").values_list("rule", "key"))
    assert raised == {"unknown_accounts": str(connector.pk),
                      "over_purchased": str(connector.subscription_id)}  # fmt: skip
    Account.objects.filter(person__isnull=True).update(active=False)  # revoked in the tool
    risks_refresh()
    assert not mine.exclude(status="closed").exists()


def test_an_account_list_of_100000_is_read_and_applied_in_full() -> None:
    """A large tenant: 100,000 accounts over 100 pages of 1,000, every one kept, matched where a
    person has the e-mail, with the seats the purchase allows and the rest counted over it; the
    unchanged second sync writes no account."""
    total = 100_000
    people = PersonFactory.create_batch(50)
    users = [scim_user(i) for i in range(total)]
    for person, account in zip(people, users, strict=False):
        account["emails"] = [{"value": person.email, "primary": True}]
    with FaultyScim(users) as fake:
        connector = make_connector(fake.url, seats=40, page_size=1000)
        run = sync.sync_connector(connector)
        assert run is not None, "the connector is there"
        assert run.status == ConnectorRun.Status.SUCCEEDED, run.error
        assert len(fake.requests) == 100
        assert run.counts["accounts"] == run.counts["new"] == total
        assert run.counts["matched"] == 50 and run.counts["unknown"] == total - 50
        assert run.counts["seats_created"] == 40 and run.counts["over_purchased"] == 10
        assert Account.objects.filter(connector=connector).count() == total
        again = sync.sync_connector(connector)
        assert again is not None and not again.counts.get("changed") and not again.counts.get("new")
