"""The file-drop connector, for tools with no API: their account export (CSV or XLSX), put on
a server the company controls, fetched on the connector's schedule and read by the import
engine (renewals/imports) as an uploaded file is. Revoking is not possible.

``connector.base_url``: the file's address.
- ``https://host/path/accounts.csv`` (``http://`` on 127.0.0.1 only): a GET, no redirects, with
  the secret ``token`` as Bearer, else ``username`` and the secret ``password`` as basic auth.
- ``sftp://host:port/path/accounts.xlsx`` (paramiko): ``username`` (never in the address), the
  secret ``password`` and/or ``private_key`` (OpenSSH or PEM, no passphrase), and ``host_key``,
  required: the server's ``SHA256:…`` fingerprint or public key line (``ssh-ed25519 AAAA…``).
  Another key is refused before any credential is sent; keys are never learnt.
``timeout`` (30 s); at most ``IMPORT_MAX_BYTES``, counted as the bytes arrive.

The engine reads ``SPEC``'s columns (English and Chinese names, any order): type by content
(sniff_format: CSV or XLSX only), UTF-8 (BOM or not) or GBK (decode_csv), zip bombs refused,
rows staged by COPY (load_stage) and checked in SQL (check_rows: formats, "=" formulas,
lengths, repeated rows). Any row in error fails the read, quoting the first few; so does a file
without rows (a sync would take every account as gone).

One row per account, or per account and ``module``: ``external_id`` is the account (login)
lower-cased, else the e-mail; its last activity the latest of its rows, a date alone midnight
in TIME_ZONE. Rows whose optional ``subscription`` names another subscription's reference are
ignored (an export may serve several connectors); a file with no row for this one is refused.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import SplitResult, unquote, urlsplit

import httpx
import paramiko
import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations.connectors.entries import (
    MAX_EMAIL,
    MAX_EMPLOYEE_NO,
    MAX_ID,
    MAX_MOBILE,
    MAX_MODULE_NAME,
    MAX_MODULES,
    MAX_NAME,
    MAX_TEXT,
    ConnectorError,
    ConnectorKind,
    ExternalAccount,
    clean_text,
)
from integrations.connectors.http import connector_timeout
from integrations.setting import Setting
from renewals.imports.checks import CheckResult, check_rows
from renewals.imports.columns import ERROR_MESSAGES, Column
from renewals.imports.reader import FileProblem, Header, load_stage, sniff_format
from renewals.imports.services import _describe
from renewals.imports.specs import Check, ImportSpec, c

logger = logging.getLogger(__name__)

SETTINGS = (
    Setting("username", gettext_lazy("User name"),
            help=gettext_lazy("SFTP: the account on the server. HTTPS: sent with the password as basic "
                    "authentication (not needed with a token).")),
    Setting("password", gettext_lazy("Password"), secret=True,
            help=gettext_lazy("SFTP, or HTTPS basic authentication.")),
    Setting("private_key", gettext_lazy("Private key (SFTP)"), secret=True,
            help=gettext_lazy("SFTP: an OpenSSH or PEM private key without a passphrase.")),
    Setting("host_key", gettext_lazy("Server host key (SFTP)"),
            help=gettext_lazy("Required for SFTP: the server's SHA256:… fingerprint or its public key "
                    "line (ssh-ed25519 AAAA…). A server with another key is refused.")),
    Setting("token", gettext_lazy("Bearer token (HTTPS)"), secret=True,
            help=gettext_lazy("HTTPS: sent as Authorization: Bearer.")),
    Setting("timeout", gettext_lazy("Time-out (seconds)"), kind="int", max_value=300, default=30),
)  # fmt: skip

MAX_ROWS, CHUNK, ERRORS_SHOWN = 200_000, 32 * 1024, 3

# A date the engine reads (renewals_parse_date), optionally with a time and a UTC offset.
MOMENT = (
    r"^[0-9]{4}([-/.年][0-9]{1,2}[-/.月][0-9]{1,2}日?|[0-9]{4})"
    r"([ T]([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,9})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?)?$"
)
_TIME = re.compile(r"[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|([+-])(\d{2}):?(\d{2}))?$")


@dataclass(frozen=True)
class _Moment(Column):
    """A last activity: a date in any of the engine's forms, or a date and time."""

    kind: str = "moment"

    def checks(self, cell: str | None = None) -> list[tuple[str, str]]:
        c = cell or self.cell
        return [*super().checks(c), ("not_a_date", f"{c} !~ '{MOMENT}' OR {self.day(c)} IS NULL")]

    def day(self, c: str) -> str:
        return f"renewals_parse_date(substring({c} from '^[^ T]+'))"

    def value(self) -> str:
        return self.day(self.cell)


ACTIVE = {
    **dict.fromkeys(("active", "enabled", "yes", "y", "true", "1", "正常", "启用", "已启用",
                     "激活", "在用", "是"), "active"),
    **dict.fromkeys(("inactive", "disabled", "suspended", "deactivated", "no", "n", "false",
                     "0", "停用", "已停用", "禁用", "已禁用", "冻结", "否"), "inactive"),
}  # fmt: skip
_NO_ID = "SELECT s.line, NULL::text FROM import_stage s WHERE {account} IS NULL AND {email} IS NULL"
SPEC = ImportSpec(
    kind="filedrop",
    columns=[
        c("subscription", "text", "subscription_ref", "ref", "订阅编号", "订阅", required=False,
          max_length=30),
        c("account", "text", "login", "user_name", "username", "账号", "账户", "登录名", "用户名",
          required=False, max_length=MAX_TEXT),
        c("email", "email", "e_mail", "mail", "邮箱", "电子邮箱", "邮件", required=False,
          max_length=MAX_EMAIL),
        c("employee_no", "text", "employee_number", "工号", "员工编号", required=False,
          max_length=MAX_EMPLOYEE_NO),
        c("name", "text", "display_name", "full_name", "姓名", "名字", "显示名称", required=False,
          max_length=MAX_NAME),
        c("mobile", "text", "phone", "手机", "手机号", required=False, max_length=MAX_MOBILE),
        _Moment("last_active", required=False, aliases=(
            "last_active_on", "last_active_at", "last_login", "last_seen", "最近活跃",
            "最后活跃日期", "最后活跃时间", "最近登录", "最后登录时间", "最近登录时间")),
        c("active", "choice", "status", "enabled", "状态", "账号状态", "是否启用", required=False,
          choices=ACTIVE),
        c("module", "text", "product", "模块", "产品", required=False, max_length=MAX_MODULE_NAME),
    ],
    key=("subscription", "module", "email", "account"),
    checks=[
        Check("account", "required", "", query=_NO_ID),
        Check("email", "required", "", query=_NO_ID + " AND NOT {has_account}"),
    ],
)  # fmt: skip


def read(connector: Any) -> list[ExternalAccount]:
    """Every account the file lists (any problem: ConnectorError, nothing)."""
    url = urlsplit(connector.base_url)
    with tempfile.TemporaryDirectory(prefix="filedrop-") as folder:
        path = Path(folder) / "drop"
        with path.open("xb") as out:
            if url.scheme == "sftp":
                _sftp_fetch(connector, url, out)
            elif url.scheme in ("https", "http"):
                _http_fetch(connector, out)
            else:
                raise ConnectorError(_("Give the file's address as https://… or sftp://…"))
        rows = _stage_and_check(path)
    ref = connector.subscription.ref if connector.subscription_id else ""
    accounts = _accounts(rows, ref)
    if not accounts:
        raise ConnectorError(
            _("No row of the file is for the subscription %(ref)s.") % {"ref": ref}
        )
    return accounts


def _too_big() -> ConnectorError:
    limit = settings.IMPORT_MAX_BYTES // (1024 * 1024)
    return ConnectorError(_("The file is larger than %(limit)s MB.") % {"limit": limit})


def _copy(chunks: Any, out: IO[bytes]) -> None:
    written = 0
    for chunk in chunks:
        written += len(chunk)
        if written > settings.IMPORT_MAX_BYTES:
            raise _too_big()
        out.write(chunk)


# --- HTTPS --------------------------------------------------------------------------------------
def _http_fetch(connector: Any, out: IO[bytes]) -> None:
    """GET the file (decoded bytes counted: a gzip bomb stops at the limit)."""
    where, secrets = connector.base_url, connector.secrets
    headers, auth = {}, None
    if secrets.get("token"):
        headers["Authorization"] = f"Bearer {secrets['token']}"
    elif secrets.get("password"):
        user = str((connector.config or {}).get("username") or "")
        auth = httpx.BasicAuth(user, secrets["password"])
    try:
        with (
            httpx.Client(timeout=connector_timeout(connector), follow_redirects=False) as client,
            client.stream("GET", where, headers=headers, auth=auth) as response,
        ):
            status = response.status_code
            if status >= 300:
                raise _http_refused(status, where)
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > settings.IMPORT_MAX_BYTES:
                raise _too_big()
            _copy(response.iter_bytes(CHUNK), out)
    except httpx.TimeoutException:
        raise ConnectorError(_("%(url)s did not answer in time.") % {"url": where}) from None
    except httpx.HTTPError as exc:
        logger.warning("file drop %s: %s", getattr(connector, "pk", "?"), exc)
        raise ConnectorError(
            _("%(url)s cannot be reached: %(detail)s") % {"url": where, "detail": str(exc)[:200]}
        ) from None


def _http_refused(status: int, where: str) -> ConnectorError:
    if status < 400:
        text = _("%(url)s redirects elsewhere (HTTP %(status)s): give the file's own address.")
    elif status in (401, 403):
        text = _("The server refused the connector's token or password (HTTP %(status)s).")
    elif status in (404, 410):
        text = _("There is no file at %(url)s (HTTP %(status)s).")
    else:
        text = _("The file's server answered HTTP %(status)s.")
    return ConnectorError(text % {"url": where, "status": status})


# --- SFTP ---------------------------------------------------------------------------------------
def _sftp_fetch(connector: Any, url: SplitResult, out: IO[bytes]) -> None:
    """The file over SFTP, once the server has shown the pinned host key."""
    config, secrets, where = connector.config or {}, connector.secrets, connector.base_url
    user, pinned = str(config.get("username") or ""), str(config.get("host_key") or "").strip()
    password, key_text = secrets.get("password", ""), secrets.get("private_key", "")
    path = unquote(url.path)
    if not url.hostname or not path or path.endswith("/"):
        raise ConnectorError(_("The address names no file: sftp://host:port/path/file.csv"))
    if not user or not (password or key_text):
        raise ConnectorError(_("An SFTP connector needs a user name and a password or key."))
    if not pinned:
        raise ConnectorError(_("An SFTP connector needs the server's host key (see its help)."))
    key = _private_key(key_text) if key_text else None
    timeout = connector_timeout(connector)
    try:
        sock = socket.create_connection((url.hostname, url.port or 22), timeout=timeout)
    except TimeoutError:
        raise ConnectorError(_("%(url)s did not answer in time.") % {"url": where}) from None
    except OSError as exc:
        raise ConnectorError(
            _("%(url)s cannot be reached: %(detail)s") % {"url": where, "detail": exc.strerror}
        ) from None
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = transport.handshake_timeout = timeout
        transport.auth_timeout = timeout
        _prefer_key_type(transport, pinned)
        transport.start_client(timeout=timeout)
        _check_host_key(transport.get_remote_server_key(), pinned)
        _login(transport, user, password, key)
        with paramiko.SFTPClient.from_transport(transport) as sftp:
            sftp.get_channel().settimeout(timeout)
            size = sftp.stat(path).st_size or 0
            if size > settings.IMPORT_MAX_BYTES:
                raise _too_big()
            with sftp.open(path, "rb") as remote:
                remote.prefetch(size)
                _copy(iter(lambda: remote.read(CHUNK), b""), out)
    except ConnectorError:
        raise
    except Exception as exc:  # noqa: BLE001 - paramiko's and the socket's, as one message
        raise _sftp_error(exc, connector) from None
    finally:
        transport.close()


def _sftp_error(exc: Exception, connector: Any) -> ConnectorError:
    where = connector.base_url
    logger.warning("file drop %s: %s", getattr(connector, "pk", "?"), type(exc).__name__)
    if isinstance(exc, paramiko.AuthenticationException):
        return ConnectorError(_("The SFTP server refused the user name, password or key."))
    if isinstance(exc, FileNotFoundError):
        return ConnectorError(_("There is no file at %(url)s.") % {"url": where})
    if isinstance(exc, PermissionError):
        return ConnectorError(_("The SFTP user may not read %(url)s.") % {"url": where})
    if isinstance(exc, TimeoutError):
        return ConnectorError(_("%(url)s did not answer in time.") % {"url": where})
    return ConnectorError(
        _("SFTP with %(url)s failed: %(detail)s") % {"url": where, "detail": str(exc)[:200]}
    )


def _pinned_key(pinned: str) -> tuple[str, str] | None:
    """(key type, base64) of a public key line (known_hosts or .pub), else None."""
    words = pinned.split()
    for kind, body in zip(words, words[1:], strict=False):
        if kind.startswith(("ssh-", "ecdsa-")) and body.startswith("AAAA"):
            return kind, body
    return None


def _prefer_key_type(transport: paramiko.Transport, pinned: str) -> None:
    """Ask for the pinned key's type (a server may have several host keys)."""
    found = _pinned_key(pinned)
    if found is None:
        return
    wanted = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] if found[0] == "ssh-rsa" else [found[0]]
    options = transport.get_security_options()
    usable = [k for k in wanted if k in options.key_types]
    if usable:
        options.key_types = usable


def _check_host_key(key: paramiko.PKey, pinned: str) -> None:
    found = _pinned_key(pinned)
    if found is not None:
        matches = found == (key.get_name(), key.get_base64())
    elif pinned.upper().startswith("SHA256:"):
        matches = key.fingerprint.split(":", 1)[1] == pinned.split(":", 1)[1].rstrip("=")
    else:
        raise ConnectorError(
            _("The host key setting is neither a SHA256: fingerprint nor a public key line.")
        )
    if not matches:
        raise ConnectorError(
            _("The SFTP server's host key is not the pinned one (it shows %(fingerprint)s). "
              "If the server's key really changed, update the connector's host key.")
            % {"fingerprint": key.fingerprint}
        )  # fmt: skip


def _private_key(text: str) -> paramiko.PKey:
    """The key from its text, also when a one-line form field ate its line breaks."""
    found = re.search(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", text, re.S)
    if found:
        body = "".join(found.group(2).split())
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        text = "\n".join([f"-----BEGIN {found.group(1)}-----", *lines,
                          f"-----END {found.group(1)}-----", ""])  # fmt: skip
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, ValueError, TypeError, IndexError):
            continue
    raise ConnectorError(_("The private key is not an OpenSSH or PEM key without a passphrase."))


def _login(
    transport: paramiko.Transport, user: str, password: str, key: paramiko.PKey | None
) -> None:
    if key is not None:
        try:
            transport.auth_publickey(user, key)
        except paramiko.AuthenticationException:
            if not password:
                raise
    if not transport.is_authenticated() and password:
        transport.auth_password(user, password)
    if not transport.is_authenticated():  # more was asked for (a second factor)
        raise paramiko.AuthenticationException


# --- The import engine --------------------------------------------------------------------------
class _Rollback(Exception):
    """Ends the staging transaction: nothing of it is kept but the rows read."""


def _stage_and_check(path: Path) -> list[dict[str, Any]]:
    """The file's rows, typed, once the engine found no error in any (else ConnectorError)."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    outcome: dict[str, Any] = {}
    try:
        file_format = sniff_format(head)
        path = path.rename(path.with_suffix(f".{file_format}"))  # openpyxl goes by the suffix
        with transaction.atomic(), connection.cursor() as cursor:
            header = load_stage(cursor, path=path, file_format=file_format,
                                spec_columns=SPEC.columns)  # fmt: skip
            if not header.present & {"account", "email"} or "last_active" not in header.present:
                raise ConnectorError(_(
                    "The file needs a column of the account (账号) or the e-mail (邮箱), and one "
                    "of the last activity (最近活跃). The first row must hold the column names."))  # fmt: skip
            result = check_rows(cursor, spec=SPEC, header=header, depts=[],
                                base=settings.BASE_CURRENCY)  # fmt: skip
            outcome["result"] = result
            if result.error_count == 0 and 0 < result.total_rows <= MAX_ROWS:
                outcome["rows"] = _typed_rows(cursor, header)
            raise _Rollback
    except _Rollback:
        pass
    except FileProblem as problem:
        raise ConnectorError(problem.text()) from None
    except (DatabaseError, psycopg.Error) as exc:  # COPY's own are psycopg's
        raise ConnectorError(_describe(exc).text()) from None
    result = outcome["result"]
    if result.error_count:
        raise _row_errors(result)
    if result.total_rows == 0:
        raise ConnectorError(_("The file has a header but no data rows."))
    if result.total_rows > MAX_ROWS:
        raise ConnectorError(_("The file has more than %(most)d rows.") % {"most": MAX_ROWS})
    rows: list[dict[str, Any]] = outcome["rows"]
    return rows


def _typed_rows(cursor: Any, header: Header) -> list[dict[str, Any]]:
    present = [col for col in SPEC.columns if col.name in header.present]
    names = [col.name for col in present] + ["last_active_text"]
    values = [col.value() for col in present] + [SPEC.cell("last_active")]
    cursor.execute(f"SELECT {', '.join(values)} FROM import_stage s ORDER BY s.line")
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _row_errors(result: CheckResult) -> ConnectorError:
    shown = []
    for error in result.errors[:ERRORS_SHOWN]:
        message = str(ERROR_MESSAGES.get(error["code"], error["code"]))
        if "%(" in message:
            message %= SPEC.column(error["column"]).message_params()
        shown.append(_("row %(line)s, %(column)s: %(message)s") % {
            "line": error["line"], "column": error["column"], "message": message})  # fmt: skip
    return ConnectorError(
        _("The file has %(count)s errors; nothing was read. %(errors)s")
        % {"count": result.error_count, "errors": " ".join(shown)}
    )


# --- Rows to accounts ---------------------------------------------------------------------------
def _moment(day: dt.date | None, text: str | None) -> dt.datetime | None:
    """The checked cell as an aware time: its offset, else TIME_ZONE; a date alone: midnight."""
    if day is None:
        return None
    found = _TIME.search(text or "")
    if found is None:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    hour, minute, second, fraction, zone, sign, zh, zm = found.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    moment = dt.datetime.combine(day, dt.time(int(hour), int(minute), int(second or 0), micro))
    if zone is None:
        return timezone.make_aware(moment)
    offset = dt.timedelta(hours=int(zh or 0), minutes=int(zm or 0))
    return moment.replace(tzinfo=dt.timezone(-offset if sign == "-" else offset))


def _later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None or (b is not None and b > a) else a


FIELDS = (("account", MAX_TEXT), ("name", MAX_NAME), ("email", MAX_EMAIL),
          ("employee_no", MAX_EMPLOYEE_NO), ("mobile", MAX_MOBILE))  # fmt: skip


def _accounts(rows: list[dict[str, Any]], ref: str) -> list[ExternalAccount]:
    """One account per account (or e-mail), its rows merged; other subscriptions' rows left."""
    merged: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.get("subscription") and ref and row["subscription"] != ref:
            continue
        values = {name: clean_text(row.get(name), limit) for name, limit in FIELDS}
        if " " in values["email"]:
            values["email"] = ""
        key = (values["account"] or values["email"]).lower()[:MAX_ID]
        if not key:
            continue  # the checks refused such rows
        into = merged.setdefault(key, {"last": None, "modules": {}, "states": set()})
        for name, text in values.items():
            into[name] = into.get(name) or text
        stamp = _moment(row.get("last_active"), row.get("last_active_text"))
        into["last"] = _later(into["last"], stamp)
        module = clean_text(row.get("module"), MAX_MODULE_NAME)
        if module and (module in into["modules"] or len(into["modules"]) < MAX_MODULES):
            into["modules"][module] = _later(into["modules"].get(module), stamp)
        if row.get("active"):
            into["states"].add(row["active"] == "active")
    return [
        ExternalAccount(
            external_id=key,
            user_name=into["account"] or into["email"],
            display_name=into["name"],
            email=into["email"],
            employee_no=into["employee_no"],
            mobile=into["mobile"],
            active=not into["states"] or True in into["states"],
            last_active_at=into["last"],
            modules=into["modules"],
        )
        for key, into in merged.items()
    ]


KIND = ConnectorKind(read=read, deprovision=None, reactivate=None, settings=SETTINGS)
