"""The Atlassian organisation connector against tests/fakes/atlassian.py (Atlassian's admin
APIs as documented): paging, per-product activity, hostile values, refusals, rate limits,
loops, deactivation and activation, and a sync on PostgreSQL."""

from __future__ import annotations

import logging

import pytest

from integrations.connectors import http, sync
from integrations.connectors.entries import MAX_NAME, ConnectorError
from integrations.connectors.models import Account, Connector, ConnectorRun
from integrations.connectors.services import connector_save
from integrations.connectors.vendors import atlassian
from tests.factories import PersonFactory, SubscriptionFactory
from tests.fakes.atlassian import API_KEY, ORG_ID, FakeAtlassian, atlassian_user, product


def connector(url: str, key: str = API_KEY, **config: object) -> Connector:
    made = Connector(name="Atlassian", kind=Connector.Kind.ATLASSIAN, base_url=url,
                     config={"org_id": ORG_ID, **config})  # fmt: skip
    made.set_secrets({"api_key": key})
    return made


def demo_users() -> list[dict[str, object]]:
    return [
        atlassian_user(0, product_access=[
            product("jira-software", "Jira Software", "2026-11-02T09:30:00Z"),
            product("confluence", "Confluence", "2026-10-15")]),
        atlassian_user(1, account_status="inactive", product_access=[]),
        atlassian_user(2, product_access=[product("confluence", "Confluence")]),
        atlassian_user(3, last_active="2026-09-01T00:00:00Z"),
        atlassian_user(4, name="王磊", email="Wang.Lei@Example.cn"),
    ]  # fmt: skip


def test_accounts_are_read_across_pages_with_each_products_last_activity() -> None:
    with FakeAtlassian(demo_users(), page_size=2) as fake:
        accounts = {a.display_name: a for a in atlassian.read(connector(fake.url))}
    assert len(fake.requests) == 3 and fake.auth_seen == {f"Bearer {API_KEY}"}
    assert sorted(accounts) == ["User 0", "User 1", "User 2", "User 3", "王磊"]
    first = accounts["User 0"]
    assert {k: v.isoformat() if v else v for k, v in first.modules.items()} == {
        "Jira Software": "2026-11-02T09:30:00+00:00", "Confluence": "2026-10-15T00:00:00+00:00"}  # fmt: skip
    assert first.last_active_at is not None and first.last_active_at.day == 2
    assert (first.external_id, first.email, first.active) == (
        "5b10ac8d82e05b22cc7d4e00", "user0@example.cn", True)  # fmt: skip
    assert not accounts["User 1"].active and accounts["User 1"].modules == {}
    assert accounts["User 2"].modules == {"Confluence": None}
    assert accounts["User 2"].last_active_at is None
    assert accounts["User 3"].last_active_at is not None  # the account's own last_active
    assert accounts["王磊"].email == accounts["王磊"].user_name == "Wang.Lei@Example.cn"


def test_a_products_setting_keeps_only_that_products_accounts_and_activity() -> None:
    with FakeAtlassian(demo_users()) as fake:
        read = atlassian.read(connector(fake.url, products="confluence, Nothing"))
    accounts = {a.display_name: a for a in read}
    assert sorted(accounts) == ["User 0", "User 1", "User 2"]  # User 1: inactive, still seen
    assert accounts["User 0"].modules.keys() == {"Confluence"}
    assert accounts["User 0"].last_active_at is not None
    assert accounts["User 0"].last_active_at.isoformat() == "2026-10-15T00:00:00+00:00"


def test_activity_comes_from_last_active_dates_when_the_list_has_none() -> None:
    quiet = atlassian_user(7, account_id="557058:f58131cb-b67d-43c7-b30d-6b58d40bd077")
    del quiet["product_access"]
    silent = atlassian_user(8)
    del silent["product_access"]
    gone = atlassian_user(9)
    del gone["product_access"]
    with FakeAtlassian([quiet, silent, gone]) as fake:
        fake.fault = lambda path, n: (
            (404, {}, {"code": 404})
            if path.endswith(f"{gone['account_id']}/last-active-dates")
            else None
        )  # left since the list was read
        fake.activity[str(quiet["account_id"])] = [
            {"id": "ari:cloud:jira-software::site/1", "key": "jira-software",
             "last_active": "2026-11-01", "last_active_timestamp": "2026-11-01T08:00:00Z"},
            {"id": "ari:cloud:confluence::site/1", "key": "confluence", "last_active": "2026-10-01"},
            {"id": "ari:cloud:jira-software::site/2", "key": "jira-software", "last_active": "2026-11-20"},
        ]  # fmt: skip
        accounts = {a.display_name: a for a in atlassian.read(connector(fake.url))}
    paths = [p for _m, p in fake.requests if "last-active-dates" in p]
    assert len(paths) == 4  # two pages for one account, one for each of the others
    modules = accounts["User 7"].modules
    assert {k: v.date().isoformat() for k, v in modules.items() if v} == {
        "Jira Software": "2026-11-20", "Confluence": "2026-10-01"}  # fmt: skip
    assert accounts["User 8"].modules == {} and accounts["User 8"].last_active_at is None
    assert accounts["User 9"].modules == {} and accounts["User 9"].active


def test_hostile_values_are_cleaned_cut_or_skipped(caplog: pytest.LogCaptureFixture) -> None:
    hostile = [
        atlassian_user(1, name="evil\x00\x1b[31m name\u2028", email="not-an-email"),
        atlassian_user(2, name="名" * 10_000, email="x" * 300 + "@example.cn"),
        atlassian_user(3, account_id="../../admin"),  # no usable id: skipped
        atlassian_user(4, account_id=12345),
        "not an object",
        atlassian_user(5, name=["a list"], last_active="yesterday", product_access=[
            "junk", {"key": "confluence", "name": "\x07Confluence\x1b", "last_active": 7},
            *({"key": f"k{i}", "name": f"Product {i}"} for i in range(300))]),
        atlassian_user(6, account_status="ACTIVE", email="a b@example.cn"),
    ]  # fmt: skip
    with caplog.at_level(logging.WARNING), FakeAtlassian(hostile, page_size=3) as fake:
        accounts = {a.external_id[-2:]: a for a in atlassian.read(connector(fake.url))}
    assert set(accounts) == {"01", "02", "05", "06"}
    assert accounts["01"].display_name == "evil [31m name" and accounts["01"].email == ""
    assert len(accounts["02"].display_name) == MAX_NAME and accounts["02"].email == ""
    odd = accounts["05"]
    assert odd.display_name == "" and odd.last_active_at is None
    assert odd.modules["Confluence"] is None and len(odd.modules) == atlassian.MAX_MODULES
    assert not accounts["06"].active and accounts["06"].email == ""
    assert caplog.text.count("no usable account_id") == 2 and "not an object" in caplog.text


def test_a_wrong_key_or_org_is_a_clear_error(caplog: pytest.LogCaptureFixture) -> None:
    with FakeAtlassian(demo_users()) as fake:
        with pytest.raises(ConnectorError, match=r"refused the API key \(HTTP 401\)") as caught:
            atlassian.read(connector(fake.url, key="wrong-key-123"))
        with pytest.raises(ConnectorError, match="no organization other-org"):
            atlassian.read(connector(fake.url, org_id="other-org"))
    assert "wrong-key-123" not in str(caught.value) + caplog.text
    with pytest.raises(ConnectorError, match="no API key"):
        atlassian.read(connector("http://127.0.0.1:1", key=""))
    with pytest.raises(ConnectorError, match="organization ID is missing or not valid"):
        atlassian.read(connector("http://127.0.0.1:1", org_id="../x"))


def test_a_500_halfway_fails_the_whole_read() -> None:
    with FakeAtlassian(demo_users()) as fake:
        fake.fail_page = 1
        with pytest.raises(ConnectorError, match="HTTP 500"):
            atlassian.read(connector(fake.url))
    assert len(fake.requests) == 2


def test_a_429_is_waited_out_and_a_storm_of_them_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(atlassian, "_sleep", waits.append)
    with FakeAtlassian(demo_users()) as fake:
        fake.throttle, fake.retry_after = 2, "7"
        assert len(atlassian.read(connector(fake.url))) == 5
        assert waits == [7.0, 7.0]
        fake.throttle, fake.retry_after = 10**6, "3600"
        with pytest.raises(ConnectorError, match="slow down"):
            atlassian.read(connector(fake.url))
    assert waits[2:] == [http.MAX_WAIT] * int(
        http.TOTAL_WAIT // http.MAX_WAIT
    )  # never longer than MAX_WAIT each


def test_a_looping_cursor_ends_the_read_and_too_many_accounts_fail() -> None:
    users = [atlassian_user(i) for i in range(6)]
    with FakeAtlassian(users) as fake:
        fake.loop = True
        assert len(atlassian.read(connector(fake.url))) == 4
        assert len(fake.requests) == 2  # the second page named itself next: the end
        fake.loop = False
        with pytest.raises(ConnectorError, match="more than 3 accounts"):
            atlassian.read(connector(fake.url, max_accounts=3))


def test_the_next_link_gives_a_cursor_its_host_is_never_followed() -> None:
    with FakeAtlassian(demo_users()) as fake:
        real = fake.users_page

        def elsewhere(cursor: str | None) -> tuple[int, dict[str, str], object]:
            status, headers, body = real(cursor)
            if "next" in body["links"]:
                body["links"]["next"] = body["links"]["next"].replace(
                    fake.url, "http://203.0.113.9"
                )
            return status, headers, body

        fake.users_page = elsewhere  # type: ignore[method-assign]
        assert len(atlassian.read(connector(fake.url))) == 5
        assert len(fake.requests) == 3


def test_answers_that_are_not_pages_of_users_fail_clearly() -> None:
    with FakeAtlassian(demo_users()) as fake:
        fake.fault = lambda path, n: (200, {}, b"<html>login</html>")
        with pytest.raises(ConnectorError, match="not JSON"):
            atlassian.read(connector(fake.url))
        fake.fault = lambda path, n: (200, {}, {"data": "many"})
        with pytest.raises(ConnectorError, match="not understood: a page of users has no data"):
            atlassian.read(connector(fake.url))
        fake.fault = lambda path, n: (200, {}, {"data": [], "links": {"next": "https://x/?a=1"}})
        with pytest.raises(ConnectorError, match="links.next has no cursor"):
            atlassian.read(connector(fake.url))


def test_deprovision_and_reactivate_use_the_lifecycle_endpoints() -> None:
    users = [atlassian_user(i) for i in range(3)]
    ids = [str(u["account_id"]) for u in users]
    with FakeAtlassian(users) as fake:
        tool = connector(fake.url)
        atlassian.deprovision(tool, ids[0])
        assert users[0]["account_status"] == "inactive"
        atlassian.reactivate(tool, ids[0])
        assert users[0]["account_status"] == "active"
        tool.deprovision = Connector.Deprovision.DELETE
        atlassian.deprovision(tool, ids[1])
        atlassian.reactivate(tool, ids[1])
        assert fake.lifecycle == [(ids[0], "disable"), (ids[0], "enable"),
                                  (ids[1], "delete"), (ids[1], "cancel-delete")]  # fmt: skip
        assert [p for m, p in fake.requests if m == "POST"][0] == (
            f"/users/{ids[0]}/manage/lifecycle/disable")  # fmt: skip
        assert atlassian.KIND.deprovision is atlassian.deprovision
        assert atlassian.KIND.reactivate is atlassian.reactivate


def test_a_refused_or_unknown_account_change_is_a_clear_error() -> None:
    users = [atlassian_user(1)]
    account_id = str(users[0]["account_id"])
    with FakeAtlassian(users) as fake:
        fake.refuse[account_id] = 403
        with pytest.raises(ConnectorError, match="only managed accounts"):
            atlassian.deprovision(connector(fake.url), account_id)
        with pytest.raises(ConnectorError, match="no account 5b10ac8d82e05b22cc7d4e99"):
            atlassian.reactivate(connector(fake.url), "5b10ac8d82e05b22cc7d4e99")
        with pytest.raises(ConnectorError, match=r"refused the API key \(HTTP 401\)"):
            atlassian.deprovision(connector(fake.url, key="wrong"), account_id)
        with pytest.raises(ConnectorError, match="not an Atlassian account ID"):
            atlassian.deprovision(connector(fake.url), "../../orgs")
        assert users[0]["account_status"] == "active"
        assert len(fake.lifecycle) == 2  # the bad id never left


@pytest.mark.django_db
def test_a_sync_matches_accounts_to_people_and_keeps_their_products() -> None:
    wang = PersonFactory.create(name="王磊", email="wang.lei@example.cn")
    PersonFactory.create(name="User 0", email="user0@example.cn")
    with FakeAtlassian(demo_users()) as fake:
        made = connector_save(
            connector=None, subscription=SubscriptionFactory.create(seats_purchased=10),
            kind=Connector.Kind.ATLASSIAN, name="Atlassian demo", base_url=fake.url,
            config={"org_id": ORG_ID, "timeout": 5}, secrets={"api_key": API_KEY},
        )  # fmt: skip
        run = sync.sync_connector(made)
    assert run is not None and run.status == ConnectorRun.Status.SUCCEEDED, run and run.error
    matched = dict(Account.objects.values_list("display_name", "matched_by"))
    assert matched == {"User 0": "email", "User 1": "", "User 2": "", "User 3": "",
                       "王磊": "email"}  # fmt: skip
    assert Account.objects.get(display_name="王磊").person == wang
    first = Account.objects.get(display_name="User 0")
    assert first.modules == {"Jira Software": "2026-11-02T09:30:00+00:00",
                             "Confluence": "2026-10-15T00:00:00+00:00"}  # fmt: skip
    assert first.last_active_at is not None and first.last_active_at.isoformat().startswith(
        "2026-11-02T09:30")  # fmt: skip
    assert not Account.objects.get(display_name="User 1").active
