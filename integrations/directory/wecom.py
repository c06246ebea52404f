"""WeCom (企业微信) as a directory source: the pull (``read``), and the contact change callbacks
(``change_contact``, received by ``integrations.callbacks.wecom``) applied by ``apply_message``.

The source's settings (``config``): ``corp_id`` (needed: the token's corpid and the callbacks'
receive id), ``base_url`` (default https://qyapi.weixin.qq.com; tests point it at a fake),
``root_department_id`` (default 1), ``employee_no_attr`` (optional: the name of a custom text
attribute, ``extattr``, holding the employee number; WeCom has no such field of its own).
Secrets: ``corp_secret`` (the self-built app's Secret), and for callbacks ``callback_token`` and
``callback_aes_key`` (the app's "接收消息" Token and EncodingAESKey).

- Token: ``GET /cgi-bin/gettoken?corpid=&corpsecret=``, kept for one read, asked again once on
  40014 / 42001 (invalid / expired).
- Departments: ``GET /cgi-bin/department/list?id=<root>`` (the root and every department below
  it that the app can see; the root's ``parentid`` is dropped).
- People: ``GET /cgi-bin/user/list?department_id=`` per department (no pagination: WeCom answers
  a department's members at once; ``fetch_child`` is gone, so every department is asked; a
  person in several departments is read once). userid is the external id; ``main_department``
  their department; ``email`` (else ``biz_mail``), ``mobile``, the first ``direct_leader`` as
  manager; ``status`` 1 active and 4 not activated yet are active, 2 disabled and 5 left are
  not. ``open_userid`` is kept on the link.
  Field limits (WeCom, since 2022-06-20): self-built apps created since then no longer get
  mobile, e-mail, biz_mail (and avatar, gender, address) from these calls; such people come
  without them and are found again by their link only. Since 2022-08-15 the "通讯录同步"
  secret may not call user/list from a new IP (it may only list ids: ``user/list_id``), so use
  a self-built app's secret whose visible range covers the directory, and add this server's
  address to the app's trusted IPs (else 60020).
- Busy / too fast (-1, 45009, 45033, HTTP 429/5xx): a bounded back-off; no privilege (60011,
  48002): the run fails saying so.
- Callbacks: ``create_user`` / ``update_user`` (the person is read again with ``user/get``: new
  apps' callbacks carry only a few fields; one no longer found has left), ``delete_user``,
  ``create_party`` / ``update_party`` (read with ``department/get``), ``delete_party``. An
  entry read again is applied as of the moment it was read (what WeCom says now); a deletion as
  of the end of its CreateTime's second (WeCom's times are whole seconds). WeCom
  gives a callback no id: the event id is ``sha256:`` of the decrypted message (its
  CreateTime included), so a redelivered callback changes nothing.

Documentation followed:
https://developer.work.weixin.qq.com/document/path/91039 (获取access_token),
https://developer.work.weixin.qq.com/document/path/90208 (获取部门列表),
https://developer.work.weixin.qq.com/document/path/95351 (获取单个部门详情),
https://developer.work.weixin.qq.com/document/path/90201 (获取部门成员详情 user/list, and the
2022 field changes), https://developer.work.weixin.qq.com/document/path/90196 (读取成员),
https://developer.work.weixin.qq.com/document/path/96067 (获取成员ID列表 user/list_id),
https://developer.work.weixin.qq.com/document/path/90313 (全局错误码),
https://developer.work.weixin.qq.com/document/path/90930 (接收消息与事件, URL 验证),
https://developer.work.weixin.qq.com/document/path/90968 (加解密方案说明),
https://developer.work.weixin.qq.com/document/path/90970 (成员变更通知),
https://developer.work.weixin.qq.com/document/path/90971 (部门变更通知).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from defusedxml import ElementTree
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

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
USER_NOT_FOUND = frozenset({60111, 46004})
DEPARTMENT_NOT_FOUND = frozenset({60123})
INACTIVE_STATUSES = frozenset({2, 5})  # disabled, left the company

PERSON_CHANGES = frozenset({"create_user", "update_user"})
DEPARTMENT_CHANGES = frozenset({"create_party", "update_party"})


class WeComApi(ErrcodeApi):
    vendor = DirectorySource.Kind.WECOM.label  # translated when a message is made
    token_errors = frozenset({40014, 42001})
    busy_errors = frozenset({-1, 45009, 45033})
    permission_errors = frozenset({60011, 48002})

    def __init__(self, base_url: str, corp_id: str, corp_secret: str, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)
        self.corp_id, self.corp_secret = corp_id, corp_secret

    @classmethod
    def for_source(cls, source: DirectorySource) -> WeComApi:
        corp_id = str(source.config.get("corp_id") or "")
        corp_secret = source.secrets.get("corp_secret", "")
        if not corp_id or not corp_secret:
            raise SourceError(_("The WeCom source needs its corp ID and the app's Secret."))
        return cls(str(source.config.get("base_url") or DEFAULT_BASE_URL), corp_id, corp_secret)

    def fetch_token(self) -> str:
        params = {"corpid": self.corp_id, "corpsecret": self.corp_secret}
        data = self.send("GET", "/cgi-bin/gettoken", params=params)
        token = data.get("access_token")
        if self.errcode(data) != 0 or not token:
            raise SourceError(
                _("WeCom refused the corp ID / Secret (error %(code)s).")
                % {"code": data.get("errcode")}
            )
        return str(token)

    def failure(self, code: int, data: dict[str, Any]) -> SourceError:
        if code == 60020:
            return SourceError(
                _("WeCom refused this server's address: add it to the app's trusted IPs.")
            )
        return super().failure(code, data)

    def get(self, path: str, accept: frozenset[int] = frozenset(), **params: Any) -> Any:
        data = self.call("GET", "/cgi-bin/" + path, params=params, accept=accept)
        return None if self.errcode(data) in accept else data

    def departments(self, root_id: str) -> list[ExternalDepartment]:
        data = self.get("department/list", id=root_id) or {}
        found = [department_from(d, root_id) for d in data.get("department") or []]
        if root_id not in {d.external_id for d in found}:
            raise SourceError(_("WeCom does not show department %(id)s.") % {"id": root_id})
        return found

    def department(self, dept_id: str, root_id: str = "1") -> ExternalDepartment | None:
        data = self.get("department/get", DEPARTMENT_NOT_FOUND, id=dept_id)
        item = data.get("department") if isinstance(data, dict) else None
        return department_from(item, root_id) if isinstance(item, dict) else None

    def people(self, departments: list[ExternalDepartment], attr: str = "") -> list[ExternalPerson]:
        """Everyone in these departments; ``attr``: the custom attribute of employee numbers."""
        known = {d.external_id for d in departments}
        people: dict[str, ExternalPerson] = {}
        for department in departments:
            data = self.get("user/list", department_id=department.external_id) or {}
            for item in data.get("userlist") or []:
                userid = str(item.get("userid") or "")
                if userid and userid not in people:
                    people[userid] = person_from(
                        item, known, fallback=department.external_id, employee_no_attr=attr
                    )
        return list(people.values())

    def user(self, userid: str, employee_no_attr: str = "") -> ExternalPerson | None:
        data = self.get("user/get", USER_NOT_FOUND, userid=userid)
        if not isinstance(data, dict) or not data.get("userid"):
            return None
        return person_from(data, None, employee_no_attr=employee_no_attr)


def department_from(item: dict[str, Any], root_id: str) -> ExternalDepartment:
    dept_id, parent = str(item.get("id")), item.get("parentid")
    return ExternalDepartment(
        external_id=dept_id,
        name=str(item.get("name") or dept_id).strip(),
        parent_id=None if dept_id == root_id or not parent else str(parent),
    )


def _attr(item: dict[str, Any], name: str) -> str:
    """A custom text attribute (``extattr.attrs[] {type 0, name, text.value}``)."""
    if not name:
        return ""
    for attr in (item.get("extattr") or {}).get("attrs") or []:
        if attr.get("name") == name:
            return str((attr.get("text") or {}).get("value") or attr.get("value") or "")
    return ""


def person_from(
    item: dict[str, Any],
    known: set[str] | None,
    *,
    fallback: str | None = None,
    employee_no_attr: str = "",
) -> ExternalPerson:
    """A WeCom member (user/list or user/get) as an entry."""
    main = str(item.get("main_department") or "")
    departments = ([main] if main else []) + [str(d) for d in item.get("department") or []]
    listed: list[str | None] = [d for d in departments if known is None or d in known]
    leaders = [str(x) for x in item.get("direct_leader") or [] if x]
    try:
        status = int(item.get("status") or 1)
    except (TypeError, ValueError):
        status = 1
    return ExternalPerson(
        external_id=str(item["userid"]),
        name=str(item.get("name") or item["userid"]).strip(),
        department_id=(listed or [fallback])[0],
        employee_no=_attr(item, employee_no_attr).strip(),
        email=str(item.get("email") or item.get("biz_mail") or "").strip(),
        mobile=str(item.get("mobile") or "").strip(),
        manager_id=leaders[0] if leaders else None,
        active=status not in INACTIVE_STATUSES,
        attributes={k: str(item[k]) for k in ("open_userid",) if item.get(k)},
    )


def read(source: DirectorySource, *, full: bool) -> Snapshot:
    """The whole directory (WeCom has no change feed). ``full``: also say who is no longer
    listed (leavers, removed departments)."""
    api = WeComApi.for_source(source)
    root = str(source.config.get("root_department_id") or "1")
    departments = named_root(api.departments(root), source)
    people = api.people(departments, str(source.config.get("employee_no_attr") or ""))
    departments = without_empty_root(departments, people, root)
    return Snapshot(
        people=people,
        departments=departments,
        present_people={p.external_id for p in people} if full else None,
        present_departments={d.external_id for d in departments} if full else None,
    )


# --- callbacks --------------------------------------------------------------------------------


def callback_crypt(source: DirectorySource) -> MsgCrypt:
    """CryptError when the source is not set up for callbacks."""
    secret = source.secrets
    return MsgCrypt(
        secret.get("callback_token", ""),
        secret.get("callback_aes_key", ""),
        str(source.config.get("corp_id") or ""),
    )


def xml_fields(data: bytes | str) -> dict[str, str]:
    """The child elements of a WeCom ``<xml>`` message (defusedxml: no entities, no DTDs)."""
    try:
        root = ElementTree.fromstring(data)
    except Exception:  # defusedxml's and expat's errors alike: not a message of WeCom's
        raise CryptError("not a WeCom XML message") from None
    return {child.tag: (child.text or "").strip() for child in root}


def open_callback(
    source: DirectorySource, *, signature: str, timestamp: str, nonce: str, body: bytes
) -> tuple[dict[str, str], bytes]:
    """(the message's fields, its decrypted bytes); CryptError if not a genuine one for us."""
    crypt = callback_crypt(source)
    encrypt = xml_fields(body).get("Encrypt", "")
    if not encrypt:
        raise CryptError("no Encrypt element")
    plain = crypt.open(signature, timestamp, nonce, encrypt)
    return xml_fields(plain), plain


def verify_url(source: DirectorySource, *, signature: str, timestamp: str, nonce: str,
               echostr: str) -> bytes:  # fmt: skip
    """The GET check WeCom makes when the callback URL is saved: the decrypted echostr."""
    return callback_crypt(source).open(signature, timestamp, nonce, echostr)


def _when(value: str) -> dt.datetime | None:
    """The end of the second WeCom gives (its CreateTime has no fraction)."""
    try:
        return dt.datetime.fromtimestamp(int(value) + 0.999999, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def apply_message(
    source: DirectorySource,
    fields: dict[str, str],
    plain: bytes,
    *,
    api: WeComApi | None = None,
) -> list[sync.Outcome]:
    """Apply one ``change_contact`` callback (others are ignored). Whatever must be read from
    WeCom is read first: a failed read (SourceError) applies nothing, and the retry can."""
    if fields.get("MsgType") != "event" or fields.get("Event") != "change_contact":
        return []
    change = fields.get("ChangeType", "")
    event_id = "sha256:" + hashlib.sha256(plain).hexdigest()
    at: dict[str, Any] = {
        "occurred_at": _when(fields.get("CreateTime", "")) or timezone.now(),
        "event_id": event_id,
        "event_type": f"change_contact.{change}"[:80],
    }
    root_id = str(source.config.get("root_department_id") or "1")
    if change in PERSON_CHANGES:
        # update_user with NewUserID: WeCom changed the userid (allowed once); read the new one.
        userid = fields.get("NewUserID") or fields.get("UserID", "")
        client = api or WeComApi.for_source(source)
        at["occurred_at"] = timezone.now()  # what is read is WeCom's state from now on
        if fields.get("NewUserID"):  # the link follows the new userid: the same person
            sync.rename_person(
                source, fields.get("UserID", ""), userid, occurred_at=at["occurred_at"]
            )
        person = client.user(userid, str(source.config.get("employee_no_attr") or ""))
        if person is None:
            return [sync.remove_person(source, userid, **at)]
        return [sync.apply_person(source, person, **at)]
    if change == "delete_user":
        return [sync.remove_person(source, fields.get("UserID", ""), **at)]
    if change in DEPARTMENT_CHANGES:
        client = api or WeComApi.for_source(source)
        at["occurred_at"] = timezone.now()
        department = client.department(fields.get("Id", ""), root_id)
        if department is None:
            return [sync.remove_department(source, fields.get("Id", ""), **at)]
        return [sync.apply_department(source, department, **at)]
    if change == "delete_party":
        return [sync.remove_department(source, fields.get("Id", ""), **at)]
    return []
