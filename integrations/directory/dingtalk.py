"""DingTalk (钉钉) as a directory source: the pull (``read``), and the contact events, pushed
over an HTTP callback (``integrations.callbacks.dingtalk``) or over Stream mode
(``manage.py dingtalk_stream``), applied by ``apply_event``.

The source's settings (``config``): ``app_key`` (the internal app's AppKey / Client ID, needed),
``corp_id`` (optional: checked on Stream events, and accepted as the callback's receiver for the
old "register callback" style), ``base_url`` (default https://oapi.dingtalk.com; tests point it
at a fake), ``root_department_id`` (default 1), ``read_managers`` (default true: one
``user/get`` per person, since ``user/list`` has no manager). Secrets: ``app_secret``, and for
HTTP callbacks ``callback_token`` and ``callback_aes_key``.

- Token: ``GET /gettoken?appkey=&appsecret=`` ("获取企业内部应用的access_token", on the same host as
  the ``topapi`` calls, valid 7200 s). DingTalk also documents a newer
  ``POST https://api.dingtalk.com/v1.0/oauth2/accessToken``; its token works on these calls too,
  but it sits on another host, so the one-host ``gettoken`` is used. The token is kept for one
  read (or one Stream process) and asked again once when DingTalk says it is invalid or expired
  (40014, 42001, or 88 with such a sub_code).
- Departments: ``POST /topapi/v2/department/get`` for the root, then
  ``POST /topapi/v2/department/listsub`` level by level.
- People: ``POST /topapi/v2/user/list`` per department (cursor / size 100, ``has_more`` /
  ``next_cursor``); a person in several departments is read once; their department is the first
  of ``dept_id_list`` that the read lists. userid is the external id; ``email`` (else
  ``org_email``), ``mobile``, ``job_number`` as the employee number; ``unionid`` is kept on the
  link. DingTalk lists only current employees: whoever a full read no longer lists has left.
- Busy / too fast (-1, 90002, 90006, 90018, 90019, HTTP 429/5xx): a bounded back-off
  (``openapi.BACKOFF_SECONDS``); no permission (60011): the run fails saying so.
- Events: ``user_add_org``, ``user_modify_org``, ``user_active_org`` (the person is read again
  with ``user/get``: the event carries only ids; one no longer found has left),
  ``user_leave_org``, ``org_dept_create`` / ``org_dept_modify`` (read with ``department/get``),
  ``org_dept_remove``. An entry read again is applied as of the moment it was read (what
  DingTalk says now), a removal as of the event's time. Each entry of an event is applied with
  its own event id
  ``<event id>:<entry id>``; the event id is DingTalk's ``eventId`` (Stream headers, or the
  callback body when it has one), else ``sha256:`` of the decrypted message, so a redelivered
  event changes nothing.

Documentation followed:
https://open.dingtalk.com/document/orgapp/obtain-orgapp-token (获取企业内部应用的access_token),
https://open.dingtalk.com/document/orgapp/obtain-the-access_token-of-an-internal-app (new token),
https://open.dingtalk.com/document/orgapp/obtain-the-department-list-v2 (获取部门列表 listsub),
https://open.dingtalk.com/document/orgapp/query-department-details0-v2 (获取部门详情),
https://open.dingtalk.com/document/orgapp/queries-the-complete-information-of-a-department-user
(获取部门用户详情 user/list), https://open.dingtalk.com/document/orgapp/query-user-details
(user/get), https://open.dingtalk.com/document/orgapp/invocation-frequency-limit (限流),
https://open.dingtalk.com/document/orgapp/server-api-error-codes-1 (错误码),
https://open.dingtalk.com/document/orgapp/address-book-events (通讯录事件),
https://open.dingtalk.com/document/orgapp/configure-event-subcription (HTTP 推送与加解密),
https://open.dingtalk.com/document/orgapp/stream (Stream 模式).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import time
from collections import deque
from typing import Any, Protocol

from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.directory import sync
from integrations.directory.entries import (
    ExternalDepartment,
    ExternalPerson,
    Snapshot,
    SourceError,
)
from integrations.directory.msgcrypt import CryptError, MsgCrypt
from integrations.directory.openapi import ErrcodeApi, named_root, without_empty_root
from integrations.models import DirectorySource

DEFAULT_BASE_URL = "https://oapi.dingtalk.com"
PAGE_SIZE = 100  # user/list's maximum
MAX_PAGES = 10_000  # per department: a cursor that never ends is a fault, not a directory
USER_NOT_FOUND = frozenset({60121})
DEPARTMENT_NOT_FOUND = frozenset({60003, 60123})

PERSON_EVENTS = frozenset({"user_add_org", "user_modify_org", "user_active_org"})
LEAVE_EVENTS = frozenset({"user_leave_org"})
DEPARTMENT_EVENTS = frozenset({"org_dept_create", "org_dept_modify"})
DEPARTMENT_REMOVED = frozenset({"org_dept_remove"})


class DingTalkApi(ErrcodeApi):
    vendor = DirectorySource.Kind.DINGTALK.label  # translated when a message is made
    token_errors = frozenset({40014, 42001})
    busy_errors = frozenset({-1, 90002, 90006, 90018, 90019})
    permission_errors = frozenset({60011})

    def __init__(self, base_url: str, app_key: str, app_secret: str, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self.app_key, self.app_secret = app_key, app_secret

    @classmethod
    def for_source(cls, source: DirectorySource) -> DingTalkApi:
        app_key = str(source.config.get("app_key") or "")
        app_secret = source.secrets.get("app_secret", "")
        if not app_key or not app_secret:
            raise SourceError(_("The DingTalk source needs its AppKey and AppSecret."))
        return cls(str(source.config.get("base_url") or DEFAULT_BASE_URL), app_key, app_secret)

    def errcode(self, data: dict[str, Any]) -> int:
        code = super().errcode(data)
        sub_code = str(data.get("sub_code") or "")
        return int(sub_code) if code == 88 and sub_code.isdigit() else code

    def fetch_token(self) -> str:
        params = {"appkey": self.app_key, "appsecret": self.app_secret}
        data = self.send("GET", "/gettoken", params=params)
        token = data.get("access_token")
        if self.errcode(data) != 0 or not token:
            raise SourceError(
                _("DingTalk refused the AppKey / AppSecret (error %(code)s).")
                % {"code": data.get("errcode")}
            )
        return str(token)

    def topapi(self, path: str, body: dict[str, Any], accept: frozenset[int] = frozenset()) -> Any:
        data = self.call("POST", "/topapi/v2/" + path, body=body, accept=accept)
        return None if self.errcode(data) in accept else data.get("result")

    # --- departments ----------------------------------------------------------------------

    def department(self, dept_id: str, *, root: bool = False) -> ExternalDepartment | None:
        result = self.topapi("department/get", {"dept_id": _num(dept_id)}, DEPARTMENT_NOT_FOUND)
        if not isinstance(result, dict):
            return None
        parent = result.get("parent_id")
        return ExternalDepartment(
            external_id=str(result.get("dept_id") or dept_id),
            name=str(result.get("name") or dept_id),
            parent_id=None if root or not parent else str(parent),
        )

    def departments(self, root_id: str) -> list[ExternalDepartment]:
        root = self.department(root_id, root=True)
        if root is None:
            raise SourceError(_("DingTalk does not know department %(id)s.") % {"id": root_id})
        found, queue = [root], deque([root.external_id])
        seen = {root.external_id}
        while queue:
            parent = queue.popleft()
            for item in self.topapi("department/listsub", {"dept_id": _num(parent)}) or []:
                dept_id = str(item.get("dept_id"))
                if dept_id in seen:
                    continue
                seen.add(dept_id)
                found.append(ExternalDepartment(dept_id, str(item.get("name") or dept_id), parent))
                queue.append(dept_id)
        return found

    # --- people ---------------------------------------------------------------------------

    def user(self, userid: str) -> ExternalPerson | None:
        result = self.topapi("user/get", {"userid": userid, "language": "zh_CN"}, USER_NOT_FOUND)
        return person_from(result) if isinstance(result, dict) and result.get("userid") else None

    def department_users(self, dept_id: str) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = []
        cursor: Any = 0
        for _page in range(MAX_PAGES):
            body = {"dept_id": _num(dept_id), "cursor": cursor, "size": PAGE_SIZE,
                    "contain_access_limit": False, "language": "zh_CN"}  # fmt: skip
            result = self.topapi("user/list", body) or {}
            users.extend(u for u in result.get("list") or [] if u.get("userid"))
            if not result.get("has_more"):
                return users
            if result.get("next_cursor") in (None, cursor):
                break
            cursor = result["next_cursor"]
        raise SourceError(_("DingTalk's user list of department %(id)s never ended.") % {
            "id": dept_id})  # fmt: skip

    def people(self, departments: list[ExternalDepartment]) -> list[ExternalPerson]:
        known = {d.external_id for d in departments}
        people: dict[str, ExternalPerson] = {}
        for department in departments:
            for item in self.department_users(department.external_id):
                userid = str(item["userid"])
                if userid not in people:
                    people[userid] = person_from(item, known, fallback=department.external_id)
        return list(people.values())

    def with_managers(self, people: list[ExternalPerson]) -> list[ExternalPerson]:
        """user/list has no manager: each person's ``manager_userid`` from user/get."""
        out = []
        for person in people:
            result = self.topapi("user/get", {"userid": person.external_id}, USER_NOT_FOUND)
            manager = result.get("manager_userid") if isinstance(result, dict) else None
            out.append(_replace(person, manager_id=str(manager) if manager else None))
        return out


def _replace(person: ExternalPerson, **changes: Any) -> ExternalPerson:
    values = {f: getattr(person, f) for f in person.__dataclass_fields__}
    return ExternalPerson(**{**values, **changes})


def _num(value: str) -> int | str:
    return int(value) if str(value).lstrip("-").isdigit() else value


def person_from(
    item: dict[str, Any], known: set[str] | None = None, *, fallback: str | None = None
) -> ExternalPerson:
    """A DingTalk user (user/list or user/get) as an entry."""
    departments = [str(d) for d in item.get("dept_id_list") or []]
    listed: list[str | None] = [d for d in departments if known is None or d in known]
    if known is not None and not listed:
        listed = [fallback]
    manager = item.get("manager_userid")
    return ExternalPerson(
        external_id=str(item["userid"]),
        name=str(item.get("name") or item["userid"]).strip(),
        department_id=listed[0] if listed else None,
        employee_no=str(item.get("job_number") or "").strip(),
        email=str(item.get("email") or item.get("org_email") or "").strip(),
        mobile=str(item.get("mobile") or "").strip(),
        manager_id=str(manager) if manager else None,
        active=True,
        attributes={k: str(item[k]) for k in ("unionid",) if item.get(k)},
    )


def read(source: DirectorySource, *, full: bool) -> Snapshot:
    """The whole directory (DingTalk has no change feed). ``full``: also say who is no longer
    listed (leavers, removed departments)."""
    api = DingTalkApi.for_source(source)
    root = str(source.config.get("root_department_id") or "1")
    departments = named_root(api.departments(root), source)
    people = api.people(departments)
    if source.config.get("read_managers", True):
        people = api.with_managers(people)
    departments = without_empty_root(departments, people, root)
    return Snapshot(
        people=people,
        departments=departments,
        present_people={p.external_id for p in people} if full else None,
        present_departments={d.external_id for d in departments} if full else None,
    )


# --- events -----------------------------------------------------------------------------------


def _ids(data: dict[str, Any], name: str) -> list[str]:
    """``UserId`` / ``userId`` / ``DeptId`` ... : a list or one value, as strings."""
    for key, value in data.items():
        if key.lower() == name:
            values = value if isinstance(value, list) else [value]
            return [str(v) for v in values if v not in (None, "")]
    return []


def _when(value: Any) -> dt.datetime | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    seconds = number / 1000 if number > 10**11 else number
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def apply_event(
    source: DirectorySource,
    event_type: str,
    data: dict[str, Any],
    *,
    event_id: str,
    occurred_at: dt.datetime,
    api: DingTalkApi | None = None,
) -> list[sync.Outcome]:
    """Apply one contact event (other events are ignored). Whatever must be read from DingTalk
    is read first: a failed read (SourceError) applies nothing, and the redelivery can."""
    at: dict[str, Any] = {"occurred_at": occurred_at, "event_type": event_type}
    outcomes = []
    if event_type in PERSON_EVENTS:
        client = api or DingTalkApi.for_source(source)
        at["occurred_at"] = timezone.now()  # what is read is DingTalk's state from now on
        people = [(uid, client.user(uid)) for uid in _ids(data, "userid")]
        for uid, person in people:
            key = f"{event_id}:{uid}"
            if person is None:  # gone again by now: they have left
                outcomes.append(sync.remove_person(source, uid, event_id=key, **at))
            else:
                outcomes.append(sync.apply_person(source, person, event_id=key, **at))
    elif event_type in LEAVE_EVENTS:
        for uid in _ids(data, "userid"):
            outcomes.append(sync.remove_person(source, uid, event_id=f"{event_id}:{uid}", **at))
    elif event_type in DEPARTMENT_EVENTS:
        client = api or DingTalkApi.for_source(source)
        at["occurred_at"] = timezone.now()
        departments = [(d, client.department(d)) for d in _ids(data, "deptid")]
        for dept_id, department in departments:
            key = f"{event_id}:{dept_id}"
            if department is None:
                outcomes.append(sync.remove_department(source, dept_id, event_id=key, **at))
            else:
                outcomes.append(sync.apply_department(source, department, event_id=key, **at))
    elif event_type in DEPARTMENT_REMOVED:
        for dept_id in _ids(data, "deptid"):
            key = f"{event_id}:{dept_id}"
            outcomes.append(sync.remove_department(source, dept_id, event_id=key, **at))
    return outcomes


# --- the HTTP callback ------------------------------------------------------------------------


def callback_crypt(source: DirectorySource) -> MsgCrypt:
    """CryptError when the source is not set up for callbacks."""
    config, secret = source.config, source.secrets
    return MsgCrypt(
        secret.get("callback_token", ""),
        secret.get("callback_aes_key", ""),
        [str(config.get("app_key") or ""), str(config.get("corp_id") or "")],
    )


def open_callback(
    source: DirectorySource, *, signature: str, timestamp: str, nonce: str, body: bytes
) -> tuple[dict[str, Any], bytes]:
    """(the event, its decrypted bytes); CryptError if it is not a genuine one for us."""
    crypt = callback_crypt(source)
    try:
        encrypt = json.loads(body)["encrypt"]
    except (ValueError, KeyError, TypeError):
        raise CryptError("not a DingTalk callback body") from None
    if not isinstance(encrypt, str):
        raise CryptError("not a DingTalk callback body")
    plain = crypt.open(signature, timestamp, nonce, encrypt)
    try:
        event = json.loads(plain)
    except ValueError:
        raise CryptError("the decrypted event is not JSON") from None
    if not isinstance(event, dict):
        raise CryptError("the decrypted event is not an object")
    return event, plain


def success_reply(source: DirectorySource) -> dict[str, str]:
    """The encrypted "success" DingTalk waits for."""
    timestamp, nonce = str(int(time.time() * 1000)), secrets.token_hex(8)
    encrypt, signature = callback_crypt(source).seal("success", timestamp=timestamp, nonce=nonce)
    return {"msg_signature": signature, "timeStamp": timestamp, "nonce": nonce, "encrypt": encrypt}


def handle_callback(
    source: DirectorySource, event: dict[str, Any], plain: bytes
) -> list[sync.Outcome]:
    event_type = str(event.get("EventType") or "")
    if event_type == "check_url":
        return []
    event_id = str(event.get("eventId") or event.get("EventId") or "")
    event_id = event_id or "sha256:" + hashlib.sha256(plain).hexdigest()
    occurred_at = _when(event.get("TimeStamp") or event.get("timeStamp")) or timezone.now()
    return apply_event(source, event_type, event, event_id=event_id, occurred_at=occurred_at)


# --- Stream mode ------------------------------------------------------------------------------


class _Headers(Protocol):
    event_type: str | None
    event_id: str | None
    event_born_time: int | None
    event_corp_id: str | None


class StreamEvent(Protocol):
    """What ``dingtalk_stream.EventMessage`` offers (the SDK is needed only by the command)."""

    headers: _Headers
    data: dict[str, Any]


def handle_stream_event(
    source: DirectorySource, message: StreamEvent, *, api: DingTalkApi | None = None
) -> list[sync.Outcome]:
    """One Stream-mode event (``manage.py dingtalk_stream``): the same application as the
    HTTP callback. An event of another organisation than the configured ``corp_id`` is
    refused (SourceError)."""
    headers, data = message.headers, message.data if isinstance(message.data, dict) else {}
    corp_id = str(source.config.get("corp_id") or "")
    if corp_id and headers.event_corp_id and headers.event_corp_id != corp_id:
        raise SourceError(_("A DingTalk event of another organisation was refused."))
    event_id = str(headers.event_id or "")
    if not event_id:
        plain = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        event_id = "sha256:" + hashlib.sha256(plain).hexdigest()
    occurred_at = _when(headers.event_born_time) or _when(data.get("timeStamp")) or timezone.now()
    return apply_event(
        source, str(headers.event_type or ""), data, event_id=event_id, occurred_at=occurred_at,
        api=api,
    )  # fmt: skip
