"""The Feishu (飞书) tenant connector against the fake open platform (tests/fakes/feishu.py):
members, their activity per module from admin_user_stats, Feishu's errors and rate limits,
suspending and unsuspending, and one sync end to end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from integrations.connectors import http, services, sync
from integrations.connectors.entries import ConnectorError, ExternalAccount
from integrations.connectors.kinds import KINDS
from integrations.connectors.models import Account, Connector, ConnectorRun
from integrations.connectors.vendors import feishu
from tests.factories import PersonFactory, SubscriptionFactory
from tests.fakes.feishu import FakeFeishu

STATS = "/open-apis/admin/v1/admin_user_stats"


def yesterday() -> dt.date:
    return dt.datetime.now(feishu.CHINA).date() - dt.timedelta(days=1)


@pytest.fixture
def fake() -> Iterator[FakeFeishu]:
    server = FakeFeishu()
    server.add_department("od-rd", "研发部")
    server.add_department("od-qa", "测试组", parent="od-rd")
    server.add_user("boss", "王总", enterprise_email="Boss@Corp.example", email="boss@gmail.com")
    server.add_user("wang", "王磊", department="od-rd", mobile="+8613800000001")
    server.add_user("li", "李娜", department="od-qa", status={"is_frozen": True})
    server.add_user("new", "新人", department="od-qa", status={"is_activated": False})
    server.add_user("gone", "离职", department="od-rd", status={"is_resigned": True})
    with server:
        yield server


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(feishu.time, "sleep", waited.append)
    return waited


def connector(fake: FakeFeishu, secret: str | None = None, **config: object) -> Connector:
    made = Connector(name="飞书", kind=Connector.Kind.FEISHU, base_url=fake.base_url,
                     config={"app_id": fake.app_id, **config})  # fmt: skip
    made.set_secrets({"app_secret": fake.app_secret if secret is None else secret})
    return made


def by_id(accounts: list[ExternalAccount]) -> dict[str, ExternalAccount]:
    return {a.external_id: a for a in accounts}


def test_members_are_read_with_their_status_and_activity_per_module(fake: FakeFeishu) -> None:
    day = yesterday()
    for i in range(30):  # 30 users x 3 days: the statistics come in two pages of 60
        fake.add_user(f"u{i:02d}", f"员工{i}", department="od-qa")
        for back in range(3):
            fake.add_stat(f"u{i:02d}", day - dt.timedelta(days=back), im_active_flag=1)
    fake.add_stat("wang", day - dt.timedelta(days=4), docs_active_flag=1, im_active_flag=1,
                  last_active_time="2026-03-01 22:21:28")  # fmt: skip
    fake.add_stat("wang", day - dt.timedelta(days=1), vc_active_flag=1, im_active_flag=1,
                  last_active_time="2026-03-02 08:00:00")  # fmt: skip
    fake.add_stat("wang", day - dt.timedelta(days=9), cal_active_flag=1)  # before the days read
    fake.add_stat("stranger", day, im_active_flag=1)  # outside the app's contact scope
    accounts = by_id(feishu.read(connector(fake, days=7)))
    assert set(accounts) == {"boss", "wang", "li", "new", "gone", *(f"u{i:02d}" for i in range(30))}
    boss, wang = accounts["boss"], accounts["wang"]
    assert (boss.email, boss.display_name, boss.employee_no, boss.active) == (
        "Boss@Corp.example", "王总", "E-boss", True)  # fmt: skip
    assert (wang.email, wang.mobile, wang.user_name) == (
        "wang@example.com", "+8613800000001", "wang@example.com")  # fmt: skip
    assert [accounts[k].active for k in ("li", "new", "gone")] == [False, False, False]
    china = feishu.CHINA
    assert wang.last_active_at == dt.datetime(2026, 3, 2, 8, 0, tzinfo=china)
    assert wang.modules == {
        "Messenger": dt.datetime.combine(day - dt.timedelta(days=1), dt.time.min, tzinfo=china),
        "Docs": dt.datetime.combine(day - dt.timedelta(days=4), dt.time.min, tzinfo=china),
        "Calendar": None,  # used only before the days read
        "Meetings": dt.datetime.combine(day - dt.timedelta(days=1), dt.time.min, tzinfo=china),
    }
    assert accounts["u07"].modules["Messenger"] == dt.datetime.combine(day, dt.time.min, china)
    assert boss.modules == {} and boss.last_active_at is None  # not in the statistics
    asked = fake.api_calls("admin_user_stats")
    assert len(asked) == 2 and asked[0]["user_id_type"] == "user_id"
    start, end = dt.date.fromisoformat(asked[0]["start_date"]), asked[0]["end_date"]
    assert end in {day.isoformat(), yesterday().isoformat()} and (
        dt.date.fromisoformat(end) - start).days == 6  # fmt: skip
    assert len(fake.api_calls("find_by_department")) == 3  # the root and both departments


def test_hostile_values_are_cleaned_cut_or_dropped(fake: FakeFeishu) -> None:
    fake.add_user("evil", "evil\x00\x1b[31m name\u2028" + "名" * 10_000, department="od-rd",
                  email="x" * 300 + "@example.cn", enterprise_email="not an email",
                  mobile="1" * 200, employee_no={"no": 1}, status={"is_frozen": "true"})  # fmt: skip
    fake.add_user("z" * 300, "too long an id", department="od-rd")  # skipped
    day = yesterday()
    fake.add_stat("evil", day, im_active_flag="1", docs_active_flag=True, vc_active_flag=1,
                  last_active_time="0001-01-01 00:00:00")  # fmt: skip
    fake.add_stat("evil", day - dt.timedelta(days=1), last_active_time="2026-13-45 99:00")
    fake.add_stat("boss", day, suite_active_flag=1, last_active_time={"at": "now"})
    fake.add_stat("wang", day, last_active_time="1767225600")
    fake.add_stat("li", day, last_active_time="2026-01-05T10:00:00Z")
    accounts = by_id(feishu.read(connector(fake)))
    evil = accounts["evil"]
    assert "z" * 300 not in accounts and evil.display_name.startswith("evil [31m name 名")
    assert len(evil.display_name) == feishu.MAX_NAME
    assert (evil.email, evil.mobile, evil.employee_no, evil.user_name) == ("", "", "", "")
    assert evil.active  # "true" is not the JSON true
    assert evil.last_active_at is None
    assert evil.modules["Messenger"] is None and evil.modules["Docs"] is None  # not the int 1
    assert evil.modules["Meetings"] == dt.datetime.combine(day, dt.time.min, feishu.CHINA)
    assert accounts["boss"].last_active_at == dt.datetime.combine(day, dt.time.min, feishu.CHINA)
    assert accounts["wang"].last_active_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert accounts["li"].last_active_at == dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)


def test_a_wrong_app_secret_or_missing_settings_are_clear_errors(fake: FakeFeishu) -> None:
    with pytest.raises(ConnectorError, match="refused the app ID or app secret") as caught:
        feishu.read(connector(fake, secret="wrong-secret"))
    assert "10014" in str(caught.value) and "wrong-secret" not in str(caught.value)
    with pytest.raises(ConnectorError, match="needs an app ID and an app secret"):
        feishu.read(connector(fake, secret=""))
    with pytest.raises(ConnectorError, match="not a number"):
        feishu.read(connector(fake, days="many"))
    assert fake.api_calls("find_by_department") == []


def test_a_refusal_names_feishus_code_and_a_missing_user_id_the_permission(
    fake: FakeFeishu,
) -> None:
    fake.fault = lambda m, path, q: (
        (400, {"code": 1051002, "msg": "request to exceed authority"}) if path == STATS else None
    )
    with pytest.raises(ConnectorError, match="code 1051002: request to exceed authority"):
        feishu.read(connector(fake))
    fake.fault = None
    fake.users["wang"]["user_id"] = ""
    with pytest.raises(ConnectorError, match=r"contact:user\.employee_id:readonly"):
        feishu.read(connector(fake))


def test_a_500_halfway_fails_the_whole_read(fake: FakeFeishu) -> None:
    for i in range(70):
        fake.add_stat("wang", yesterday() - dt.timedelta(days=i % 5), im_active_flag=1)
        fake.add_stat("boss", yesterday() - dt.timedelta(days=i % 5), im_active_flag=1)
    fake.fault = lambda m, path, q: (500, {}) if path == STATS and q.get("page_token") else None
    with pytest.raises(ConnectorError, match="HTTP 500"):
        feishu.read(connector(fake))
    assert len(fake.api_calls("admin_user_stats")) == 2


def test_an_expired_tenant_token_is_fetched_again(fake: FakeFeishu) -> None:
    fake.token_calls = 2
    assert len(feishu.read(connector(fake))) == 5
    assert len(fake.api_calls("tenant_access_token/internal")) == 3


def test_a_rate_limit_is_waited_out_and_a_storm_of_them_fails(
    fake: FakeFeishu, sleeps: list[float]
) -> None:
    fake.rate_limited, fake.rate_limit_reset = 2, "3"
    assert len(feishu.read(connector(fake))) == 5
    fake.rate_limited, fake.legacy_rate_limit = 1, True  # HTTP 400 with code 99991400
    assert len(feishu.read(connector(fake))) == 5
    assert sleeps == [3.0, 3.0, 3.0]
    fake.rate_limited, fake.rate_limit_reset, fake.legacy_rate_limit = 10**6, "3600", False
    with pytest.raises(ConnectorError, match="slow down"):
        feishu.read(connector(fake))
    assert sleeps[3:] == [http.MAX_WAIT] * int(http.TOTAL_WAIT // http.MAX_WAIT)


def test_pages_that_loop_end_the_read_with_an_error(fake: FakeFeishu) -> None:
    page = {"code": 0, "msg": "ok", "data": {"has_more": True, "page_token": "again",
                                             "items": [{"user_id": "wang", "date": "x"}]}}  # fmt: skip
    fake.fault = lambda m, path, q: (200, page) if path == STATS else None
    with pytest.raises(ConnectorError, match="did not end"):
        feishu.read(connector(fake))
    assert len(fake.api_calls("admin_user_stats")) == 2  # the second "again" is the loop


def test_too_many_members_and_answers_that_are_not_feishus(fake: FakeFeishu) -> None:
    with pytest.raises(ConnectorError, match="more than 3 accounts"):
        feishu.read(connector(fake, max_accounts=3))
    fake.fault = lambda m, path, q: (200, ["not", "an", "object"]) if path == STATS else None
    with pytest.raises(ConnectorError, match="not the documented JSON"):
        feishu.read(connector(fake))


def test_suspending_and_bringing_back_are_recorded(fake: FakeFeishu) -> None:
    made = connector(fake)
    feishu.deprovision(made, "wang")
    assert not by_id(feishu.read(made))["wang"].active
    feishu.reactivate(made, "wang")
    assert by_id(feishu.read(made))["wang"].active
    assert fake.patches == [("wang", {"is_frozen": True}), ("wang", {"is_frozen": False})]
    assert {q["user_id_type"] for _m, path, q in fake.calls if "/users/wang" in path} == {"user_id"}
    with pytest.raises(ConnectorError, match="code 41050"):
        feishu.deprovision(made, "nobody/../x")
    made.deprovision = Connector.Deprovision.DELETE
    with pytest.raises(ConnectorError, match="never deleted"):
        feishu.deprovision(made, "wang")
    assert len(fake.patches) == 2
    assert KINDS[Connector.Kind.FEISHU].deprovision is feishu.deprovision


@pytest.mark.django_db
def test_a_sync_matches_members_and_stores_their_modules(fake: FakeFeishu) -> None:
    boss = PersonFactory.create(name="王总", email="boss@corp.example")
    wang = PersonFactory.create(name="王磊", email="", mobile="+8613800000001")
    fake.users["wang"]["email"] = ""
    fake.add_stat("wang", yesterday(), im_active_flag=1, docs_active_flag=1,
                  last_active_time=f"{yesterday()} 18:30:00")  # fmt: skip
    settings: dict[str, Any] = {"app_id": fake.app_id, "days": 3, "timeout": 5}
    made = services.connector_save(
        connector=None, subscription=SubscriptionFactory.create(seats_purchased=10),
        kind="feishu", name="飞书 tenant", base_url=fake.base_url, config=settings,
        secrets={"app_secret": fake.app_secret},
    )  # fmt: skip
    run = sync.sync_connector(made)
    assert run is not None and run.status == ConnectorRun.Status.SUCCEEDED, run and run.error
    matched = dict(Account.objects.values_list("external_id", "matched_by"))
    assert matched == {"boss": "email", "wang": "mobile", "li": "", "new": "", "gone": ""}
    stored = Account.objects.get(external_id="wang")
    assert stored.person == wang and Account.objects.get(external_id="boss").person == boss
    midnight = dt.datetime.combine(yesterday(), dt.time.min, feishu.CHINA).isoformat()
    assert stored.modules == {"Messenger": midnight, "Docs": midnight, "Calendar": None,
                              "Meetings": None}  # fmt: skip
    assert stored.last_active_at is not None and run.counts["seats_created"] == 2
