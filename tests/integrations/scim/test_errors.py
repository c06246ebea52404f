"""Bad requests: refused with a SCIM error, and nothing changed (people, links and every
person's fields compared before and after)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from integrations.models import DirectoryConflict, DirectoryLink, DirectorySource, ScimToken
from integrations.scim.tokens import token_create, token_revoke
from org.models import Person
from tests.factories import PersonFactory
from tests.integrations.scim.conftest import counts
from tests.integrations.scim.test_idp import ENTRA_CREATE_USER, OKTA_CREATE_USER, patch

pytestmark = pytest.mark.django_db

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def error(response, status: int, scim_type: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert int(body["status"]) == status
    assert body.get("scimType") == scim_type, body
    return body


@pytest.fixture
def user_id(scim) -> str:
    return scim("POST", "Users", OKTA_CREATE_USER).json()["id"]


# --- authentication -----------------------------------------------------------------------------


def _expired(source: DirectorySource) -> str:
    with time_machine.travel(timezone.now() - dt.timedelta(days=2)):
        return token_create(source=source, name="old",
                            expires_at=timezone.now() + dt.timedelta(days=1))[1]  # fmt: skip


def _revoked(source: DirectorySource) -> str:
    token, plain = token_create(source=source, name="revoked")
    token_revoke(token=token)
    return plain


def _disabled_source(source: DirectorySource) -> str:
    other = DirectorySource.objects.create(name="Okta", kind="scim", enabled=False)
    return token_create(source=other, name="okta")[1]


@pytest.mark.parametrize(
    "make",
    [
        lambda s: "",
        lambda s: "rdscim_not-a-token",
        _revoked,
        _expired,
        _disabled_source,
    ],
    ids=["none", "wrong", "revoked", "expired", "disabled-source"],
)
def test_a_bad_token_is_a_401_and_changes_nothing(scim, source, user_id, make):
    bad = make(source)
    before = counts()
    for method, path, body in [
        ("POST", "Users", ENTRA_CREATE_USER),
        ("PATCH", f"Users/{user_id}", patch({"op": "replace", "value": {"active": False}})),
        ("DELETE", f"Users/{user_id}", None),
        ("GET", "Users", None),
        ("GET", "ServiceProviderConfig", None),
    ]:
        response = scim(method, path, body, token=bad)
        error(response, 401)
        assert response["WWW-Authenticate"] == 'Bearer realm="SCIM"'
        assert "Set-Cookie" not in response
    assert counts() == before


def test_basic_authentication_is_refused(scim, token):
    error(scim("GET", "Users", token="", headers={"Authorization": f"Basic {token}"}), 401)


def test_the_token_decides_the_source(scim, user_id):
    other = DirectorySource.objects.create(name="Okta", kind="scim")
    plain = token_create(source=other, name="okta")[1]
    assert scim("GET", "Users", token=plain).json()["totalResults"] == 0
    error(scim("GET", f"Users/{user_id}", token=plain), 404)
    assert scim("GET", "Users").json()["totalResults"] == 1


def test_last_used_is_written_at_most_once_a_minute(scim, source):
    token, plain = token_create(source=source, name="t")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        scim("GET", "Users", token=plain)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        scim("GET", "Users", token=plain)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        scim("GET", "Users", token=plain)
    assert ScimToken.objects.get(pk=token.pk).last_used_at == start + dt.timedelta(seconds=61)


# --- filters --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "userName eq",
        'userName eq "x" or 1=1',
        'userName eq "a" or "1"="1"',
        'userName eq "a" or userName pr --',
        "userName eq 'a'",
        'userName eq "a"; DROP TABLE org_person',
        'userName eq "a" and (userName pr',
        "",
    ],
)
def test_a_malformed_filter_is_a_400_invalid_filter(scim, user_id, expression):
    before = counts()
    error(scim("GET", f"Users?filter={expression}"), 400, "invalidFilter")
    assert counts() == before


@pytest.mark.parametrize(
    "expression",
    [
        'foo eq "x"',  # not in the schema
        'name.givenName eq "Test"',  # in the schema, not searched
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"',
        'phoneNumbers.value eq "1"',
        'members eq "x"',  # a Group attribute, on /Users
    ],
)
def test_an_attribute_not_searched_is_a_400_invalid_filter(scim, user_id, expression):
    before = counts()
    body = error(scim("GET", f"Users?filter={expression}"), 400, "invalidFilter")
    assert body["detail"]
    assert counts() == before


@pytest.mark.parametrize(
    "value",
    [
        r"a\" or \"1\"=\"1",  # escaped quotes: one string, compared as it is
        "x'; DROP TABLE org_person; --",
        "%' OR '1'='1",
    ],
)
def test_a_quoted_injection_attempt_is_only_a_value(scim, user_id, value):
    """The grammar reads a JSON string: whatever it holds is compared as a value (a SQL
    parameter), so it matches nobody, rather than being refused."""
    before = counts()
    response = scim("GET", f'Users?filter=userName eq "{value}"')
    assert response.status_code == 200, response.content
    assert response.json()["totalResults"] == 0
    assert counts() == before
    assert scim("GET", f'Users?filter=userName co "{value}" or userName pr').json()[
        "totalResults"
    ] == 1  # fmt: skip


def test_filters_answer_exactly(scim, user_id):
    other = scim("POST", "Users", {**ENTRA_CREATE_USER, "displayName": "李四"}).json()["id"]

    def ids(expression: str) -> list[str]:
        response = scim("GET", f"Users?filter={expression}")
        assert response.status_code == 200, response.content
        return sorted(r["id"] for r in response.json()["Resources"])

    assert ids('userName eq "TEST.USER@okta.local"') == [user_id]  # case-insensitive
    assert ids('externalId eq "00UJL29U0LE5T6AJ10H7"') == []  # case-exact
    assert ids('externalId eq "00ujl29u0le5T6Aj10h7"') == [user_id]
    assert ids('externalId co "l29u0"') == [user_id]
    assert ids('externalId sw "00UJ"') == []
    assert ids('userName co "USER@OKTA"') == [user_id]
    assert ids("externalId pr") == sorted([user_id, other])
    assert ids('userName sw "test" and not (displayName eq "Test User")') == [other]
    assert ids('displayName eq "李四" or userName ew "okta.local"') == sorted([user_id, other])
    assert ids('emails co "testuser.com"') == [other]
    assert ids('meta.lastModified gt "2000-01-01T00:00:00Z"') == sorted([user_id, other])
    assert ids(f'id eq "{user_id}"') == [user_id]
    error(scim("GET", 'Users?filter=meta.lastModified gt "yesterday"'), 400, "invalidFilter")
    error(scim("GET", "Users?sortBy=userName"), 501)
    error(scim("GET", "Schemas?filter=id pr"), 403)


# --- bodies ---------------------------------------------------------------------------------------


def test_a_body_over_1_mb_is_a_413_before_it_is_read(scim, user_id):
    before = counts()
    big = b'{"userName": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    error(scim("POST", "Users", raw=big), 413)
    error(scim("PATCH", f"Users/{user_id}", raw=big), 413)
    assert counts() == before


def test_malformed_json_is_a_400_invalid_syntax(scim, user_id):
    before = counts()
    error(scim("POST", "Users", raw=b'{"userName": "x",'), 400, "invalidSyntax")
    error(scim("PATCH", f"Users/{user_id}", raw=b"[1, 2"), 400, "invalidSyntax")
    error(scim("PUT", f"Users/{user_id}", raw=b"\xff\xfe"), 400, "invalidSyntax")
    assert counts() == before


def test_a_body_that_is_not_json_is_a_415(scim, user_id):
    before = counts()
    error(scim("POST", "Users", raw=b"userName=x", content_type="text/plain"), 415)
    assert counts() == before


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "remove", "path": "userName"},
        {"op": "replace", "path": "userName", "value": None},
        {"op": "Replace", "value": {"userName": None}},
    ],
)
def test_removing_the_user_name_is_refused(scim, user_id, operation):
    before = counts()
    response = scim("PATCH", f"Users/{user_id}", patch(operation))
    assert response.status_code == 400, response.content
    assert response.json()["scimType"] in ("mutability", "invalidValue")
    assert counts() == before


@pytest.mark.parametrize(
    ("method", "body", "scim_type"),
    [
        ("POST", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}, "invalidValue"),
        ("POST", {**OKTA_CREATE_USER, "active": "maybe"}, "invalidValue"),
        ("POST", {**OKTA_CREATE_USER, "emails": "a@b.cn"}, "invalidValue"),
        ("PATCH", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}, "invalidValue"),
        ("PATCH", patch({"op": "move", "path": "displayName", "value": "x"}), "invalidValue"),
        ("PATCH", patch({"op": "replace", "path": "id", "value": "x"}), "mutability"),
        ("PATCH", patch({"op": "replace", "path": "emails[", "value": "x"}), "invalidPath"),
    ],
)
def test_invalid_bodies_are_refused(scim, user_id, method, body, scim_type):
    before = counts()
    path = "Users" if method == "POST" else f"Users/{user_id}"
    response = scim(method, path, body)
    assert response.status_code == 400, response.content
    assert response.json().get("scimType") == scim_type, response.content
    assert counts() == before


def test_user_name_is_unique_per_source_whatever_its_case(scim, user_id):
    before = counts()
    error(scim("POST", "Users", {**OKTA_CREATE_USER, "userName": "TEST.user@OKTA.local"}),
          409, "uniqueness")  # fmt: skip
    other = scim("POST", "Users", ENTRA_CREATE_USER).json()["id"]
    middle = counts()
    error(scim("PATCH", f"Users/{other}", patch(
        {"op": "replace", "path": "userName", "value": "Test.User@okta.local"})),
        409, "uniqueness")  # fmt: skip
    assert counts() == middle and middle[0] == before[0] + 1


def test_an_email_of_another_sources_person_is_a_409_listed_for_it(scim, source):
    ldap = DirectorySource.objects.create(name="AD", kind="ldap")
    person = PersonFactory.create(email="test.user@okta.local")
    person.directory_links.create(source=ldap, kind="person", external_id="x",
                                  changed_at=timezone.now())  # fmt: skip
    before = counts()
    body = error(scim("POST", "Users", OKTA_CREATE_USER), 409, "uniqueness")
    assert body["detail"]
    # Nobody made or changed (the source's department for people in no group may be new).
    assert counts()[0::2] == before[0::2]
    assert not DirectoryLink.objects.filter(source=source, kind="person").exists()
    assert DirectoryConflict.objects.filter(source=source, kind="email_taken").exists()


def test_unknown_ids_and_methods(scim, user_id):
    error(scim("GET", "Users/nope"), 404)
    error(scim("PATCH", "Users/nope", patch({"op": "replace", "path": "active", "value": False})),
          404)  # fmt: skip
    error(scim("DELETE", "Groups/~ungrouped"), 404)
    error(scim("GET", "Groups/~ungrouped"), 404)
    error(scim("PUT", "Users", OKTA_CREATE_USER), 405)
    error(scim("POST", "Bulk", {}), 501)
    error(scim("GET", "Me"), 501)
    assert Person.objects.filter(status="active").count() == 1
