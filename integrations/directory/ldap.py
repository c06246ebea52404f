"""The LDAP / Active Directory reader: one pull of a server into a ``Snapshot`` (ldap3).

``source.config`` (missing or "": the default); the one secret is ``bind_password``.

- ``url`` (required): ``ldap://host[:port]`` or ``ldaps://host[:port]``; ``start_tls`` (false).
  TLS (ldaps, StartTLS) always checks the certificate (CERT_REQUIRED) and that it names the
  url's host, against ``ca_file`` (a PEM CA bundle here) when given, else the system's CAs.
- ``bind_dn`` (empty: anonymous), ``base_dn`` (required: people are searched in its subtree).
- ``flavour``: openldap, ad or auto (default: AD when the rootDSE lists its capability
  1.2.840.113556.1.4.800); it picks the defaults written OpenLDAP / AD below.
- ``user_filter``: ``(objectClass=inetOrgPerson)`` / ``(&(objectClass=user)(!(objectClass=
  computer)))`` (OpenLDAP takes ``(objectClass=computer)`` as Undefined: one filter won't do).
- ``department_from``: "ou" (default): a person's department is the nearest department above
  the entry: the ``department_filter`` (``(objectClass=organizationalUnit)``) entries below
  ``department_base_dn`` (``base_dn``; not the base itself), named by
  ``department_name_attribute`` (``ou``), each under the nearest one above it. Else an
  attribute (AD: ``department``) naming the department: the distinct names are the
  departments, flat, with the id ``name:<name in lower case>``.
- ``id_attribute``: ``entryUUID`` / ``objectGUID`` (as the usual GUID string, lower case).
- ``name_attributes`` (a list or comma-separated, the first non-empty): ``displayName,cn``.
- ``employee_no_attribute``: ``employeeNumber`` / ``employeeID``; ``mail_attribute`` (mail),
  ``mobile_attribute`` (mobile), ``manager_attribute`` (manager: a DN, given as that person's
  id when they are among the people read).
- ``disabled_filter``: people who match are leavers (active=False), e.g. ``(employeeType=left)``
  or ``(pwdAccountLockedTime=*)``; on AD the disabled bit (2) of userAccountControl too.
- ``changed_attribute``: ``modifyTimestamp`` / ``whenChanged``; ``overlap_seconds`` (60);
  ``timeout`` (30 s: connecting, and each answer); ``page_size`` (500; AD allows 1000).

Incremental pulls (``full=False``, a readable cursor) read the people and departments with
``changed_attribute >= cursor - overlap_seconds``, and list every person and department by id
only (``present_people``/``present_departments``, so deletions are seen; and the DNs to resolve
managers and departments). The cursor (UTC, ``20240101120000Z``) becomes the newest stamp read,
or the rootDSE's ``currentTime`` (AD) read before searching when later. ``>=`` reads the
cursor's own second again, so a change in the same second as the last one seen is not lost;
the overlap catches changes committed late or replicated in with an older stamp.

Values: control characters become spaces, whitespace runs one space. Names (person,
department) are cut to 100 characters; an e-mail (254), employee number (40) or mobile (30)
that is longer is dropped (cut, it could be someone else's) and logged. An entry without a
usable id (none, over 255 characters) or without a name is skipped and logged. Failures
(unreachable, bind refused, TLS, a time-out, no such base DN, a size limit) raise a translated
``SourceError`` without the password; nothing partial is returned."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import uuid
import warnings
from typing import Any

from ldap3 import BASE, DEREF_NEVER, SUBTREE, Connection
from ldap3.core import exceptions as ldap_errors

from integrations.directory.entries import ExternalDepartment, ExternalPerson, Snapshot
from integrations.directory.ldap_connection import (
    Incomplete,
    Raw,
    Settings,
    connect,
    scrub,
    settings,
    source_error,
    with_flavour,
)
from integrations.text import one_line

logger = logging.getLogger(__name__)

AD_CAPABILITY = "1.2.840.113556.1.4.800"
MAX_ID, MAX_NAME = 255, 100  # DirectoryLink.external_id; Person.name, Department.name
MAX_EMAIL, MAX_EMPLOYEE_NO, MAX_MOBILE = 254, 40, 30
_DN_SPACES = re.compile(r"\s*([,=])\s*")
_TIME = re.compile(r"^(\d{14})(?:[.,]\d+)?(Z|[+-]\d{4})$")

DN = tuple[str, ...]


def read(source: Any, *, full: bool) -> Snapshot:
    """One pull of ``source`` (a DirectorySource of kind ldap): every entry when ``full`` or
    no usable cursor is stored, else the changes since ``source.cursor``."""
    cfg = settings(source.config or {}, source.secrets)
    since = None if full else parse_time(source.cursor or "")
    conn: Connection | None = None
    try:
        with warnings.catch_warnings():  # ldap3 checks the host name with ssl.match_hostname
            warnings.filterwarnings("ignore", "ssl.match_hostname", DeprecationWarning)
            conn = connect(cfg)
        return _Pull(conn, cfg, since).run()
    except (ldap_errors.LDAPException, OSError) as exc:
        logger.warning("LDAP source %s: %s", getattr(source, "pk", "?"), scrub(exc, cfg))
        raise source_error(exc, cfg) from None
    finally:
        with contextlib.suppress(ldap_errors.LDAPException, OSError):
            conn.unbind() if conn is not None else None


class _Pull:
    def __init__(self, conn: Connection, cfg: Settings, since: dt.datetime | None) -> None:
        self.conn = conn
        self.cfg = cfg
        self.since = since
        self.newest: dt.datetime | None = since

    def run(self) -> Snapshot:
        with contextlib.suppress(ldap_errors.LDAPOperationResult):  # a rootDSE kept from us
            self.conn.search(
                "", "(objectClass=*)", BASE, attributes=["supportedCapabilities", "currentTime"]
            )
        root = (self.conn.response or [{}])[0].get("raw_attributes", {})
        attrs: Raw = {k.lower(): v for k, v in root.items()}
        flavour = self.cfg.flavour
        if flavour == "auto":
            caps = {v.decode(errors="replace") for v in attrs.get("supportedcapabilities", [])}
            flavour = "ad" if AD_CAPABILITY in caps else "openldap"
        self.cfg = with_flavour(self.cfg, flavour)
        server_now = parse_time(_first(attrs, "currenttime"))
        departments, present_departments, dept_by_dn = self.departments()
        people, present_people, named = self.people(dept_by_dn)
        if named is not None:
            departments, present_departments = named
        if server_now and (self.newest is None or server_now > self.newest):
            self.newest = server_now
        cursor = format_time(self.newest) if self.newest else ""
        return Snapshot(people, departments, present_people, present_departments, cursor)

    def search(self, base: str, filt: str, attrs: list[str]) -> list[tuple[str, Raw]]:
        """Every entry (paged), as (dn, {lower-case attribute: raw values})."""
        entries = []
        found = self.conn.extend.standard.paged_search(
            base, filt, SUBTREE, DEREF_NEVER, attrs, paged_size=self.cfg.page_size, generator=True
        )
        for item in found:
            if item.get("type") == "searchResEntry":
                entries.append((item["dn"], item["raw_attributes"]))  # names in lower case
        result = self.conn.result or {}
        if result.get("result", 0) != 0:
            raise Incomplete(str(result.get("description", "")))
        return entries

    def changed(self, filt: str) -> str:
        """``filt`` limited to the entries changed since the cursor (less the overlap)."""
        assert self.since is not None
        since = self.since - dt.timedelta(seconds=self.cfg.overlap_seconds)
        stamp = since.strftime("%Y%m%d%H%M%S") + (".0Z" if self.cfg.flavour == "ad" else "Z")
        return f"(&{filt}({self.cfg.changed_attribute}>={stamp}))"

    def full_and_listing(
        self, base: str, filt: str, attrs: list[str], listed: list[str]
    ) -> tuple[list[tuple[str, Raw]], list[tuple[str, Raw]]]:
        """(the entries to read in full, every entry with the ``listed`` attributes only)."""
        attrs = [*attrs, self.cfg.changed_attribute]
        if self.since is None:
            entries = self.search(base, filt, attrs)
            listing = entries
        else:  # changes first: what the listing misses then was deleted since
            entries = self.search(base, self.changed(filt), attrs)
            listing = self.search(base, filt, listed)
        for _dn, raw in entries:
            stamp = parse_time(_first(raw, self.cfg.changed_attribute.lower()))
            if stamp and (self.newest is None or stamp > self.newest):
                self.newest = stamp
        return entries, listing

    def departments(self) -> tuple[list[ExternalDepartment], set[str] | None, dict[DN, str]]:
        cfg = self.cfg
        if cfg.department_from.lower() != "ou":
            return [], None, {}
        base = dn_key(cfg.department_base_dn)
        entries, listing = self.full_and_listing(
            cfg.department_base_dn,
            cfg.department_filter,
            [cfg.id_attribute, cfg.department_name_attribute],
            [cfg.id_attribute],
        )
        by_dn = {
            k: e
            for dn, raw in listing
            if (k := dn_key(dn)) != base and (e := self.external_id(dn, raw))
        }
        result = []
        for dn, raw in sorted(entries, key=lambda e: len(dn_key(e[0]))):
            key = dn_key(dn)
            if key == base or key not in by_dn:
                continue
            name = clean(_first_bytes(raw, cfg.department_name_attribute.lower()), MAX_NAME)
            name = name or clean(dn.split(",", 1)[0].partition("=")[2].encode(), MAX_NAME)
            if not name:
                logger.warning("LDAP department %s skipped: no name", dn)
                continue
            result.append(ExternalDepartment(by_dn[key], name, parent_id=_above(key, by_dn)))
        return result, set(by_dn.values()), by_dn

    def people(
        self, dept_by_dn: dict[DN, str]
    ) -> tuple[list[ExternalPerson], set[str], tuple[list[ExternalDepartment], set[str]] | None]:
        """(people to write, every person's id, the named departments when department_from
        is an attribute)."""
        cfg = self.cfg
        dept_attr = cfg.department_from if cfg.department_from.lower() != "ou" else ""
        attrs = [cfg.id_attribute, cfg.employee_no_attribute, cfg.mail_attribute, dept_attr]
        attrs += [*cfg.name_attributes, cfg.mobile_attribute, cfg.manager_attribute]
        attrs = [a for a in attrs if a] + (["userAccountControl"] if cfg.flavour == "ad" else [])
        listed = [cfg.id_attribute, *([dept_attr] if dept_attr else [])]
        entries, listing = self.full_and_listing(cfg.base_dn, cfg.user_filter, attrs, listed)
        by_dn = {dn_key(dn): e for dn, raw in listing if (e := self.external_id(dn, raw))}
        found: list[tuple[str, Raw]] = []
        if cfg.disabled_filter:
            filt = f"(&{cfg.user_filter}{cfg.disabled_filter})"
            filt = self.changed(filt) if self.since is not None else filt
            found = self.search(cfg.base_dn, filt, [cfg.id_attribute])
        disabled = {e for dn, raw in found if (e := self.external_id(dn, raw))}
        people: dict[str, ExternalPerson] = {}
        for dn, raw in entries:
            person = self.person(dn, raw, by_dn, dept_by_dn, disabled)
            if person and person.external_id not in people:
                people[person.external_id] = person
        named = None
        if dept_attr:
            changed = {p.department_id for p in people.values()}
            everyone = dict(
                d for _dn, raw in listing if (d := _named_department(raw, dept_attr.lower()))
            )
            named = (
                [ExternalDepartment(k, v) for k, v in sorted(everyone.items()) if k in changed],
                set(everyone),
            )
        return list(people.values()), set(by_dn.values()), named

    def person(
        self, dn: str, raw: Raw, by_dn: dict[DN, str], dept_by_dn: dict[DN, str], disabled: set[str]
    ) -> ExternalPerson | None:
        cfg = self.cfg
        ext = self.external_id(dn, raw)
        if not ext:
            return None
        names = (clean(_first_bytes(raw, a.lower()), MAX_NAME) for a in cfg.name_attributes)
        name = next((n for n in names if n), "")
        if not name:
            logger.warning("LDAP person %s skipped: no name", dn)
            return None
        key = dn_key(dn)
        if cfg.department_from.lower() == "ou":
            department = _above(key, dept_by_dn)
        else:
            named = _named_department(raw, cfg.department_from.lower())
            department = named[0] if named else None
        manager = _first(raw, cfg.manager_attribute.lower())
        uac = _first(raw, "useraccountcontrol")
        active = ext not in disabled and not (uac.isdigit() and int(uac) & 2)
        return ExternalPerson(
            external_id=ext,
            name=name,
            department_id=department,
            employee_no=self.value(dn, raw, cfg.employee_no_attribute, MAX_EMPLOYEE_NO),
            email=self.value(dn, raw, cfg.mail_attribute, MAX_EMAIL, email=True),
            mobile=self.value(dn, raw, cfg.mobile_attribute, MAX_MOBILE),
            manager_id=by_dn.get(dn_key(manager)) if manager else None,
            active=active,
            attributes={"dn": dn},
        )

    def external_id(self, dn: str, raw: Raw) -> str:
        """The entry's id ("" and logged when it has none usable)."""
        value = _first_bytes(raw, self.cfg.id_attribute.lower())
        if self.cfg.id_attribute.lower() == "objectguid" and len(value) == 16:
            return str(uuid.UUID(bytes_le=value))
        ext = clean(value, MAX_ID, cut=False) or ""
        if not ext:
            logger.warning("LDAP entry %s skipped: no usable %s", dn, self.cfg.id_attribute)
        return ext

    def value(self, dn: str, raw: Raw, attr: str, limit: int, *, email: bool = False) -> str:
        value = clean(_first_bytes(raw, attr.lower()), limit, cut=False)
        if value is not None and email and value and ("@" not in value or " " in value):
            value = None
        if value is None:
            logger.warning("LDAP person %s: %s dropped (too long or malformed)", dn, attr)
            return ""
        return value


def clean(raw: bytes, limit: int, *, cut: bool = True) -> str | None:
    """Text without control characters and runs of whitespace; longer than ``limit``: cut
    (``cut``) or None. Never decodes more than a few times ``limit``."""
    text = raw[: limit * 8].decode("utf-8", "replace")
    text = one_line(text)
    if len(text) <= limit and (cut or len(raw) <= limit * 8):
        return text
    return text[:limit].rstrip() if cut else None


def dn_key(dn: str) -> DN:
    """A DN compared as LDAP does, near enough: per RDN, lower case, no spaces around , and =."""
    text = dn.strip().lower()
    if " ," in text or ", " in text or " =" in text or "= " in text:
        text = _DN_SPACES.sub(r"\1", text)
    return tuple(text.split(",") if "\\" not in text else re.split(r"(?<!\\),", text))


def parse_time(value: str) -> dt.datetime | None:
    """A GeneralizedTime (``20240101120000Z``, ``20240101120000.0Z``, ``...+0800``) in UTC."""
    match = _TIME.match(value.strip())
    if not match:
        return None
    try:
        stamp = dt.datetime.strptime(match[1], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    zone = match[2]
    if zone != "Z":
        offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        stamp -= offset if zone[0] == "+" else -offset
    return stamp


def format_time(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.UTC).strftime("%Y%m%d%H%M%SZ")


def _above(key: DN, by_dn: dict[DN, str]) -> str | None:
    """The id of the nearest entry of ``by_dn`` above ``key``."""
    for i in range(1, len(key)):
        if (found := by_dn.get(key[i:])) is not None:
            return found
    return None


def _named_department(raw: Raw, attr: str) -> tuple[str, str] | None:
    """(external id, name) of the department an attribute names."""
    name = clean(_first_bytes(raw, attr), MAX_NAME)
    return (f"name:{name.lower()}"[:MAX_ID], name) if name else None


def _first_bytes(raw: Raw, attr: str) -> bytes:
    values = raw.get(attr)
    return values[0] if values else b""


def _first(raw: Raw, attr: str) -> str:
    return _first_bytes(raw, attr).decode("utf-8", "replace").strip()
