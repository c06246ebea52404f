"""A fake DingTalk open platform (oapi) on 127.0.0.1, and DingTalk's event callbacks and Stream
events built the documented way, for the tests of ``integrations.directory.dingtalk``.

``FakeDingTalk`` holds a directory the test edits (``departments``, ``users``) and answers, in
the documented request and response shapes:

- ``GET /gettoken?appkey=&appsecret=`` -> ``access_token``, ``expires_in`` 7200 (a wrong pair:
  errcode 40089);
- ``POST /topapi/v2/department/get`` (``dept_id``; unknown: 60003),
  ``POST /topapi/v2/department/listsub`` (``dept_id`` -> its direct children);
- ``POST /topapi/v2/user/list`` (``dept_id``, ``cursor``, ``size`` <= 100 -> ``has_more``,
  ``next_cursor``, ``list``; ``page_size`` makes pages smaller to test the paging; a department
  in ``forbidden``: errcode 88 with sub_code 60011);
- ``POST /topapi/v2/user/get`` (``userid``; unknown: 60121), the only one with
  ``manager_userid``;
- an unknown or expired token (``expire_tokens``): errcode 40014, or with ``token_error_as_88``
  errcode 88 with sub_code 40014 as the topapi gateway answers; ``busy`` = N: the next N API
  calls answer 90018 (the per-app rate limit).

``callback`` builds an HTTP event push: the event JSON sealed (tests/fakes/errcode_http.py) into
``{"encrypt": ...}``, with ``msg_signature``, ``timestamp`` (milliseconds) and ``nonce`` in the
query; ``stream_message`` builds the ``dingtalk_stream.EventMessage`` Stream mode delivers.

Documentation followed:
- https://open.dingtalk.com/document/orgapp/obtain-orgapp-token
- https://open.dingtalk.com/document/orgapp/query-department-details0-v2
- https://open.dingtalk.com/document/orgapp/obtain-the-department-list-v2
- https://open.dingtalk.com/document/orgapp/queries-the-complete-information-of-a-department-user
- https://open.dingtalk.com/document/orgapp/query-user-details
- https://open.dingtalk.com/document/orgapp/server-api-error-codes-1
- https://open.dingtalk.com/document/orgapp/invocation-frequency-limit
- https://open.dingtalk.com/document/orgapp/address-book-events
- https://open.dingtalk.com/document/orgapp/configure-event-subcription
- https://open.dingtalk.com/document/orgapp/stream (Stream 模式 event headers: eventId,
  eventType, eventBornTime, eventCorpId; data in lowerCamelCase: ``userId``, ``deptId``)
- https://github.com/open-dingtalk/DingTalk-Callback-Crypto (DingCallbackCrypto, its test values)
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import dingtalk_stream

from tests.fakes.errcode_http import ErrcodeServer, seal, sign

ROOT = "1"


class FakeDingTalk(ErrcodeServer):
    busy_code = 90018
    expired_code = 40014

    def __init__(
        self,
        app_key: str = "dingfakeappkey0001",
        app_secret: str = "fake-app-secret",
        corp_id: str = "dingfakecorp0001",
    ) -> None:
        super().__init__()
        self.app_key, self.app_secret, self.corp_id = app_key, app_secret, corp_id
        self.departments: dict[str, dict[str, Any]] = {ROOT: {"name": "示例科技", "parent": None}}
        self.users: dict[str, dict[str, Any]] = {}
        self.page_size = 100
        self.token_error_as_88 = False
        self.forbidden: set[str] = set()

    # --- the directory ---------------------------------------------------------------------

    def add_department(self, dept_id: str, name: str, parent: str = ROOT) -> None:
        self.departments[dept_id] = {"name": name, "parent": parent}

    def add_user(self, userid: str, name: str, *departments: str, **fields: Any) -> dict[str, Any]:
        user = {
            "userid": userid,
            "unionid": f"union-{userid}",
            "name": name,
            "dept_id_list": [int(d) for d in departments or [ROOT]],
            "job_number": f"E{userid}",
            "email": f"{userid}@corp.example",
            "org_email": "",
            "mobile": "",
            "active": True,
            "manager_userid": "",
            **fields,
        }
        self.users[userid] = user
        return user

    # --- the API ---------------------------------------------------------------------------

    def token_path(self) -> str:
        return "/gettoken"

    def token_for(self, params: dict[str, str]) -> dict[str, Any]:
        if (params.get("appkey"), params.get("appsecret")) != (self.app_key, self.app_secret):
            return {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}
        return {"errcode": 0, "errmsg": "ok", "access_token": self.new_token(), "expires_in": 7200}

    def expired(self) -> dict[str, Any]:
        if self.token_error_as_88:
            return {"errcode": 88, "sub_code": "40014", "sub_msg": "不合法的access_token",
                    "errmsg": "ding talk error[subcode=40014,submsg=不合法的access_token]"}  # fmt: skip
        return {"errcode": 40014, "errmsg": "不合法的access_token"}

    def route(self, method: str, path: str, params: dict[str, str], body: dict[str, Any]) -> Any:
        handlers = {
            "/topapi/v2/department/get": self._department_get,
            "/topapi/v2/department/listsub": self._department_listsub,
            "/topapi/v2/user/list": self._user_list,
            "/topapi/v2/user/get": self._user_get,
        }
        handler = handlers.get(path)
        if method != "POST" or handler is None:
            return {"errcode": 404, "errmsg": "请求的URI地址不存在"}
        return handler(body)

    def _department(self, dept_id: str) -> dict[str, Any]:
        dept = self.departments[dept_id]
        out = {"dept_id": int(dept_id), "name": dept["name"], "auto_add_user": True}
        if dept["parent"] is not None:
            out["parent_id"] = int(dept["parent"])
        return out

    def _department_get(self, body: dict[str, Any]) -> dict[str, Any]:
        dept_id = str(body.get("dept_id"))
        if dept_id not in self.departments:
            return {"errcode": 60003, "errmsg": "部门不存在"}
        return {"errcode": 0, "errmsg": "ok", "result": self._department(dept_id)}

    def _department_listsub(self, body: dict[str, Any]) -> dict[str, Any]:
        parent = str(body.get("dept_id"))
        if parent not in self.departments:
            return {"errcode": 60003, "errmsg": "部门不存在"}
        children = [
            self._department(d) for d, v in self.departments.items() if v["parent"] == parent
        ]
        return {"errcode": 0, "errmsg": "ok", "result": children}

    def _user_list(self, body: dict[str, Any]) -> dict[str, Any]:
        dept_id = str(body.get("dept_id"))
        if dept_id in self.forbidden:
            return {"errcode": 88, "sub_code": "60011", "sub_msg": "没有调用该接口的权限",
                    "errmsg": "ding talk error[subcode=60011,submsg=没有调用该接口的权限]"}  # fmt: skip
        size = int(body.get("size") or 0)
        if not 1 <= size <= 100:
            return {"errcode": 400002, "errmsg": "size: 参数不合法"}
        members = sorted(
            (u for u in self.users.values() if int(dept_id) in u["dept_id_list"]),
            key=lambda u: u["userid"],
        )
        start, size = int(body.get("cursor") or 0), min(size, self.page_size)
        page = [
            {k: v for k, v in u.items() if k != "manager_userid"}
            for u in members[start : start + size]
        ]
        result: dict[str, Any] = {"has_more": start + size < len(members), "list": page}
        if result["has_more"]:
            result["next_cursor"] = start + size
        return {"errcode": 0, "errmsg": "ok", "result": result}

    def _user_get(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(body.get("userid")))
        if user is None:
            return {"errcode": 60121, "errmsg": "找不到该用户"}
        return {"errcode": 0, "errmsg": "ok", "result": dict(user)}


# --- events -----------------------------------------------------------------------------------


def now_ms() -> str:
    return str(int(time.time() * 1000))


def event(event_type: str, *, corp_id: str = "", **fields: Any) -> dict[str, Any]:
    """An HTTP-push contact event, as decrypted: ``UserId`` / ``DeptId`` lists."""
    return {"EventType": event_type, "CorpId": corp_id, "TimeStamp": now_ms(), **fields}


def callback(
    payload: dict[str, Any] | bytes,
    *,
    token: str,
    aes_key: str,
    receive_id: str,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """(query, body) of an HTTP event push as DingTalk sends it."""
    plain = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    timestamp = timestamp or now_ms()
    nonce = nonce or uuid.uuid4().hex[:8]
    encrypt = seal(aes_key, plain, receive_id)
    query = {"msg_signature": sign(token, timestamp, nonce, encrypt), "timestamp": timestamp,
             "nonce": nonce}  # fmt: skip
    return query, json.dumps({"encrypt": encrypt}).encode()


def stream_message(
    event_type: str,
    data: dict[str, Any],
    *,
    event_id: str,
    corp_id: str,
    born: int | None = None,
) -> dingtalk_stream.EventMessage:
    """The ``EventMessage`` the SDK hands a handler, made by the SDK from the frame's dict."""
    return dingtalk_stream.EventMessage.from_dict(
        {
            "specVersion": "1.0",
            "type": "EVENT",
            "headers": {
                "appId": "fake-app",
                "connectionId": "fake-connection",
                "contentType": "application/json",
                "messageId": uuid.uuid4().hex,
                "time": now_ms(),
                "topic": "*",
                "eventBornTime": str(born or int(now_ms())),
                "eventCorpId": corp_id,
                "eventId": event_id,
                "eventType": event_type,
                "eventUnifiedAppId": "fake-unified-app",
            },
            "data": json.dumps({"timeStamp": now_ms(), **data}),
        }
    )
