"""What the SCIM service provider serves (RFC 7643), as scim2-models models, and how a SCIM
User maps to one of our people and a SCIM Group to a department.

We publish on /Schemas only the attributes we keep, so that what an identity provider writes is
what it reads back; anything else it sends (title, addresses, locale, password, roles ...) is
dropped on reading (``POLICY``: unknown attributes are ignored, not refused, because Entra ID and
Okta send more than any service keeps).

A User is a person:

- ``id``: the link's external id, made by us (uuid4 hex) on POST; ``userName`` (unique per
  source, case-insensitive) and ``externalId`` live in the link's attributes;
- the person's name is ``displayName``, else ``name.formatted``, else given and family name
  (family name first when both are Chinese, Japanese or Korean), else ``userName``;
- ``emails``: the primary one (else the "work" one, else the first) is the person's e-mail;
  ``phoneNumbers``: the "mobile" one is the person's mobile;
- ``active`` false: the person has left (today, Asia/Shanghai); absent or true: active;
- enterprise extension: ``employeeNumber`` is the employee number; ``manager.value`` the SCIM id
  of the manager; ``department`` is kept and given back but never used: a person's department
  comes only from Group membership, never from a name.

What the person's fields do not hold (name parts, e-mail types, other e-mails and phones, the
enterprise ``department``) is kept, as the identity provider last wrote it, in the link's
attributes (``scim``: JSON); reading a User lays the person's current values over it, so a change
made here (or by another source) shows.

A Group is a department (flat: a Group never has a parent department). Its members are the
people of this source whose department it is: adding a person to a Group moves them there,
removing them moves them to the source's department for people in no group
(``UNGROUPED``, never listed as a Group). A person belongs to one department, so push only the
groups that are departments. Nested groups are not supported (a Group member is ignored).
"""

from __future__ import annotations

import json
import unicodedata
from typing import Annotated, Any, cast

from django.utils.translation import gettext_lazy as _
from pydantic import Field, field_validator
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Extension,
    Filter,
    Meta,
    Mutability,
    Pagination,
    Patch,
    Reference,
    Required,
    Resource,
    ResourceType,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)
from scim2_models import Email as _Email
from scim2_models import PhoneNumber as _PhoneNumber

from integrations.directory.entries import ExternalDepartment, ExternalPerson
from integrations.models import DirectoryLink
from org.models import Department, Person

# The external id of the department of this source's people who are in no Group.
UNGROUPED = "~ungrouped"
MAX_RESULTS = 200
DEFAULT_PAGE = 100


class Name(ComplexAttribute):
    """The components of the user's real name."""

    formatted: str | None = None
    family_name: str | None = None
    given_name: str | None = None


class Email(ComplexAttribute):
    """An e-mail address; the primary one (else the work one, else the first) is the person's."""

    # A string, not an e-mail type: a provider's "name@corp.local" is refused by neither side.
    value: str | None = None
    type: _Email.Type | None = None
    primary: bool | None = None


class PhoneNumber(ComplexAttribute):
    """A phone number; the "mobile" one is the person's mobile."""

    value: str | None = None
    type: _PhoneNumber.Type | None = None
    primary: bool | None = None


class User(Resource[Any]):
    """A person of the organisation."""

    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:User")

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    name: Name | None = None
    display_name: str | None = None
    active: bool | None = None
    emails: list[Email] | None = None
    phone_numbers: list[PhoneNumber] | None = None


class Manager(ComplexAttribute):
    """The user's manager: the SCIM id of another User."""

    value: Annotated[str | None, CaseExact.true] = None
    ref: Reference[User] | None = Field(None, serialization_alias="$ref", validation_alias="$ref")


class EnterpriseUser(Extension):
    """The enterprise user extension (RFC 7643 section 4.3), as far as we keep it."""

    __schema__ = URN("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")

    employee_number: str | None = None
    department: str | None = None
    manager: Manager | None = None

    @field_validator("manager", mode="before")
    @classmethod
    def _manager_as_id(cls, value: Any) -> Any:
        """Entra ID sends the manager as the bare id ("manager": "<id>"), not as a complex
        attribute (https://github.com/apache/directory-scimple/issues/1242)."""
        return {"value": value} if isinstance(value, str) else value


class GroupMember(ComplexAttribute):
    """A member of a Group: a User (nested groups are not supported)."""

    value: Annotated[str | None, Mutability.immutable, CaseExact.true] = None
    ref: Annotated[Reference[User] | None, Mutability.immutable] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User"])


class Group(Resource[Any]):
    """A department."""

    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:Group")

    display_name: Annotated[str | None, Required.true] = None
    members: list[GroupMember] | None = None


UserResource = cast("type[User]", User[EnterpriseUser])  # type: ignore[misc]

# Entra ID and Okta send attributes we do not keep: dropped, not refused. Entra removes a
# member with {"op": "Remove", "path": "members", "value": [...]} and expects an "add" or
# "replace" on emails[type eq "work"].value to create the entry when there is none.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

CONFIG = ServiceProviderConfig(
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=False),
    pagination=Pagination(
        cursor=False,
        index=True,
        default_pagination_method=Pagination.DefaultPaginationMethod.index,
        default_page_size=DEFAULT_PAGE,
        max_page_size=MAX_RESULTS,
    ),
    authentication_schemes=[
        AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken,
            name="OAuth Bearer Token",
            description="A token made with manage.py scim_token create",
            primary=True,
        )
    ],
)

PROVIDER = ScimProvider(
    models=[User, EnterpriseUser, Group],
    resource_types=[ResourceType.from_resource(UserResource), ResourceType.from_resource(Group)],
    config=CONFIG,
    policy=POLICY,
)


# --- User <-> person ----------------------------------------------------------------------------


def _cjk(text: str) -> bool:
    return any(unicodedata.name(ch, "").startswith(("CJK", "HANGUL", "HIRAGANA", "KATAKANA"))
               for ch in text if not ch.isspace())  # fmt: skip


def person_name(user: User) -> str:
    """The person's name as the User gives it (see the module's docstring)."""
    if user.display_name and user.display_name.strip():
        return user.display_name
    name = user.name
    if name is not None:
        if name.formatted and name.formatted.strip():
            return name.formatted
        given, family = (name.given_name or "").strip(), (name.family_name or "").strip()
        if given and family:
            return f"{family}{given}" if _cjk(given + family) else f"{given} {family}"
        if given or family:
            return given or family
    return user.user_name or ""


def _primary(entries: list[Email]) -> int | None:
    for test in (lambda e: e.primary is True, lambda e: e.type == "work", lambda e: True):
        found = next((i for i, entry in enumerate(entries) if test(entry)), None)
        if found is not None:
            return found
    return None


def _mobile(entries: list[PhoneNumber]) -> int | None:
    return next((i for i, entry in enumerate(entries) if entry.type == "mobile"), None)


def enterprise(user: User) -> EnterpriseUser | None:
    return cast("EnterpriseUser | None", user[EnterpriseUser])


def person_entry(user: User, *, external_id: str, department_id: str | None) -> ExternalPerson:
    """The directory entry a User stands for (``department_id``: its Group's id, see the
    module's docstring)."""
    extension = enterprise(user)
    emails, phones = user.emails or [], user.phone_numbers or []
    email, mobile = _primary(emails), _mobile(phones)
    manager = extension.manager if extension else None
    attributes = {"userName": user.user_name or "", "scim": _remainder(user)}
    if user.external_id:
        attributes["externalId"] = user.external_id
    return ExternalPerson(
        external_id=external_id,
        name=person_name(user),
        department_id=department_id,
        employee_no=(extension.employee_number or "") if extension else "",
        email=(emails[email].value or "") if email is not None else "",
        mobile=(phones[mobile].value or "") if mobile is not None else "",
        manager_id=manager.value if manager and manager.value else None,
        active=user.active is not False,
        attributes=attributes,
    )


def _remainder(user: User) -> str:
    """What the link keeps of a User beyond the person's fields (JSON)."""
    data = user.model_dump(mode="json", exclude={"id", "meta", "user_name", "external_id"})
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def user_of(link: DirectoryLink, person: Person, *, manager_id: str | None) -> User:
    """The User a person linked to this source is: what the identity provider last wrote, with
    the person's current values laid over it. ``manager_id``: the manager's SCIM id, if the
    manager is a User of this source."""
    attributes = link.attributes or {}
    try:
        stored = json.loads(attributes.get("scim") or "{}")
    except ValueError:
        stored = {}
    stored = stored if isinstance(stored, dict) else {}
    user = UserResource.model_validate({**stored, "userName": attributes.get("userName")})
    user.id = link.external_id
    user.user_name = attributes.get("userName") or person.employee_no
    user.external_id = attributes.get("externalId") or None
    if person.name != person_name(user):
        user.display_name = person.name
    if person.status == Person.Status.LEFT:
        user.active = False
    elif user.active is False:
        user.active = True
    user.emails = _overlay_email(user.emails or [], person.email) or None
    user.phone_numbers = _overlay_mobile(user.phone_numbers or [], person.mobile) or None
    _overlay_enterprise(user, person, manager_id)
    user.meta = Meta(
        resource_type="User",
        created=person.created_at,
        last_modified=max(person.updated_at, link.changed_at),
    )
    return user


def _overlay_email(entries: list[Email], email: str) -> list[Email]:
    index = _primary(entries)
    if not email:
        return [e for i, e in enumerate(entries) if i != index]
    if index is None:
        return [Email(value=email, primary=True)]
    entries[index].value = email
    return entries


def _overlay_mobile(entries: list[PhoneNumber], mobile: str) -> list[PhoneNumber]:
    index = _mobile(entries)
    if not mobile:
        return [e for i, e in enumerate(entries) if i != index]
    if index is None:
        return [*entries, PhoneNumber(value=mobile, type=_PhoneNumber.Type.mobile)]
    entries[index].value = mobile
    return entries


def _overlay_enterprise(user: User, person: Person, manager_id: str | None) -> None:
    extension = enterprise(user)
    if extension is None and manager_id is None:
        return
    extension = extension or EnterpriseUser()
    if extension.employee_number is not None:
        extension.employee_number = person.employee_no
    extension.manager = (
        Manager(value=manager_id, ref=Reference[User](f"Users/{manager_id}"))
        if manager_id
        else None
    )
    has_values = any(
        getattr(extension, f) is not None for f in ("employee_number", "department", "manager")
    )
    user[EnterpriseUser] = extension if has_values else None


# --- Group <-> department ------------------------------------------------------------------------


def department_entry(group: Group, *, external_id: str) -> ExternalDepartment:
    return ExternalDepartment(external_id=external_id, name=group.display_name or "")


def group_attributes(group: Group) -> dict[str, str]:
    """What a department's link keeps of a Group."""
    return {"externalId": group.external_id} if group.external_id else {}


def group_of(link: DirectoryLink, department: Department, members: list[str] | None) -> Group:
    """The Group a department linked to this source is (``members``: the SCIM ids of its
    people, None when the response leaves them out)."""
    return Group(
        id=link.external_id,
        external_id=(link.attributes or {}).get("externalId") or None,
        display_name=department.name,
        members=[
            GroupMember(value=member, ref=Reference[User](f"Users/{member}"), type="User")
            for member in members
        ]
        if members
        else None,
        meta=Meta(
            resource_type="Group", created=department.created_at, last_modified=link.changed_at
        ),  # fmt: skip
    )


def ungrouped_name(source_name: str) -> str:
    return str(_("%(source)s: in no group") % {"source": source_name})
