"""What a directory source says, in one shape for every kind of source: the readers (LDAP,
Feishu, DingTalk, WeCom) produce a ``Snapshot``; events and SCIM writes produce single entries.
The sync engine (``integrations.directory.sync``) applies them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExternalDepartment:
    external_id: (
        str  # the source's stable id (LDAP entryUUID/objectGUID, Feishu open_department_id ...)
    )
    name: str
    parent_id: str | None = None  # the parent's external id; None: a top-level department
    code: str = ""  # a short code if the source has one (never required)


@dataclass(frozen=True)
class ExternalPerson:
    external_id: str  # the source's stable id (entryUUID/objectGUID, Feishu user_id/open_id ...)
    name: str
    department_id: str | None = None  # external id of the person's (main) department
    employee_no: str = ""
    email: str = ""
    mobile: str = ""
    manager_id: str | None = None  # external id of the manager
    active: bool = True  # False: disabled / resigned / deleted in the source
    left_on: dt.date | None = None  # when the source says they left (else: the day it is seen)
    # Other names of the entry kept on the link (dn, userName, open_id ...), not matched on.
    attributes: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Snapshot:
    """One pull from a source.

    ``people`` / ``departments``: the entries to create or update (every entry for a full pull,
    the changed ones for an incremental pull). ``present_people`` / ``present_departments``:
    when not None, every external id the source lists now: a linked active person missing from
    it has left (a deletion), a linked department missing from it is deactivated once nobody
    active is in it. None: the pull says nothing about deletions. ``cursor``: where the next
    incremental pull continues ("" keeps the stored one)."""

    people: list[ExternalPerson] = field(default_factory=list)
    departments: list[ExternalDepartment] = field(default_factory=list)
    present_people: set[str] | None = None
    present_departments: set[str] | None = None
    cursor: str = ""


class SourceError(Exception):
    """A source could not be read (unreachable, refused credentials, a revoked scope, a
    time-out halfway): the run fails and nothing of it is applied. The message is shown to IT:
    translated, and never containing a credential."""
