"""The SCIM connector's reader and deprovisioning against a real SCIM server (scim2-server),
and the faults of tests/fakes/scim.py."""

from __future__ import annotations

import pytest
from django.utils import translation

from integrations.connectors import http, scim
from integrations.connectors.entries import ConnectorError
from integrations.connectors.models import Connector
from tests.fakes.scim import FaultyScim, error, scim_user
from tests.integrations.connectors.scim_server import ScimServer, free_port, user


def connector(url: str, token: str = "connector-test-token", **config: object) -> Connector:
    made = Connector(name="Jira SCIM", kind=Connector.Kind.SCIM, base_url=url, config=config)
    made.set_secrets({"token": token})
    return made


def test_every_account_is_read_across_pages_with_its_fields(scim_server: ScimServer) -> None:
    people = [user(f"u{i}", email=f"u{i}@example.cn") for i in range(23)]
    people.append(user("wang", email="Wang.Lei@Example.cn", employee_no="E042",
                       mobile="+86 138 0000 0042", display="王磊", active=False))  # fmt: skip
    ids = scim_server.add(*people)
    accounts = scim.read(connector(scim_server.url, page_size=5))
    assert sorted(a.external_id for a in accounts) == sorted(ids)
    wang = next(a for a in accounts if a.user_name == "wang")
    assert (wang.display_name, wang.email, wang.employee_no, wang.mobile, wang.active) == (
        "王磊", "Wang.Lei@Example.cn", "E042", "+86 138 0000 0042", False)  # fmt: skip
    assert all(a.active for a in accounts if a.user_name != "wang")


def test_a_wrong_token_is_a_clear_error(scim_server: ScimServer) -> None:
    scim_server.add(user("u1"))
    with pytest.raises(ConnectorError, match="refused the connector's token") as caught:
        scim.read(connector(scim_server.url, token="wrong-token"))
    assert "wrong-token" not in str(caught.value)


def test_an_unreachable_tool_and_a_missing_token_are_clear_errors() -> None:
    with pytest.raises(ConnectorError, match="cannot be reached"):
        scim.read(connector(f"http://127.0.0.1:{free_port()}/v2"))
    with pytest.raises(ConnectorError, match="no API token"):
        scim.read(connector("http://127.0.0.1:1/v2", token=""))


def test_deprovisioning_deactivates_or_deletes_on_the_server(scim_server: ScimServer) -> None:
    kept, gone = scim_server.add(user("u1"), user("u2"))
    scim.deprovision(connector(scim_server.url), kept)
    assert scim_server.get(kept).json()["active"] is False
    deleting = connector(scim_server.url)
    deleting.deprovision = Connector.Deprovision.DELETE
    scim.deprovision(deleting, gone)
    assert scim_server.get(gone).status_code == 404
    with pytest.raises(ConnectorError, match="HTTP 404"):
        scim.deprovision(connector(scim_server.url), "no-such-id")


def test_a_429_is_waited_out_and_a_storm_of_them_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(scim.time, "sleep", waits.append)
    with FaultyScim([scim_user(i) for i in range(3)]) as fake:
        fake.fault = lambda n, start: (429, {"Retry-After": "7"}, b"") if n < 2 else None
        assert len(scim.read(connector(fake.url))) == 3
        assert waits == [7.0, 7.0]
        fake.fault = lambda n, start: (429, {"Retry-After": "3600"}, b"")
        with pytest.raises(ConnectorError, match="slow down"):
            scim.read(connector(fake.url))
    # Never longer than MAX_WAIT each, nor than TOTAL_WAIT in all (a worker's task time-out).
    assert waits[2:] == [http.MAX_WAIT] * int(http.TOTAL_WAIT // http.MAX_WAIT)


def test_a_500_halfway_fails_the_whole_read() -> None:
    with FaultyScim([scim_user(i) for i in range(10)]) as fake:
        fake.fault = lambda n, start: error(500, "boom") if start > 1 else None
        with pytest.raises(ConnectorError, match="HTTP 500"):
            scim.read(connector(fake.url, page_size=4))


def test_a_tool_that_does_not_answer_in_time() -> None:
    with FaultyScim([scim_user(1)]) as fake:
        fake.delay = 1.5
        with pytest.raises(ConnectorError, match="did not answer in time"):
            scim.read(connector(fake.url, timeout=1))


def test_pages_that_loop_end_the_read_instead_of_running_forever() -> None:
    with FaultyScim([scim_user(i) for i in range(3)]) as fake:
        looping = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                   "totalResults": 10**9, "startIndex": 1, "Resources": fake.users}  # fmt: skip
        fake.fault = lambda n, start: (200, {}, looping)
        assert len(scim.read(connector(fake.url, page_size=3))) == 3
        assert len(fake.requests) == 2  # the second page brought nothing new


def test_too_many_accounts_and_answers_that_are_not_scim() -> None:
    with FaultyScim([scim_user(i) for i in range(12)]) as fake:
        with pytest.raises(ConnectorError, match="more than 10 accounts"):
            scim.read(connector(fake.url, page_size=5, max_accounts=10))
        fake.fault = lambda n, start: (200, {}, b"<html>login</html>")
        with pytest.raises(ConnectorError, match="not SCIM"):
            scim.read(connector(fake.url))
        fake.fault = lambda n, start: (200, {}, {"Resources": "many"})
        with pytest.raises(ConnectorError, match="not SCIM"):
            scim.read(connector(fake.url))


def test_hostile_values_are_cleaned_cut_or_dropped() -> None:
    hostile = [
        scim_user(1, userName="evil\x00\x1b[31m name\u2028", displayName="名" * 10_000),
        scim_user(2, emails=[{"value": "not-an-email"}, {"value": "x" * 300 + "@example.cn"}]),
        scim_user(3, id="x" * 300),  # no usable id: skipped
        scim_user(4, active="false"),  # not the JSON false: still active
        "not an object",
    ]
    with FaultyScim(hostile) as fake:  # type: ignore[arg-type]
        accounts = {a.external_id: a for a in scim.read(connector(fake.url))}
    assert set(accounts) == {"id-1", "id-2", "id-4"}
    assert accounts["id-1"].user_name == "evil [31m name"
    assert len(accounts["id-1"].display_name) == scim.MAX_NAME
    assert accounts["id-2"].email == ""
    assert accounts["id-4"].active


def test_last_activity_is_read_from_the_configured_attribute() -> None:
    urn = "urn:ietf:params:scim:schemas:extension:slack:profile:2.0:User"
    users = [scim_user(1, **{urn: {"lastLogin": "2026-11-30T08:15:00Z"}}), scim_user(2)]
    with FaultyScim(users) as fake:
        read = scim.read(connector(fake.url, last_active_attribute=f"{urn}.lastLogin"))
    stamps = {a.external_id: a.last_active_at for a in read}
    assert stamps["id-1"] is not None and stamps["id-1"].isoformat() == "2026-11-30T08:15:00+00:00"
    assert stamps["id-2"] is None


def test_errors_are_in_the_reader_language(scim_server: ScimServer) -> None:
    with translation.override("zh-hans"), pytest.raises(ConnectorError, match="拒绝了连接器的令牌"):
        scim.read(connector(scim_server.url, token="wrong-token"))
