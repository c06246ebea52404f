"""Requests as identity providers send them, replayed from their published examples.

- Microsoft Entra ID: "Tutorial: Develop and plan provisioning for a SCIM endpoint",
  https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups
  (the "User Operations" and "Group Operations" requests), and its known deviations,
  https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility
  ("active": "False" as a string; the manager as a bare id:
  https://github.com/apache/directory-scimple/issues/1242).
- Okta: "Okta and SCIM Version 2.0",
  https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20
  (create, retrieve, PUT, deactivate by PATCH without a path, group push and membership).
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from integrations.models import DirectoryLink
from integrations.scim.resources import UNGROUPED
from org.models import Department, Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

ENTRA_EMAIL = "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
ENTRA_CREATE_USER = {
    "schemas": [USER, ENTERPRISE],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
    "active": True,
    "emails": [{"primary": True, "type": "work", "value": ENTRA_EMAIL}],
    "meta": {"resourceType": "User"},
    "name": {"formatted": "givenName familyName", "familyName": "familyName",
             "givenName": "givenName"},
    "roles": [],
}  # fmt: skip

OKTA_CREATE_USER = {
    "schemas": [USER],
    "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User",
    "locale": "en-US",
    "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [],
    "password": "1mz050nq",
    "active": True,
}


def patch(*operations: dict[str, object]) -> dict[str, object]:
    return {"schemas": [PATCH], "Operations": list(operations)}


def person_of(user_id: str) -> Person:
    link = DirectoryLink.objects.get(kind="person", external_id=user_id)
    assert link.person is not None
    return link.person


# --- Entra ID ---------------------------------------------------------------------------------


def test_entra_create_user_makes_a_linked_person(scim, source):
    response = scim("POST", "Users", ENTRA_CREATE_USER)
    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("application/scim+json")
    body = response.json()
    assert len(body["id"]) == 32 and body["id"] != ENTRA_CREATE_USER["externalId"]
    assert response["Location"].endswith(f"/scim/v2/Users/{body['id']}")
    assert body["externalId"] == ENTRA_CREATE_USER["externalId"]
    assert body["emails"] == [{"value": ENTRA_EMAIL, "type": "work", "primary": True}]
    assert "roles" not in body and "password" not in body
    person = person_of(body["id"])
    assert person.name == "givenName familyName"
    assert person.email == "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
    assert person.status == Person.Status.ACTIVE
    link = DirectoryLink.objects.get(external_id=body["id"])
    assert link.source == source
    assert link.attributes["userName"] == ENTRA_CREATE_USER["userName"]
    assert link.attributes["externalId"] == ENTRA_CREATE_USER["externalId"]
    # In no group yet: the source's department for people in no group, never listed as a Group.
    assert DirectoryLink.objects.get(kind="department", department=person.department).external_id \
        == UNGROUPED  # fmt: skip
    assert scim("GET", "Groups").json()["totalResults"] == 0


def test_entra_get_user_by_query_and_zero_results(scim):
    user_id = scim("POST", "Users", ENTRA_CREATE_USER).json()["id"]
    found = scim("GET", f'Users?filter=userName eq "{ENTRA_CREATE_USER["userName"]}"').json()
    assert found["totalResults"] == 1
    assert found["Resources"][0]["id"] == user_id
    assert found["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    by_email = scim(
        "GET",
        'Users?filter=emails[type eq "work"].value eq '
        '"Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"',
    ).json()
    assert [r["id"] for r in by_email["Resources"]] == [user_id]
    none = scim("GET", 'Users?filter=userName eq "non-existent user"').json()
    assert none["totalResults"] == 0 and none.get("Resources", []) == []
    missing = scim("GET", "Users/5171a35d82074e068ce2")
    assert missing.status_code == 404
    assert missing.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_entra_update_multi_valued_and_single_valued_properties(scim):
    user_id = scim("POST", "Users", ENTRA_CREATE_USER).json()["id"]
    response = scim("PATCH", f"Users/{user_id}", patch(
        {"op": "Replace", "path": 'emails[type eq "work"].value',
         "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
    ))  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["emails"] == [
        {"value": "updatedEmail@microsoft.com", "type": "work", "primary": True}
    ]
    assert body["name"]["familyName"] == "updatedFamilyName"
    assert person_of(user_id).email == "updatedEmail@microsoft.com"
    renamed = scim("PATCH", f"Users/{user_id}", patch(
        {"op": "Replace", "path": "userName",
         "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"},
        {"op": "Replace", "path": "displayName", "value": "王小明"},
    ))  # fmt: skip
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["userName"] == "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    assert person_of(user_id).name == "王小明"


@pytest.mark.parametrize("value", [False, "False"], ids=["boolean", "entra-string"])
def test_entra_disable_user_marks_the_person_as_left_today_in_shanghai(
    scim, value, django_capture_on_commit_callbacks
):
    # 17:30 UTC on 1 March is 01:30 on 2 March in Asia/Shanghai.
    with time_machine.travel(dt.datetime(2030, 3, 1, 17, 30, tzinfo=dt.UTC)):
        user_id = scim("POST", "Users", ENTRA_CREATE_USER).json()["id"]
        with django_capture_on_commit_callbacks() as callbacks:
            response = scim("PATCH", f"Users/{user_id}",
                            patch({"op": "Replace", "path": "active", "value": value}))  # fmt: skip
        assert response.status_code == 200, response.content
        assert response.json()["active"] is False
        person = person_of(user_id)
        assert person.status == Person.Status.LEFT
        assert person.left_on == dt.date(2030, 3, 2)
        assert callbacks, "the leaver reaction is queued after the commit"
        query = f'Users?filter=userName eq "{ENTRA_CREATE_USER["userName"]}"'
        assert scim("GET", query).json()["Resources"][0]["active"] is False
        assert scim("GET", "Users?filter=active eq false").json()["totalResults"] == 1
        # Enabled again: active again.
        back = scim("PATCH", f"Users/{user_id}",
                    patch({"op": "Replace", "path": "active", "value": "True"}))  # fmt: skip
        assert back.status_code == 200
        assert person_of(user_id).status == Person.Status.ACTIVE


def test_entra_delete_user_means_the_person_left_and_is_kept(scim):
    user_id = scim("POST", "Users", ENTRA_CREATE_USER).json()["id"]
    people = Person.objects.count()
    response = scim("DELETE", f"Users/{user_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert Person.objects.count() == people
    person = person_of(user_id)
    assert person.status == Person.Status.LEFT and person.left_on == timezone.localdate()
    assert scim("GET", f"Users/{user_id}").status_code == 404
    assert scim("DELETE", f"Users/{user_id}").status_code == 404
    # The userName is free again: the identity provider may provision the person anew.
    assert scim("POST", "Users", ENTRA_CREATE_USER).status_code == 201


def test_entra_manager_sent_as_a_bare_id(scim):
    manager_id = scim("POST", "Users", OKTA_CREATE_USER).json()["id"]
    user_id = scim("POST", "Users", ENTRA_CREATE_USER).json()["id"]
    response = scim("PATCH", f"Users/{user_id}", patch(
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": manager_id},
        {"op": "Add", "path": f"{ENTERPRISE}:employeeNumber", "value": "100009"},
        {"op": "Add", "path": f"{ENTERPRISE}:department", "value": "Human Resources US"},
    ))  # fmt: skip
    assert response.status_code == 200, response.content
    extension = response.json()[ENTERPRISE]
    assert extension["manager"]["value"] == manager_id
    assert extension["employeeNumber"] == "100009"
    person = person_of(user_id)
    assert person.manager == person_of(manager_id)
    assert person.employee_no == "100009"
    # The enterprise department is kept, never used: no department of that name is made.
    assert extension["department"] == "Human Resources US"
    assert not Department.objects.filter(name="Human Resources US").exists()


def test_entra_groups_create_query_rename_members_and_delete(scim):
    user_id = scim("POST", "Users", ENTRA_CREATE_USER).json()["id"]
    created = scim("POST", "Groups", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"},
    })  # fmt: skip
    assert created.status_code == 201, created.content
    group_id = created.json()["id"]
    department = Department.objects.get(name="displayName")
    got = scim("GET", f"Groups/{group_id}?excludedAttributes=members").json()
    assert got["displayName"] == "displayName" and "members" not in got
    listed = scim("GET", 'Groups?excludedAttributes=members&filter=displayName eq "displayName"')
    assert [g["id"] for g in listed.json()["Resources"]] == [group_id]
    renamed = scim("PATCH", f"Groups/{group_id}", patch(
        {"op": "Replace", "path": "displayName",
         "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}))  # fmt: skip
    assert renamed.status_code == 204
    department.refresh_from_db()
    assert department.name == "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    added = scim("PATCH", f"Groups/{group_id}", patch(
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": user_id}]}))  # fmt: skip
    assert added.status_code == 204
    assert person_of(user_id).department == department
    assert scim("GET", f'Groups?filter=members eq "{user_id}"').json()["totalResults"] == 1
    removed = scim("PATCH", f"Groups/{group_id}", patch(
        {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": user_id}]}))  # fmt: skip
    assert removed.status_code == 204
    assert person_of(user_id).department != department
    assert "members" not in scim("GET", f"Groups/{group_id}").json()
    assert scim("DELETE", f"Groups/{group_id}").status_code == 204
    assert scim("GET", f"Groups/{group_id}").status_code == 404
    department.refresh_from_db()
    assert not department.is_active  # nobody active in it: inactive, never deleted


# --- Okta -------------------------------------------------------------------------------------


def test_okta_lookup_create_retrieve_replace_and_deactivate(scim):
    lookup = scim("GET", 'Users?filter=userName eq "test.user@okta.local"&startIndex=1&count=100')
    assert lookup.status_code == 200 and lookup.json()["totalResults"] == 0
    created = scim("POST", "Users", OKTA_CREATE_USER)
    assert created.status_code == 201, created.content
    user_id = created.json()["id"]
    link = DirectoryLink.objects.get(external_id=user_id)
    assert "1mz050nq" not in str(link.attributes)  # the password is never kept
    assert person_of(user_id).name == "Test User"
    assert scim("POST", "Users", OKTA_CREATE_USER).status_code == 409  # userName taken
    got = scim("GET", f"Users/{user_id}").json()
    assert got["userName"] == "test.user@okta.local" and got["active"] is True
    replaced = scim("PUT", f"Users/{user_id}", {
        "schemas": [USER], "id": user_id, "userName": "test.user@okta.local",
        "name": {"givenName": "Another", "middleName": "Excited", "familyName": "User"},
        "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work",
                    "display": "test.user@okta.local"}],
        "active": True, "groups": [], "meta": {"resourceType": "User"},
    })  # fmt: skip
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["name"] == {"givenName": "Another", "familyName": "User"}
    assert person_of(user_id).name == "Another User"  # displayName left out: given + family
    deactivated = scim("PATCH", f"Users/{user_id}",
                       patch({"op": "replace", "value": {"active": False}}))  # fmt: skip
    assert deactivated.status_code == 200
    assert deactivated.json()["active"] is False
    assert person_of(user_id).status == Person.Status.LEFT


def test_okta_paginates_in_a_stable_order(scim):
    ids = [
        scim(
            "POST",
            "Users",
            {**OKTA_CREATE_USER, "userName": f"u{i}@okta.local", "externalId": f"ext{i}"},
        ).json()["id"]  # fmt: skip
        for i in range(5)
    ]
    first = scim("GET", "Users?startIndex=1&count=2").json()
    second = scim("GET", "Users?startIndex=3&count=2").json()
    third = scim("GET", "Users?startIndex=5&count=2").json()
    assert first["totalResults"] == 5 and first["itemsPerPage"] == 2
    assert isinstance(first["startIndex"], int) and second["startIndex"] == 3
    pages = [r["id"] for page in (first, second, third) for r in page["Resources"]]
    assert pages == ids


def test_okta_group_push_membership_and_rename(scim):
    a = scim("POST", "Users", OKTA_CREATE_USER).json()["id"]
    b = scim("POST", "Users", {**OKTA_CREATE_USER, "userName": "b@okta.local"}).json()["id"]
    created = scim("POST", "Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                      "displayName": "Test SCIMv2", "members": []})  # fmt: skip
    assert created.status_code == 201, created.content
    group_id = created.json()["id"]
    assert scim("PATCH", f"Groups/{group_id}", patch(
        {"op": "replace", "path": "members",
         "value": [{"value": a, "display": "test.user@okta.local"},
                   {"value": b, "display": "b@okta.local"}]})).status_code == 204  # fmt: skip
    members = scim("GET", f"Groups/{group_id}").json()["members"]
    assert sorted(m["value"] for m in members) == sorted([a, b])
    assert scim("PATCH", f"Groups/{group_id}", patch(
        {"op": "remove", "path": f'members[value eq "{a}"]'},
        {"op": "add", "path": "members", "value": [{"value": a, "display": "x"}]},
    )).status_code == 204  # fmt: skip
    assert scim("PATCH", f"Groups/{group_id}", patch(
        {"op": "remove", "path": f'members[value eq "{b}"]'})).status_code == 204  # fmt: skip
    assert [m["value"] for m in scim("GET", f"Groups/{group_id}").json()["members"]] == [a]
    renamed = scim("PATCH", f"Groups/{group_id}", patch(
        {"op": "replace", "value": {"id": group_id, "displayName": "Test SCIMv20"}}))  # fmt: skip
    assert renamed.status_code == 204, renamed.content
    assert person_of(a).department.name == "Test SCIMv20"
    assert scim("DELETE", f"Groups/{group_id}").status_code == 204


def test_a_person_of_an_hr_import_is_adopted_by_employee_number(scim):
    hr = PersonFactory.create(employee_no="100009", name="旧名字")
    department = hr.department_id
    response = scim("POST", "Users", {**OKTA_CREATE_USER, "schemas": [USER, ENTERPRISE],
                                      ENTERPRISE: {"employeeNumber": "100009"}})  # fmt: skip
    assert response.status_code == 201, response.content
    assert person_of(response.json()["id"]) == hr
    hr.refresh_from_db()
    assert hr.name == "Test User"
    assert hr.department_id == department  # kept where the HR import put them


def test_entra_attributes_we_do_not_keep_are_ignored(scim):
    user_id = scim("POST", "Users", ENTRA_CREATE_USER).json()["id"]
    response = scim("PATCH", f"Users/{user_id}", patch(
        {"op": "Add", "path": 'addresses[type eq "work"].country', "value": "CN"},
        {"op": "Add", "path": "name.middleName", "value": "M"},
        {"op": "Add", "path": "title", "value": "CEO"},
        {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "13800000000"},
        {"op": "Replace", "path": "preferredLanguage", "value": "zh-CN"},
    ))  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert "addresses" not in body and "title" not in body
    assert body["phoneNumbers"] == [{"value": "13800000000", "type": "mobile"}]
    assert person_of(user_id).mobile == "13800000000"
