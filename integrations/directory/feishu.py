"""Feishu / Lark (飞书) as a directory source: the full pull (contact v3) and the event callback.

The source's settings (``DirectorySource.config``): ``app_id`` (an internal, 自建, app), and
optionally ``base_url`` (default https://open.feishu.cn; Lark: https://open.larksuite.com) and
``root_department_name`` (the department of the people placed directly in the tenant's root;
default: the source's name). Its secrets: ``app_secret`` (pulls), ``encrypt_key`` and
``verification_token`` (events: both required, an unencrypted callback is refused).

The app needs the contact scope "all members" (通讯录权限范围: 全部成员) and the permissions to
read the contact (contact:contact:readonly_as_app) and users' user IDs
(contact:user.employee_id:readonly); e-mail, mobile and employee number each need their own
field permission or come empty.

Ids: a person is linked by their ``user_id`` (租户内用户的唯一标识: one id across the tenant's
apps, so a re-created app finds everybody again; ``open_id`` differs per app and is only kept on
the link to find the person again, e.g. as an event's manager); a department by its
``open_department_id`` (``department_id_type=open_department_id``: the id events carry); the
root department is "0". Status ``is_resigned``, ``is_frozen`` or ``is_exited`` means inactive.
The e-mail is ``enterprise_email`` (the tenant's Feishu mail) when set, else ``email``.

The pull goes through the official SDK (``lark_oapi``: requests, paths, the tenant token header),
imported only when a pull runs: importing it takes seconds, too long for the event callback,
which must answer Feishu's URL check within a second. The token is fetched and refreshed here
(the SDK's own token cache is process-wide, keyed by app id, and cannot be told that Feishu
refused a token); responses are read as the documented JSON.

Events (schema 2.0, Webhook) are decrypted with ``cryptography`` (AES-256-CBC, key =
SHA-256(encrypt key), IV = the first 16 bytes, PKCS#7; tested against the SDK's ``AESCipher``);
the signature X-Lark-Signature = hex SHA-256(timestamp + nonce + encrypt key + raw body) must
hold and the timestamp be within 5 minutes (only the URL check, which the signature does not
cover, passes on its verification token); the sync engine remembers event ids against replays.

Documentation followed:
- https://open.feishu.cn/document/ukTMukTMukTM/ukDNz4SO0MjL5QzM/auth-v3/auth/tenant_access_token_internal
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/contact-v3/department/children
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/contact-v3/user/find_by_department
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/contact-v3/user/field-overview
- https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control (429 / 99991400,
  x-ogw-ratelimit-reset) and .../api-call-guide/generic-error-code (99991663, 99991661)
- https://open.feishu.cn/document/ukTMukTMukTM/uYDNxYjL2QTM24iN0EjN/event-subscription-configure-/encrypt-key-encryption-configuration-case
  (接收事件: 签名校验, 解密) and .../choose-a-subscription-mode/send-notifications-to-developers-server
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/contact-v3/user/events/created
  (and updated, deleted; department/events/created, updated, deleted)
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.utils.translation import gettext as _

from integrations.directory import msgcrypt, sync
from integrations.directory.entries import (
    ExternalDepartment,
    ExternalPerson,
    Snapshot,
    SourceError,
)
from integrations.models import DirectoryLink, DirectorySource

DEFAULT_BASE_URL = "https://open.feishu.cn"
ROOT = "0"  # the tenant's root department
PAGE_SIZE = 50  # the most both list calls give per page
MAX_PAGES = 10_000  # a pagination that never ends is a fault, not a directory
TIMEOUT_SECONDS = 30
TOKEN_CODES = {99991663, 99991661}  # the tenant token is invalid (expired) / missing
RATE_LIMITED = 99991400
MAX_RATE_LIMIT_WAITS = 5  # per request, each at most MAX_WAIT_SECONDS
MAX_WAIT_SECONDS = 60
TOKEN_MARGIN_SECONDS = 300  # a token is renewed this long before Feishu says it expires


def _sleep(seconds: float) -> None:  # the tests replace it
    time.sleep(seconds)


def _sdk() -> Any:
    import lark_oapi  # seconds to import: only when a pull runs

    return lark_oapi


# --- the pull ---------------------------------------------------------------------------------


def read(source: DirectorySource, *, full: bool) -> Snapshot:
    """Everything the app can see (Feishu has no list of changes: every pull is a full one)."""
    api = _Api(source)
    departments = [
        _department(item)
        for item in api.pages(api.departments_page, ROOT)
        if not (item.get("status") or {}).get("is_deleted")
    ]
    people: dict[str, ExternalPerson] = {}
    for department_id in [ROOT, *(d.external_id for d in departments)]:
        for item in api.pages(api.users_page, department_id):
            person = _person(item, listed_in=department_id)
            people.setdefault(person.external_id, person)
    if any(p.department_id == ROOT for p in people.values()):
        departments.append(_root(source))
    return Snapshot(
        people=list(people.values()),
        departments=departments,
        present_people=set(people),
        present_departments={d.external_id for d in departments},
    )


class _Api:
    """One pull's client: the tenant token, rate limits and Feishu's error codes."""

    def __init__(self, source: DirectorySource) -> None:
        self.app_id = str((source.config or {}).get("app_id") or "").strip()
        self.app_secret = source.secrets.get("app_secret", "")
        if not self.app_id or not self.app_secret:
            raise SourceError(_("The Feishu source needs an app ID and an app secret."))
        self.lark = _sdk()
        try:
            self.client = (
                self.lark.Client.builder()
                .app_id(self.app_id)
                .app_secret(self.app_secret)
                .domain(base_url(source))
                .timeout(TIMEOUT_SECONDS)
                .enable_set_token(True)
                .build()
            )
        except ValueError:
            raise SourceError(
                _("The Feishu address must be https://host, for example https://open.feishu.cn.")
            ) from None
        self.token = ""
        self.token_until = 0.0

    def departments_page(self, department_id: str, page_token: str) -> Callable[[Any], Any]:
        from lark_oapi.api.contact.v3 import ChildrenDepartmentRequest

        builder = (
            ChildrenDepartmentRequest.builder().department_id(department_id).fetch_child("true")
        )
        request = self._page(builder, page_token)
        return lambda option: self.client.contact.v3.department.children(request, option)

    def users_page(self, department_id: str, page_token: str) -> Callable[[Any], Any]:
        from lark_oapi.api.contact.v3 import FindByDepartmentUserRequest

        builder = FindByDepartmentUserRequest.builder().department_id(department_id)
        request = self._page(builder, page_token)
        return lambda option: self.client.contact.v3.user.find_by_department(request, option)

    @staticmethod
    def _page(builder: Any, page_token: str) -> Any:
        builder = builder.department_id_type("open_department_id").user_id_type("user_id")
        builder = builder.page_size(PAGE_SIZE)
        return (builder.page_token(page_token) if page_token else builder).build()

    # Paging, tokens, limits.

    def pages(self, request: Callable[[str, str], Any], department_id: str) -> Iterator[dict]:
        page_token, seen = "", set()
        for _page in range(MAX_PAGES):
            data = self.call(request(department_id, page_token))
            yield from (i for i in data.get("items") or [] if isinstance(i, dict))
            if not data.get("has_more"):
                return
            page_token = str(data.get("page_token") or "")
            if not page_token or page_token in seen:
                break
            seen.add(page_token)
        raise SourceError(_("Feishu's pages of results did not end."))

    def call(self, send: Callable[[Any], Any]) -> dict:
        """The response's ``data``; a token Feishu refuses is renewed once."""
        response = self.send(lambda: send(self.option()))
        if response.code in TOKEN_CODES:
            self.token = ""
            response = self.send(lambda: send(self.option()))
        if response.code != 0:
            raise SourceError(self.refused(response))
        data = _json(response).get("data")
        return data if isinstance(data, dict) else {}

    def option(self) -> Any:
        return self.lark.RequestOption.builder().tenant_access_token(self.tenant_token()).build()

    def tenant_token(self) -> str:
        if self.token and time.monotonic() < self.token_until:
            return self.token
        from lark_oapi.api.auth.v3 import (
            InternalTenantAccessTokenRequest,
            InternalTenantAccessTokenRequestBody,
        )

        body = InternalTenantAccessTokenRequestBody.builder().app_id(self.app_id)
        request = InternalTenantAccessTokenRequest.builder().request_body(
            body.app_secret(self.app_secret).build()
        )
        response = self.send(
            lambda: self.client.auth.v3.tenant_access_token.internal(request.build())
        )
        answer = _json(response)
        token = answer.get("tenant_access_token")
        if response.code != 0 or not isinstance(token, str) or not token:
            raise SourceError(
                _("Feishu refused the app ID or app secret (code %(code)s: %(msg)s).")
                % {"code": response.code, "msg": self.scrub(response.msg)}
            )
        expire = answer.get("expire")
        seconds = expire if isinstance(expire, int) else 0
        self.token = token
        self.token_until = time.monotonic() + max(seconds - TOKEN_MARGIN_SECONDS, 0)
        return token

    def send(self, send: Callable[[], Any]) -> Any:
        """One request, waited out and repeated while Feishu says it is rate-limited."""
        import requests  # the SDK's transport

        for attempt in range(MAX_RATE_LIMIT_WAITS + 1):
            try:
                response = send()
            except requests.RequestException:
                raise SourceError(_("Feishu could not be reached.")) from None
            except ValueError:  # the SDK could not read the answer as JSON
                raise SourceError(_("Feishu gave an answer that is not JSON.")) from None
            status = getattr(response.raw, "status_code", 0)
            if status != 429 and response.code != RATE_LIMITED:
                return response
            if attempt < MAX_RATE_LIMIT_WAITS:
                _sleep(_wait_seconds(response.raw.headers, attempt))
        raise SourceError(_("Feishu kept refusing: too many requests. Try again later."))

    def refused(self, response: Any) -> str:
        return _(
            "Feishu refused the request (code %(code)s: %(msg)s). Check the app's contact "
            "permissions and that its contact scope is all members."
        ) % {"code": response.code, "msg": self.scrub(response.msg)}

    def scrub(self, message: object) -> str:
        text = str(message or "")[:200]
        return text.replace(self.app_secret, "***") if self.app_secret else text


def base_url(source: DirectorySource) -> str:
    return str((source.config or {}).get("base_url") or DEFAULT_BASE_URL).strip().rstrip("/")


def _json(response: Any) -> dict:
    try:
        value = json.loads(response.raw.content or b"{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _wait_seconds(headers: Mapping[str, str] | None, attempt: int) -> float:
    """x-ogw-ratelimit-reset (seconds) when Feishu sends it, else 1, 2, 4 ...; at most a minute."""
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    try:
        seconds = float(lowered["x-ogw-ratelimit-reset"])
    except (KeyError, TypeError, ValueError):
        seconds = float(2**attempt)
    return min(max(seconds, 1.0), MAX_WAIT_SECONDS)


# --- mapping ----------------------------------------------------------------------------------


def _department(item: Mapping[str, Any]) -> ExternalDepartment:
    external_id = str(item.get("open_department_id") or "")
    if not external_id:
        raise SourceError(_("Feishu listed a department without an id."))
    parent = str(item.get("parent_department_id") or "")
    return ExternalDepartment(
        external_id=external_id,
        name=str(item.get("name") or "").strip() or external_id,
        parent_id=parent if parent and parent != ROOT else None,
    )


def _root(source: DirectorySource) -> ExternalDepartment:
    name = str((source.config or {}).get("root_department_name") or "").strip()
    return ExternalDepartment(external_id=ROOT, name=name or source.name)


def _person(item: Mapping[str, Any], *, listed_in: str | None = None) -> ExternalPerson:
    """A user (a list's item or an event's object); ``listed_in``: the department it was listed
    in, for a user whose departments Feishu does not show (no permission to read them)."""
    user_id = str(item.get("user_id") or "")
    if not user_id:
        raise SourceError(
            _(
                "Feishu gave a user without a user ID: grant the app the permission to read "
                "users' user IDs (contact:user.employee_id:readonly)."
            )
        )
    status = item.get("status") or {}
    departments = [str(d) for d in item.get("department_ids") or [] if d]
    attributes = {k: str(item[k]) for k in ("open_id", "union_id") if item.get(k)}
    return ExternalPerson(
        external_id=user_id,
        name=str(item.get("name") or "").strip() or user_id,
        department_id=departments[0] if departments else listed_in,
        employee_no=str(item.get("employee_no") or "").strip(),
        email=str(item.get("enterprise_email") or item.get("email") or "").strip(),
        mobile=str(item.get("mobile") or "").strip(),
        manager_id=str(item.get("leader_user_id") or "") or None,
        active=not any(status.get(k) for k in ("is_resigned", "is_frozen", "is_exited")),
        attributes=attributes,
    )


# --- events -----------------------------------------------------------------------------------

USER_EVENTS = {"contact.user.created_v3", "contact.user.updated_v3", "contact.user.deleted_v3"}
DEPARTMENT_EVENTS = {
    "contact.department.created_v3",
    "contact.department.updated_v3",
    "contact.department.deleted_v3",
}


class EventRefused(Exception):
    """The callback is not one to act on: ``status`` is the HTTP answer, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Event:
    """A verified callback: a URL check (``challenge``) or an event and what it changes."""

    challenge: str | None = None
    event_id: str = ""
    event_type: str = ""
    occurred_at: dt.datetime | None = None
    person: ExternalPerson | None = None  # created / updated
    department: ExternalDepartment | None = None  # created / updated
    removed: str = ""  # deleted: the person's or the department's external id


def parse_event(
    source: DirectorySource, body: bytes, headers: Mapping[str, str], *, now: float | None = None
) -> Event:
    """Verify and read one callback; EventRefused if it is not to be trusted."""
    secrets = source.secrets
    key, token = secrets.get("encrypt_key", ""), secrets.get("verification_token", "")
    if not key or not token:
        raise EventRefused(403, _("Events are not set up for this source."))
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    problem = _signature_problem(lowered, body, key, now=now)
    try:
        payload = _decrypt_payload(body, key)
    except EventRefused as undecryptable:
        raise (problem or undecryptable) from None
    if payload.get("type") == "url_verification":  # the token vouches for it: Feishu's URL
        _check_token(payload.get("token"), token)  # check is not covered by the signature
        return Event(challenge=str(payload.get("challenge") or ""))
    if problem is not None:
        raise problem
    header = payload.get("header")
    if payload.get("schema") != "2.0" or not isinstance(header, dict):
        raise EventRefused(400, _("The callback is not a version 2.0 event."))
    _check_token(header.get("token"), token)
    app_id = str((source.config or {}).get("app_id") or "")
    if app_id and header.get("app_id") and header.get("app_id") != app_id:
        raise EventRefused(401, _("The event is for another app."))
    event_id, event_type = str(header.get("event_id") or ""), str(header.get("event_type") or "")
    try:
        occurred_at = dt.datetime.fromtimestamp(int(header["create_time"]) / 1000, tz=dt.UTC)
    except (KeyError, TypeError, ValueError, OverflowError):
        raise EventRefused(400, _("The event has no valid time.")) from None
    if not event_id:
        raise EventRefused(400, _("The event has no id."))
    found = Event(event_id=event_id, event_type=event_type, occurred_at=occurred_at)
    content = payload.get("event")
    obj = content.get("object") if isinstance(content, dict) else None
    if event_type not in USER_EVENTS | DEPARTMENT_EVENTS:
        return found  # another subscription: acknowledged, nothing to do
    if not isinstance(obj, dict):
        raise EventRefused(400, _("The event has no object."))
    return _with_change(found, obj)


def _with_change(event: Event, obj: dict) -> Event:
    deleted = event.event_type.endswith("deleted_v3")
    try:
        if event.event_type in DEPARTMENT_EVENTS:
            department = _department(obj)
            if deleted or (obj.get("status") or {}).get("is_deleted"):
                return replace(event, removed=department.external_id)
            return replace(event, department=department)
        person = _person(obj)
    except SourceError as exc:
        raise EventRefused(400, str(exc)) from None
    return replace(event, removed=person.external_id) if deleted else replace(event, person=person)


def _signature_problem(
    headers: Mapping[str, str], body: bytes, key: str, *, now: float | None
) -> EventRefused | None:
    """Why the callback's signature does not vouch for it (None: it does)."""
    timestamp = headers.get("x-lark-request-timestamp", "")
    nonce = headers.get("x-lark-request-nonce", "")
    given = headers.get("x-lark-signature", "")
    if not (timestamp or nonce or given):
        return EventRefused(401, _("The callback is not signed."))
    expected = hashlib.sha256((timestamp + nonce + key).encode() + body).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.lower().encode()):
        return EventRefused(401, _("The callback's signature is wrong."))
    if not msgcrypt.is_fresh(timestamp, now=now):
        return EventRefused(400, _("The callback is too old (or the clocks differ)."))
    return None


def _check_token(given: object, token: str) -> None:
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), token.encode()):
        raise EventRefused(401, _("The callback's verification token is wrong."))


def _decrypt_payload(body: bytes, key: str) -> dict:
    try:
        outer = json.loads(body)
        encrypted = outer.get("encrypt") if isinstance(outer, dict) else None
        if not isinstance(encrypted, str) or not encrypted:
            raise ValueError("not encrypted")
        payload = json.loads(decrypt(encrypted, key))
    except (ValueError, UnicodeDecodeError):
        raise EventRefused(400, _("The callback could not be decrypted.")) from None
    if not isinstance(payload, dict):
        raise EventRefused(400, _("The callback could not be decrypted."))
    return payload


def decrypt(encrypted: str, key: str) -> bytes:
    """Feishu's ``encrypt``: base64(IV + AES-256-CBC(PKCS#7(plain))), key = SHA-256(key)."""
    try:
        data = base64.b64decode(encrypted, validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64") from exc
    if len(data) < 32 or len(data) % 16:
        raise ValueError("not whole AES blocks")
    cipher = Cipher(algorithms.AES(hashlib.sha256(key.encode()).digest()), modes.CBC(data[:16]))
    decryptor = cipher.decryptor()
    padded = decryptor.update(data[16:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


# --- applying an event ------------------------------------------------------------------------


def apply_event(source: DirectorySource, event: Event) -> sync.Outcome | None:
    """Hand the event's change to the sync engine (None: nothing to change)."""
    at, event_id, event_type = event.occurred_at, event.event_id, event.event_type
    if at is None:
        return None
    if event.person is not None:
        person = replace(event.person, manager_id=_manager(source, event.person.manager_id))
        if person.department_id == ROOT:  # the root department exists before its people
            sync.apply_department(source, _root(source), occurred_at=at)
        return sync.apply_person(
            source, person, occurred_at=at, event_id=event_id, event_type=event_type
        )
    if event.department is not None:
        return sync.apply_department(
            source, event.department, occurred_at=at, event_id=event_id, event_type=event_type
        )
    if event.removed and event.event_type in USER_EVENTS:
        return sync.remove_person(
            source, event.removed, occurred_at=at, event_id=event_id, event_type=event_type
        )
    if event.removed:
        return sync.remove_department(
            source, event.removed, occurred_at=at, event_id=event_id, event_type=event_type
        )
    return None


def _manager(source: DirectorySource, value: str | None) -> str | None:
    """Events name the manager by open_id: the user_id of the person linked with it."""
    if not value:
        return None
    links = DirectoryLink.objects.filter(source=source, kind=DirectoryLink.Kind.PERSON)
    if links.filter(external_id=value).exists():
        return value
    found = links.filter(attributes__open_id=value).values_list("external_id", flat=True).first()
    return found or value
