"""The LDAP reader's settings (``integrations.directory.ldap`` documents them) and its
connection: TLS, bind, ldap3's entries kept raw, and failures as a translated SourceError
that never holds the password."""

from __future__ import annotations

import dataclasses
import re
import ssl
from typing import Any, cast
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from ldap3 import NONE, Connection, Server, Tls
from ldap3.core import exceptions as ldap_errors
from ldap3.utils.conv import to_unicode

from integrations.directory.entries import SourceError

Raw = dict[str, list[bytes]]

AD_USERS = "(&(objectClass=user)(!(objectClass=computer)))"
FLAVOURS = {  # user_filter, id_attribute, employee_no_attribute, changed_attribute
    "openldap": ("(objectClass=inetOrgPerson)", "entryUUID", "employeeNumber", "modifyTimestamp"),
    "ad": (AD_USERS, "objectGUID", "employeeID", "whenChanged"),
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The settings of the module docstring, with their defaults ("": the flavour's)."""

    host: str
    port: int | None
    use_ssl: bool
    start_tls: bool
    password: str
    name_attributes: tuple[str, ...]
    timeout: int
    page_size: int
    overlap_seconds: int
    base_dn: str = ""
    department_base_dn: str = ""
    ca_file: str = ""
    bind_dn: str = ""
    department_filter: str = "(objectClass=organizationalUnit)"
    department_from: str = "ou"
    department_name_attribute: str = "ou"
    flavour: str = "auto"
    user_filter: str = ""
    id_attribute: str = ""
    employee_no_attribute: str = ""
    mail_attribute: str = "mail"
    mobile_attribute: str = "mobile"
    manager_attribute: str = "manager"
    changed_attribute: str = ""
    disabled_filter: str = ""


def settings(config: dict[str, Any], secrets: dict[str, str]) -> Settings:
    """The source's settings with their defaults; SourceError when unusable."""
    text = {
        f.name: str(config.get(f.name) or f.default).strip()
        for f in dataclasses.fields(Settings)
        if isinstance(f.default, str)
    }
    text["department_base_dn"] = text["department_base_dn"] or text["base_dn"]
    text["flavour"] = text["flavour"].lower()
    for key in ("user_filter", "department_filter", "disabled_filter"):  # "a=b" means "(a=b)"
        text[key] = f"({text[key]})" if text[key] and not text[key].startswith("(") else text[key]
    url = urlsplit(str(config.get("url") or "").strip())
    if url.scheme not in ("ldap", "ldaps") or not url.hostname or url.username:
        raise SourceError(_("The LDAP server address must look like ldap://host or ldaps://host."))
    if not text["base_dn"]:
        raise SourceError(_("The LDAP source has no base DN."))
    if text["flavour"] not in ("auto", "openldap", "ad"):
        raise SourceError(_("The LDAP flavour must be auto, openldap or ad."))
    password = secrets.get("bind_password", "")
    if text["bind_dn"] and not password:
        raise SourceError(_("The LDAP source has a bind DN but no bind password."))
    names = config.get("name_attributes") or "displayName,cn"
    names = names.split(",") if isinstance(names, str) else names
    try:
        port = url.port
        timeout, page_size, overlap = (
            int(str(d if config.get(k) in (None, "") else config.get(k)))
            for k, d in (("timeout", 30), ("page_size", 500), ("overlap_seconds", 60))
        )
    except (TypeError, ValueError):
        raise SourceError(_("The LDAP source has a setting that is not a number.")) from None
    return Settings(
        host=url.hostname,
        port=port,
        use_ssl=url.scheme == "ldaps",
        start_tls=str(config.get("start_tls")).lower() in ("true", "1", "yes", "on")
        and url.scheme == "ldap",
        password=password,
        name_attributes=tuple(n.strip() for n in names if str(n).strip()),
        timeout=max(1, timeout),
        page_size=max(1, page_size),
        overlap_seconds=max(0, overlap),
        **text,
    )


def with_flavour(cfg: Settings, flavour: str) -> Settings:
    """The settings with the flavour's defaults filled in where none was given."""
    users, ids, numbers, changed = FLAVOURS[flavour]
    return dataclasses.replace(
        cfg,
        flavour=flavour,
        user_filter=cfg.user_filter or users,
        id_attribute=cfg.id_attribute or ids,
        employee_no_attribute=cfg.employee_no_attribute or numbers,
        changed_attribute=cfg.changed_attribute or changed,
    )


def connect(cfg: Settings) -> Connection:
    tls = None
    if cfg.use_ssl or cfg.start_tls:
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=cfg.ca_file or None, sni=cfg.host)
    server = Server(
        cfg.host, cfg.port, cfg.use_ssl, tls=tls, get_info=NONE, connect_timeout=cfg.timeout
    )
    options = {"raise_exceptions": True, "receive_timeout": cfg.timeout, "read_only": True}
    # check_names off: without a schema ldap3 would format every value for nothing (we use raw)
    options |= {"auto_referrals": False, "check_names": False}
    conn = Connection(server, cfg.bind_dn or None, cfg.password or None, **options)
    _keep_raw_values_only(conn)
    conn.open()
    if cfg.start_tls:
        conn.start_tls()
    conn.bind()
    return conn


def _keep_raw_values_only(conn: Connection) -> None:
    """ldap3 builds every search entry twice: its raw values, and the same values decoded
    (formatted by the schema, or as text without one), each under case-insensitive names. The
    reader uses the raw values only, so on this connection an entry keeps just those, under
    lower-case names: 40% less time reading 50,000 people (bench/bench_directory_sync.py).
    ldap3 still decodes the message (its own BER decoder); only the dicts it would build from
    the decoded message are left out. Anything else (or an entry with controls) goes to
    ldap3's own conversion."""
    strategy = conn.strategy
    ldap3_decode = strategy.decode_response_fast
    names: dict[bytes, str] = {}  # attribute names (ASCII, RFC 4512) repeat in every entry

    def decode_response_fast(message: dict[str, Any]) -> dict[str, Any]:
        if message["protocolOp"] != 4 or message["controls"]:  # 4: searchResEntry
            return cast(dict[str, Any], ldap3_decode(message))
        dn, attributes = message["payload"][0][3], message["payload"][1][3]
        raw: Raw = {}
        for attribute in attributes:  # as ldap3's raw_attributes_to_dict_fast, names lowered
            name_bytes = attribute[3][0][3]
            name = names.get(name_bytes) or names.setdefault(
                name_bytes, bytes(name_bytes).decode("ascii", "replace").lower()
            )
            raw[name] = [bytes(value[3]) for value in attribute[3][1][3] or ()]
        return {
            "type": "searchResEntry",
            "raw_dn": dn,
            "dn": to_unicode(dn, from_server=True),
            "raw_attributes": raw,
            "attributes": {},
        }

    strategy.decode_response_fast = decode_response_fast


class Incomplete(ldap_errors.LDAPException):
    """The server ended a search without success (a size or time limit)."""


def scrub(exc: BaseException, cfg: Settings) -> str:
    text = str(exc)
    return text.replace(cfg.password, "***") if cfg.password else text


E = ldap_errors
_TLS = (ssl.SSLError, E.LDAPStartTLSError, E.LDAPCertificateError)


def source_error(exc: BaseException, cfg: Settings) -> SourceError:
    """A translated SourceError for a failure of ldap3 or the network (never the password)."""
    detail = re.sub(r"^[(\"']+|[\"'],\)(\",\))?$", "", scrub(exc, cfg))  # ldap3's nested tuples
    host = f"{cfg.host}:{cfg.port}" if cfg.port else cfg.host
    server = _("The LDAP server %(host)s") % {"host": host}
    errors = [  # (exception types, or words of the message; what IT reads): the first that fits
        ((E.LDAPSSLConfigurationError,), "", _("The CA file (%(ca_file)s) cannot be read.")),
        ((E.LDAPResponseTimeoutError, TimeoutError), "timed out", _("%(server)s did not answer.")),
        ((), "doesn't match any name", _("The certificate of %(server)s is not for this host.")),
        (_TLS, "ssl", _("The TLS connection to %(server)s failed: %(detail)s")),
        ((E.LDAPInvalidCredentialsResult, E.LDAPBindError), "", _("%(server)s refused the bind.")),
        ((E.LDAPNoSuchObjectResult,), "", _("%(server)s has no such base DN: %(detail)s")),
        ((E.LDAPSocketOpenError,), "", _("%(server)s cannot be reached: %(detail)s")),
        ((Incomplete,), "", _("%(server)s returned only part of the entries: %(detail)s")),
        ((E.LDAPOperationResult,), "", _("%(server)s refused the search: %(detail)s")),
        ((BaseException,), "", _("%(server)s failed: %(detail)s")),
    ]
    msg = next(
        t
        for types, words, t in errors
        if isinstance(exc, types) or (words and words in detail.lower())
    )
    return SourceError(msg % {"server": server, "ca_file": cfg.ca_file, "detail": detail[:300]})
