"""The LDAP / AD reader against a real slapd (conftest.py): shapes of a full pull, paging past
the server's size limit, TLS (ldaps, StartTLS, a wrong CA, a wrong host name), the failures
(bad password, base DN, a stopped or hung server), incremental pulls and their cursor,
deletions, leavers, and hostile values. No database needed."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ldap3 import NONE, Connection, Server

from integrations.directory import ldap
from integrations.directory.entries import ExternalPerson, Snapshot, SourceError
from tests.integrations.directory.conftest import CORP, SIZE_LIMIT, STAFF, FakeSource
from tests.integrations.ldap_server import (
    STAMP,
    SUFFIX,
    LdapServer,
    department_id,
    ldif_attr,
    person_id,
)

Make = Callable[..., FakeSource]


def by_uid(snapshot: Snapshot) -> dict[str, ExternalPerson]:
    """The people of a pull by their uid (u000003 ...)."""
    return {p.attributes["dn"].split(",")[0][4:]: p for p in snapshot.people}


def wait_next_second() -> None:
    """Stamps have one-second steps: what follows is newer than anything before."""
    time.sleep(1.05 - time.time() % 1)


def next_second(cursor: str) -> str:
    """The cursor a pull would have left one second later (with nothing newer to see): an
    incremental pull from the full pull's own cursor also reads again every entry stamped in
    that second (``>=``), here the whole subtree made a moment before."""
    return ldap.format_time(stamp(cursor) + dt.timedelta(seconds=1))


def stamp(cursor: str) -> dt.datetime:
    value = ldap.parse_time(cursor)
    assert value is not None
    return value


# --- a full pull ------------------------------------------------------------------------------


def test_full_pull_reads_people_departments_managers(ldap_source: Make) -> None:
    snap = ldap.read(ldap_source(), full=True)

    assert len(snap.people) == 60 and len(snap.departments) == 12
    assert snap.present_people == {person_id(i) for i in range(60)}
    assert snap.present_departments == {department_id(d) for d in range(12)}
    assert snap.cursor == STAMP  # the newest modifyTimestamp read
    depts = {d.external_id: d for d in snap.departments}
    # ou=Staff (the base) is no department: departments 0 is top-level, 1..10 under it, 11 under 1
    assert depts[department_id(0)].parent_id is None
    assert depts[department_id(0)].name == "Dept 00000"
    assert depts[department_id(7)].parent_id == department_id(0)
    assert depts[department_id(11)].parent_id == department_id(1)
    order = [d.external_id for d in snap.departments]
    assert order.index(department_id(1)) < order.index(department_id(11))  # parents first

    people = by_uid(snap)
    p = people["u000031"]  # department 31 % 12 = 7, headed by person 7
    assert p == ExternalPerson(
        external_id=person_id(31),
        name="Person 000031",  # displayName before cn
        department_id=department_id(7),
        employee_no="E000031",
        email="u000031@example.org",
        mobile="+1 555 000031",
        manager_id=person_id(7),
        active=True,
    )
    assert p.attributes["dn"] == f"uid=u000031,ou=Dept 00007,ou=Dept 00000,{STAFF}"
    assert people["u000007"].manager_id == person_id(0)  # a head reports to the parent's head
    assert people["u000000"].manager_id is None
    assert not people["u000019"].active  # employeeType: left, through disabled_filter
    assert sum(not p.active for p in snap.people) == 6


def test_full_pull_ignores_the_cursor(ldap_source: Make) -> None:
    snap = ldap.read(ldap_source(cursor="20990101000000Z"), full=True)
    assert len(snap.people) == 60


def test_paging_reads_past_the_size_limit(ldap_server: LdapServer, ldap_source: Make) -> None:
    conn = Connection(
        Server(ldap_server.url, get_info=NONE),
        ldap_server.reader_dn,
        ldap_server.reader_password,
        auto_bind=True,
    )
    conn.search(STAFF, "(objectClass=inetOrgPerson)", attributes=["entryUUID"])
    assert conn.result["description"] == "sizeLimitExceeded"  # the limit holds without paging
    assert len(conn.response) == SIZE_LIMIT
    conn.unbind()

    for page_size in (10, 500):
        snap = ldap.read(ldap_source(page_size=page_size), full=True)
        assert len(snap.people) == 60 and len(snap.present_people or ()) == 60


def test_ldaps_with_the_ca_file(ldap_server: LdapServer, ldap_source: Make) -> None:
    source = ldap_source(url=ldap_server.ldaps_url, ca_file=str(ldap_server.ca_file))
    assert len(ldap.read(source, full=True).people) == 60


def test_start_tls(ldap_server: LdapServer, ldap_source: Make) -> None:
    url = f"ldap://localhost:{ldap_server.port}"
    source = ldap_source(url=url, start_tls=True, ca_file=str(ldap_server.ca_file))
    assert len(ldap.read(source, full=True).people) == 60


@pytest.mark.parametrize("start_tls", [False, True])
def test_a_wrong_ca_fails(ldap_server: LdapServer, ldap_source: Make, start_tls: bool) -> None:
    url = f"ldap://localhost:{ldap_server.port}" if start_tls else ldap_server.ldaps_url
    for ca in (str(ldap_server.other_ca_file), ""):  # a CA that signed nothing; the system's
        with pytest.raises(SourceError, match="TLS") as caught:
            ldap.read(ldap_source(url=url, start_tls=start_tls, ca_file=ca), full=True)
        assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)


def test_a_certificate_for_another_host_fails(ldap_server: LdapServer, ldap_source: Make) -> None:
    """The CA is right, but the certificate names localhost and 127.0.0.1, not 127.0.0.2."""
    url = f"ldaps://127.0.0.2:{ldap_server.ldaps_port}"
    with pytest.raises(SourceError, match="not for this host"):
        ldap.read(ldap_source(url=url, ca_file=str(ldap_server.ca_file)), full=True)


def test_an_unreadable_ca_file_fails(ldap_server: LdapServer, ldap_source: Make) -> None:
    with pytest.raises(SourceError, match="CA file"):
        ldap.read(ldap_source(url=ldap_server.ldaps_url, ca_file="/nonexistent.pem"), full=True)


# --- failures ---------------------------------------------------------------------------------


def test_a_wrong_password_fails_without_showing_it(ldap_source: Make) -> None:
    secret = "Wrong-Pa55word-xyz"
    with pytest.raises(SourceError, match="refused the bind") as caught:
        ldap.read(ldap_source(password=secret), full=True)
    shown = [str(caught.value), repr(caught.value), str(caught.value.__context__)]
    assert not any(secret in text for text in shown)


def test_a_bind_dn_without_password_fails(ldap_source: Make) -> None:
    with pytest.raises(SourceError, match="no bind password"):
        ldap.read(ldap_source(password=""), full=True)


@pytest.mark.parametrize(
    "config", [{"url": "http://x"}, {"url": "ldap://"}, {"base_dn": ""}, {"timeout": "soon"}]
)
def test_bad_settings_fail(ldap_source: Make, config: dict[str, str]) -> None:
    with pytest.raises(SourceError):
        ldap.read(ldap_source(**config), full=True)


def test_a_wrong_base_dn_fails(ldap_source: Make) -> None:
    with pytest.raises(SourceError, match="no such base DN"):
        ldap.read(ldap_source(base_dn=f"ou=Nowhere,{SUFFIX}"), full=True)


def test_a_stopped_server_fails(tmp_path: Path, ldap_source: Make) -> None:
    server = LdapServer(tmp_path).start()
    server.stop()
    with pytest.raises(SourceError, match="cannot be reached"):
        ldap.read(ldap_source(url=server.url), full=True)


def test_a_hung_server_times_out(tmp_path: Path, ldap_source: Make) -> None:
    with LdapServer(tmp_path) as server:
        server.pause()  # connections are accepted, nothing answers
        for url, ca in ((server.url, ""), (server.ldaps_url, str(server.ca_file))):
            t0 = time.monotonic()
            with pytest.raises(SourceError, match="did not answer"):
                ldap.read(ldap_source(url=url, ca_file=ca, timeout=1), full=True)
            assert time.monotonic() - t0 < 5


def test_a_time_out_halfway_returns_nothing(
    ldap_server: LdapServer, ldap_source: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The departments were read; the server hangs before the people: no partial snapshot."""
    departments = ldap._Pull.departments

    def then_hang(self: ldap._Pull) -> Any:
        found = departments(self)
        ldap_server.pause()
        return found

    monkeypatch.setattr(ldap._Pull, "departments", then_hang)
    try:
        with pytest.raises(SourceError, match="did not answer"):
            ldap.read(ldap_source(timeout=1), full=True)
    finally:
        ldap_server.resume()


# --- incremental pulls ------------------------------------------------------------------------


def test_incremental_pull_returns_changes_and_sees_deletions(
    ldap_server: LdapServer, ldap_source: Make, subtree: Callable[..., str]
) -> None:
    base = subtree(people=8, departments=3)
    source = ldap_source(base_dn=base, overlap_seconds=0)
    first = ldap.read(source, full=True)
    assert len(first.people) == 8 and len(first.departments) == 3
    ids = {uid: p.external_id for uid, p in by_uid(first).items()}
    dept_dn = f"ou=Dept 00001,ou=Dept 00000,{base}"
    wait_next_second()
    ldap_server.modify(f"uid=u000004,{dept_dn}", mobile="+49 30 1234")
    ldap_server.delete(f"uid=u000007,{dept_dn}")
    ldap_server.add(
        f"dn: uid=new,{dept_dn}\nobjectClass: inetOrgPerson\nuid: new\ncn: New Person\nsn: P\n"
        f"manager: uid=u000001,{dept_dn}\n"
    )

    source.cursor = first.cursor
    assert {"u000004", "new"} < set(by_uid(ldap.read(source, full=False)))
    source.cursor = next_second(first.cursor)
    snap = ldap.read(source, full=False)

    people = by_uid(snap)
    assert set(people) == {"u000004", "new"}  # only what changed
    assert people["u000004"].mobile == "+49 30 1234"
    assert people["new"].manager_id == ids["u000001"]  # resolved through the id-only listing
    assert people["new"].department_id == by_uid(first)["u000001"].department_id
    assert snap.departments == []  # none changed ...
    assert snap.present_departments == first.present_departments  # ... and none gone
    assert snap.present_people == (set(ids.values()) - {ids["u000007"]}) | {
        people["new"].external_id
    }
    assert snap.cursor > first.cursor

    # Nothing changed since: the cursor's own second is read again (>=), the cursor stays.
    source.cursor = snap.cursor
    again = ldap.read(source, full=False)
    assert set(by_uid(again)) == {"u000004", "new"} and again.cursor == snap.cursor


def test_the_overlap_reads_recent_changes_again(
    ldap_server: LdapServer, ldap_source: Make, subtree: Callable[..., str]
) -> None:
    base = subtree(people=3, departments=1)
    first = ldap.read(ldap_source(base_dn=base), full=True)  # stamped now
    cursor = ldap.format_time(stamp(first.cursor) + dt.timedelta(seconds=30))  # after every change
    assert (
        ldap.read(ldap_source(base_dn=base, overlap_seconds=0, cursor=cursor), full=False).people
        == []
    )
    snap = ldap.read(ldap_source(base_dn=base, cursor=cursor), full=False)  # 60 s overlap
    assert len(snap.people) == 3 and snap.cursor == cursor


def test_an_unreadable_cursor_makes_a_full_pull(ldap_source: Make) -> None:
    snap = ldap.read(ldap_source(cursor="yesterday"), full=False)
    assert len(snap.people) == 60 and snap.cursor == STAMP


def test_a_person_disabled_since_the_cursor(
    ldap_server: LdapServer, ldap_source: Make, subtree: Callable[..., str]
) -> None:
    base = subtree(people=4, departments=1)
    source = ldap_source(base_dn=base, overlap_seconds=0)
    first = ldap.read(source, full=True)
    assert all(p.active for p in first.people)
    wait_next_second()
    ldap_server.modify(f"uid=u000002,ou=Dept 00000,{base}", employeeType="left")
    source.cursor = next_second(first.cursor)
    snap = ldap.read(source, full=False)
    assert [(p.name, p.active) for p in snap.people] == [("Person 000002", False)]


# --- Active Directory style -------------------------------------------------------------------


def test_ad_style_people(ldap_source: Make) -> None:
    """objectGUID ids (as GUID strings), employeeID, the disabled bit, department names."""
    source = ldap_source(
        base_dn=CORP, flavour="ad", department_from="department", disabled_filter=""
    )
    snap = ldap.read(source, full=True)

    assert snap.present_people == {person_id(i, tree=1) for i in range(30)}
    people = by_uid(snap)
    p = people["u000012"]
    assert (p.external_id, p.employee_no, p.department_id) == (
        person_id(12, 1),
        "E000012",
        "name:dept 5",
    )
    assert p.manager_id == person_id(2, 1)
    assert not people["u000009"].active and not people["u000019"].active  # 514: disabled
    assert sum(not p.active for p in snap.people) == 3
    assert {d.name for d in snap.departments} == {f"Dept {i}" for i in range(7)}
    assert snap.present_departments == {f"name:dept {i}" for i in range(7)}
    assert all(d.parent_id is None for d in snap.departments)

    ous = ldap.read(ldap_source(base_dn=CORP, flavour="ad"), full=True)  # departments from OUs
    assert by_uid(ous)["u000012"].department_id == department_id(2, tree=1)


def test_ad_style_computers_and_incremental_by_when_changed(
    ldap_server: LdapServer, ldap_source: Make, subtree: Callable[..., str]
) -> None:
    base = subtree(people=4, departments=1, flavour="ad")
    ldap_server.add(
        f"dn: uid=pc1,{base}\nobjectClass: organizationalPerson\nobjectClass: uidObject\n"
        "objectClass: user\nobjectClass: computer\nuid: pc1\ncn: PC1\nsn: PC1\n"
    )
    source = ldap_source(base_dn=base, flavour="ad", overlap_seconds=0, disabled_filter="")
    first = ldap.read(source, full=True)
    assert len(first.people) == 4  # not the computer
    assert first.cursor == STAMP  # whenChanged as written (our server does not maintain it)

    ldap_server.modify(
        f"uid=u000001,ou=Dept 00000,{base}",
        whenChanged="20250102030405.0Z",
        userAccountControl="514",
    )
    source.cursor = next_second(first.cursor)
    snap = ldap.read(source, full=False)
    assert [(p.name, p.active) for p in snap.people] == [("Person 000001", False)]
    assert snap.cursor == "20250102030405Z" and len(snap.present_people or ()) == 4


def test_the_flavour_is_detected_from_the_root_dse() -> None:
    cfg = ldap.settings({"url": "ldap://h", "base_dn": "dc=x"}, {})
    assert cfg.flavour == "auto"
    assert ldap.with_flavour(cfg, "ad").id_attribute == "objectGUID"
    assert ldap.with_flavour(cfg, "openldap").user_filter == "(objectClass=inetOrgPerson)"


# --- hostile values ---------------------------------------------------------------------------


def test_control_characters_and_huge_values(
    ldap_server: LdapServer,
    ldap_source: Make,
    subtree: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = subtree(people=1, departments=1)
    huge = "x" * 10_000
    ldap_server.add(
        f"dn: uid=odd,ou=Dept 00000,{base}\nobjectClass: inetOrgPerson\nuid: odd\nsn: O\n"
        + ldif_attr("cn", "\x01Bad\tName\x7f\r\nwith\x1b[31m colour\u2028")
        + ldif_attr("mail", huge + "@example.org")
        + ldif_attr("employeeNumber", huge)
        + ldif_attr("mobile", "1" * 10_000)
        + f"\ndn: uid=long,ou=Dept 00000,{base}\nobjectClass: inetOrgPerson\nuid: long\nsn: L\n"
        + ldif_attr("cn", "short")
        + ldif_attr("displayName", "y" * 10_000)
        + f"\ndn: ou=Huge,{base}\nobjectClass: organizationalUnit\nou: Huge\n"
        + f"description: {'z' * 10_000}\n"
    )
    with caplog.at_level("WARNING"):
        snap = ldap.read(
            ldap_source(base_dn=base, department_name_attribute="description"), full=True
        )

    people = by_uid(snap)
    assert people["odd"].name == "Bad Name with [31m colour"
    odd = people["odd"]
    assert odd.email == odd.employee_no == odd.mobile == ""  # dropped, not cut
    assert people["long"].name == "y" * 100
    names = {d.name for d in snap.departments}
    assert "z" * 100 in names and "Dept 00000" in names  # no description: the OU's own name
    assert "mail dropped" in caplog.text


def test_an_id_too_long_skips_the_entry(
    ldap_server: LdapServer,
    ldap_source: Make,
    subtree: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = subtree(people=2, departments=1)
    ldap_server.add(
        f"dn: cn=x,ou=Dept 00000,{base}\nobjectClass: inetOrgPerson\ncn: x\nsn: x\n"
        f"uid: {'u' * 300}\n"
    )
    with caplog.at_level("WARNING"):
        snap = ldap.read(ldap_source(base_dn=base, id_attribute="uid"), full=True)
    assert {p.external_id for p in snap.people} == {"u000000", "u000001"}
    assert snap.present_people == {"u000000", "u000001"}
    assert "no usable uid" in caplog.text


@pytest.mark.parametrize(
    ("raw", "limit", "cut", "expected"),
    [
        (b"  a \x00\x1f b\xc2\x85c  ", 100, True, "a b c"),  # C0, C1 controls
        (b"\xff\xfeab", 100, True, "\ufffd\ufffdab"),  # not UTF-8
        (b"abcdef", 3, True, "abc"),
        (b"abcdef", 3, False, None),
        (b"a" * 1_000_000, 30, False, None),
    ],
)
def test_clean(raw: bytes, limit: int, cut: bool, expected: str | None) -> None:
    assert ldap.clean(raw, limit, cut=cut) == expected


def test_times_and_dns() -> None:
    assert ldap.parse_time("20240101120000Z") == dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    assert ldap.parse_time("20240101120000.5+0200") == dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    assert ldap.parse_time("") is None and ldap.parse_time("20241301000000Z") is None
    assert ldap.dn_key("CN=A\\, B , OU=X,dc=Y") == ("cn=a\\,b", "ou=x", "dc=y")
