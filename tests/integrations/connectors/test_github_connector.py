"""The GitHub organisation connector against tests/fakes/github.py: members by pages, Copilot
seats as a module, profiles, rate limits, loops, removing and re-inviting a member, and a sync
of a subscription from end to end."""

from __future__ import annotations

import datetime as dt

import pytest

from integrations.connectors import http, services, sync
from integrations.connectors.entries import ConnectorError
from integrations.connectors.models import Account, Connector, ConnectorRun
from integrations.connectors.vendors import github
from tests.factories import PersonFactory, SubscriptionFactory
from tests.fakes.github import ORG, TOKEN, FakeGitHub, member, seat


def connector(url: str, token: str = TOKEN, **config: object) -> Connector:
    made = Connector(name="GitHub", kind=Connector.Kind.GITHUB, base_url=url,
                     config={"organization": ORG, **config})  # fmt: skip
    made.set_secrets({"token": token})
    return made


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(github.time, "sleep", slept.append)
    return slept


def test_every_member_is_read_across_linked_pages_with_profiles() -> None:
    with FakeGitHub([member(i) for i in range(230)]) as fake:
        fake.profiles["dev7"] = {"name": "王磊", "email": "Wang.Lei@Example.cn"}
        fake.profiles["dev8"] = {"suspended_at": "2026-02-01T00:00:00Z"}  # GHES
        accounts = github.read(connector(fake.url))
        pages = [p for m, p in fake.calls if "members" in p]
    assert [a.external_id for a in accounts] == [str(1000 + i) for i in range(230)]
    assert pages[0] == "/orgs/acme/members?per_page=100"
    assert pages[1:] == [f"/organizations/9001/members?per_page=100&page={n}" for n in (2, 3)]
    wang = accounts[7]
    assert (wang.user_name, wang.display_name, wang.email) == (
        "dev7",
        "王磊",
        "Wang.Lei@Example.cn",
    )
    assert not accounts[8].active and all(a.active for a in accounts if a is not accounts[8])
    assert accounts[0].email == "" and accounts[0].modules == {}


def test_copilot_seats_give_the_module_and_the_last_activity() -> None:
    people = [member(i) for i in range(4)]
    seats = [seat(people[0], "2026-11-30T08:15:00Z"), seat(people[1], None),
             seat(member(99), "2026-11-01T00:00:00Z"),  # not a member: ignored
             seat({"id": 5, "name": "a team", "slug": "team"}, None)]  # fmt: skip
    with FakeGitHub(people, seats) as fake:
        accounts = {a.user_name: a for a in github.read(connector(fake.url))}
        stamp = dt.datetime(2026, 11, 30, 8, 15, tzinfo=dt.UTC)
        assert accounts["dev0"].modules == {"Copilot": stamp}
        assert accounts["dev0"].last_active_at == stamp
        assert accounts["dev1"].modules == {"Copilot": None} and not accounts["dev1"].last_active_at
        assert accounts["dev2"].modules == {} and accounts["dev2"].last_active_at is None
        fake.copilot_status = 404  # no Copilot Business here: members without modules
        assert all(a.modules == {} for a in github.read(connector(fake.url)))
        fake.copilot_status = 403
        with pytest.raises(ConnectorError, match="Copilot seats"):
            github.read(connector(fake.url))
        fake.calls.clear()
        assert len(github.read(connector(fake.url, copilot=False))) == 4
        assert not [p for p in fake.paths() if "copilot" in p]


def test_profile_lookups_are_bounded() -> None:
    with FakeGitHub([member(i) for i in range(6)]) as fake:
        assert len(github.read(connector(fake.url, profile_lookups=2))) == 6
        assert fake.paths().count("/users/dev0") == 1
        assert len([p for p in fake.paths() if p.startswith("/users/")]) == 2
        fake.calls.clear()
        github.read(connector(fake.url, profile_lookups=0))
        assert not [p for p in fake.paths() if p.startswith("/users/")]


def test_hostile_values_are_cleaned_cut_or_skipped() -> None:
    hostile = [
        member(1, login="evil\x00\x1b[31m/../x\u2028"),
        member(2),
        member(3, id="1003"), member(4, id=True), member(5, id=-5),  # no usable id: skipped
        "not an object",
        member(6, id=10**300),
    ]  # fmt: skip
    with FakeGitHub(hostile) as fake:
        fake.profiles["dev2"] = {"name": "名" * 10_000, "email": "x" * 300 + "@example.cn"}
        accounts = {a.external_id: a for a in github.read(connector(fake.url))}
        assert not [p for p in fake.paths() if "evil" in p]  # never put in a path
        for answer in ({"message": "Moved"}, "members", b"<html>login</html>"):
            fake.members_body = answer
            with pytest.raises(ConnectorError, match="not the list|not JSON"):
                github.read(connector(fake.url))
    assert set(accounts) == {"1001", "1002"}
    assert accounts["1001"].user_name == "evil [31m/../x"
    assert len(accounts["1002"].display_name) == github.MAX_NAME
    assert accounts["1002"].email == ""


def test_a_bad_token_or_setting_is_a_clear_error() -> None:
    with FakeGitHub([member(1)]) as fake:
        with pytest.raises(ConnectorError, match="refused the token") as caught:
            github.read(connector(fake.url, token="wrong-token"))
        assert "wrong-token" not in str(caught.value)
        with pytest.raises(ConnectorError, match="no API token"):
            github.read(connector(fake.url, token=""))
        with pytest.raises(ConnectorError, match="organisation's login"):
            github.read(connector(fake.url, organization="acme/../../admin"))
        with pytest.raises(ConnectorError, match="not a number"):
            github.read(connector(fake.url, max_accounts="many"))
        with pytest.raises(ConnectorError, match="no such address"):
            github.read(connector(fake.url, organization="other"))


def test_a_500_halfway_fails_the_whole_read() -> None:
    with FakeGitHub([member(i) for i in range(250)]) as fake:
        fake.fail_page = 2
        with pytest.raises(ConnectorError, match="HTTP 500"):
            github.read(connector(fake.url))


def test_rate_limits_are_waited_out_and_a_storm_fails(waits: list[float]) -> None:
    with FakeGitHub([member(i) for i in range(3)]) as fake:
        fake.primary_limited, fake.reset_in = 2, 30
        assert len(github.read(connector(fake.url))) == 3
        assert len(waits) == 2 and all(29 <= w <= 32 for w in waits)
        fake.secondary_limited, fake.retry_after = 1, "7"
        assert len(github.read(connector(fake.url))) == 3
        assert waits[2:] == [7.0]
        fake.primary_limited, fake.reset_in = 100, 3600
        with pytest.raises(ConnectorError, match="rate limit"):
            github.read(connector(fake.url))
        assert waits[3:] == [http.MAX_WAIT] * int(
            http.TOTAL_WAIT // http.MAX_WAIT
        )  # never longer than MAX_WAIT


def test_a_403_that_is_no_rate_limit_is_not_retried(waits: list[float]) -> None:
    with FakeGitHub([member(1)]) as fake:
        fake.change_status = 403
        with pytest.raises(ConnectorError, match="lacks a permission"):
            github.deprovision(connector(fake.url), "1001")
        assert waits == [] and fake.paths("DELETE") == ["/orgs/acme/memberships/dev1"]


def test_pages_that_loop_end_and_too_many_members_fail() -> None:
    with FakeGitHub([member(i) for i in range(250)]) as fake:
        fake.loop_at = fake.loop_to = 2  # page 2 says its next is page 2: seen, the end
        assert len(github.read(connector(fake.url, copilot=False, profile_lookups=0))) == 200
        assert len(fake.paths()) == 2
        fake.calls.clear()
        fake.loop_to = 1  # page 2 says its next is page 1 (another address): nothing new
        assert len(github.read(connector(fake.url, copilot=False, profile_lookups=0))) == 200
        assert len(fake.paths()) == 3
        with pytest.raises(ConnectorError, match="more than 150 accounts"):
            github.read(connector(fake.url, max_accounts=150))


def test_a_next_link_to_another_host_is_not_followed() -> None:
    with FakeGitHub([member(i) for i in range(150)]) as fake, FakeGitHub([]) as other:
        fake.link_host = other.url  # page 2 is said to be on another server
        with pytest.raises(ConnectorError, match="not followed"):
            github.read(connector(fake.url))
        assert other.calls == []  # the token never went there


def test_revoking_removes_the_member_and_reactivating_invites_them_back() -> None:
    with FakeGitHub([member(1), member(2), member(3)]) as fake:
        fake.owners.add("dev2")
        github.deprovision(connector(fake.url), "1001")
        assert fake.paths() == ["/user/1001", "/orgs/acme/memberships/dev1"]
        assert fake.paths("DELETE") == ["/orgs/acme/memberships/dev1"]
        assert [m["login"] for m in fake.members] == ["dev2", "dev3"]
        github.deprovision(connector(fake.url), "1001")  # gone already: nothing to do
        assert len(fake.paths("DELETE")) == 1
        with pytest.raises(ConnectorError, match="dev2 is an owner"):
            github.deprovision(connector(fake.url), "1002")
        with pytest.raises(ConnectorError, match="not a GitHub user id"):
            github.deprovision(connector(fake.url), "../1002")
        with pytest.raises(ConnectorError, match="no user 4242"):
            github.deprovision(connector(fake.url), "4242")
        assert len(fake.paths("DELETE")) == 1
        github.reactivate(connector(fake.url), "1001")
        assert fake.paths("PUT") == ["/orgs/acme/memberships/dev1"]
        assert fake.bodies == [{"role": "member"}]
        github.reactivate(connector(fake.url), "1003")  # a member already (never demoted)
        github.reactivate(connector(fake.url), "1001")  # invited already: pending
        assert len(fake.paths("PUT")) == 1
        fake.invited.clear()
        fake.change_status = 422  # GitHub refuses the invitation
        with pytest.raises(ConnectorError, match="HTTP 422"):
            github.reactivate(connector(fake.url), "1001")


def test_the_kind_declares_its_settings_and_secret() -> None:
    assert github.KIND.secrets == ("token",)
    assert github.KIND.deprovision is github.deprovision
    keys = {s.key for s in github.KIND.settings}
    assert keys == {
        "token",
        "organization",
        "copilot",
        "profile_lookups",
        "timeout",
        "max_accounts",
    }


@pytest.mark.django_db
def test_a_sync_stores_the_members_and_matches_them_by_e_mail() -> None:
    wang = PersonFactory.create(name="王磊", email="wang.lei@example.cn")
    people = [member(i) for i in range(5)]
    with FakeGitHub(people, [seat(people[0], "2026-11-30T08:15:00Z")]) as fake:
        fake.profiles["dev0"] = {"name": "Wang Lei", "email": "Wang.Lei@Example.cn"}
        saved = services.connector_save(
            connector=None, subscription=SubscriptionFactory.create(seats_purchased=10),
            kind="github", name="GitHub acme", base_url=fake.url,
            config={"organization": ORG, "copilot": True, "timeout": 5},
            secrets={"token": TOKEN},
        )  # fmt: skip
        run = sync.sync_connector(saved)
    assert run is not None and run.status == ConnectorRun.Status.SUCCEEDED, run and run.error
    stored = {a.user_name: a for a in Account.objects.filter(connector=saved)}
    assert set(stored) == {f"dev{i}" for i in range(5)}
    assert stored["dev0"].person == wang and stored["dev0"].matched_by == "email"
    assert stored["dev0"].modules == {"Copilot": "2026-11-30T08:15:00+00:00"}
    assert all(stored[f"dev{i}"].person is None for i in range(1, 5))
    assert run.counts["accounts"] == 5 and run.counts["unknown"] == 4
