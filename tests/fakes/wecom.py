"""A fake WeCom (企业微信) server API on 127.0.0.1, and WeCom's callbacks built the documented
way, for the tests of ``integrations.directory.wecom``.

``FakeWeCom`` holds a directory the test edits (``departments``, ``users``) and answers, in the
documented request and response shapes (all GET):

- ``/cgi-bin/gettoken?corpid=&corpsecret=`` -> ``access_token``, ``expires_in`` 7200 (a wrong
  corp id: 40013; a wrong secret: 40001);
- ``/cgi-bin/department/list?id=`` -> the department and every one below it (``id``, ``name``,
  ``parentid``, ``order``); ``/cgi-bin/department/get?id=`` (unknown: 60123);
- ``/cgi-bin/user/list?department_id=`` -> ``userlist``, the department's own members (no
  paging; a department in ``forbidden``: 60011);
- ``/cgi-bin/user/get?userid=`` (unknown: 60111);
- an unknown or expired token (``expire_tokens``): 42001; ``busy`` = N: the next N API calls
  answer 45009 (接口调用超过限制).

``message`` builds a ``change_contact`` event's XML; ``callback`` seals it
(tests/fakes/errcode_http.py) into the POST body ``<xml><ToUserName/><Encrypt/><AgentID/></xml>``
with ``msg_signature``, ``timestamp``, ``nonce`` in the query; ``url_check`` builds the GET that
verifies the callback URL (``echostr``).

Documentation followed:
- https://developer.work.weixin.qq.com/document/path/91039 (获取access_token)
- https://developer.work.weixin.qq.com/document/path/90208 (获取部门列表)
- https://developer.work.weixin.qq.com/document/path/95351 (获取单个部门详情)
- https://developer.work.weixin.qq.com/document/path/90201 (获取部门成员详情)
- https://developer.work.weixin.qq.com/document/path/90196 (读取成员)
- https://developer.work.weixin.qq.com/document/path/90313 (全局错误码)
- https://developer.work.weixin.qq.com/document/path/90930 (接收消息与事件: URL 验证, 回调)
- https://developer.work.weixin.qq.com/document/path/90968 (加解密方案说明)
- https://developer.work.weixin.qq.com/document/path/90970 (成员变更通知)
- https://developer.work.weixin.qq.com/document/path/90971 (部门变更通知)
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from xml.sax.saxutils import escape

from tests.fakes.errcode_http import ErrcodeServer, seal, sign

ROOT = "1"


class FakeWeCom(ErrcodeServer):
    busy_code = 45009
    expired_code = 42001

    def __init__(
        self, corp_id: str = "wwfakecorp00000001", corp_secret: str = "fake-corp-secret"
    ) -> None:
        super().__init__()
        self.corp_id, self.corp_secret = corp_id, corp_secret
        self.departments: dict[str, dict[str, Any]] = {ROOT: {"name": "示例集团", "parent": "0"}}
        self.users: dict[str, dict[str, Any]] = {}
        self.forbidden: set[str] = set()

    def add_department(self, dept_id: str, name: str, parent: str = ROOT) -> None:
        self.departments[dept_id] = {"name": name, "parent": parent}

    def add_user(self, userid: str, name: str, *departments: str, **fields: Any) -> dict[str, Any]:
        depts = [int(d) for d in departments or [ROOT]]
        user = {
            "userid": userid,
            "name": name,
            "department": depts,
            "main_department": depts[0],
            "order": [0] * len(depts),
            "position": "",
            "mobile": "",
            "email": f"{userid}@corp.example",
            "biz_mail": "",
            "status": 1,
            "direct_leader": [],
            "open_userid": f"wo-{userid}",
            **fields,
        }
        self.users[userid] = user
        return user

    # --- the API ---------------------------------------------------------------------------

    def token_path(self) -> str:
        return "/cgi-bin/gettoken"

    def token_for(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("corpid") != self.corp_id:
            return {"errcode": 40013, "errmsg": "invalid corpid"}
        if params.get("corpsecret") != self.corp_secret:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        return {"errcode": 0, "errmsg": "ok", "access_token": self.new_token(), "expires_in": 7200}

    def route(self, method: str, path: str, params: dict[str, str], body: dict[str, Any]) -> Any:
        handlers = {
            "/cgi-bin/department/list": self._department_list,
            "/cgi-bin/department/get": self._department_get,
            "/cgi-bin/user/list": self._user_list,
            "/cgi-bin/user/get": self._user_get,
        }
        handler = handlers.get(path)
        if method != "GET" or handler is None:
            return {"errcode": 404, "errmsg": "invalid url"}
        return handler(params)

    def _department(self, dept_id: str) -> dict[str, Any]:
        dept = self.departments[dept_id]
        return {"id": int(dept_id), "name": dept["name"], "parentid": int(dept["parent"]),
                "order": 100, "department_leader": []}  # fmt: skip

    def _below(self, dept_id: str) -> list[str]:
        found, todo = [dept_id], [dept_id]
        while todo:
            parent = todo.pop()
            children = [d for d, v in self.departments.items() if v["parent"] == parent]
            found += children
            todo += children
        return found

    def _department_list(self, params: dict[str, str]) -> dict[str, Any]:
        dept_id = params.get("id") or ROOT
        if dept_id not in self.departments:
            return {"errcode": 60123, "errmsg": "invalid party id"}
        found = [self._department(d) for d in self._below(dept_id)]
        return {"errcode": 0, "errmsg": "ok", "department": found}

    def _department_get(self, params: dict[str, str]) -> dict[str, Any]:
        dept_id = params.get("id") or ""
        if dept_id not in self.departments:
            return {"errcode": 60123, "errmsg": "invalid party id"}
        return {"errcode": 0, "errmsg": "ok", "department": self._department(dept_id)}

    def _user_list(self, params: dict[str, str]) -> dict[str, Any]:
        dept_id = params.get("department_id") or ""
        if dept_id in self.forbidden:
            return {"errcode": 60011, "errmsg": "no privilege to access/modify contact/party/agent"}
        if dept_id not in self.departments:
            return {"errcode": 60123, "errmsg": "invalid party id"}
        members = [u for u in self.users.values() if int(dept_id) in u["department"]]
        return {"errcode": 0, "errmsg": "ok", "userlist": members}

    def _user_get(self, params: dict[str, str]) -> dict[str, Any]:
        user = self.users.get(params.get("userid") or "")
        if user is None:
            return {"errcode": 60111, "errmsg": "invalid string value `userid`"}
        return {"errcode": 0, "errmsg": "ok", **user}


# --- callbacks --------------------------------------------------------------------------------


def message(change_type: str, *, corp_id: str, created: int | None = None, **fields: Any) -> str:
    """A ``change_contact`` event's XML (the decrypted message)."""
    items = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
        "<FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{created or int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event>"
        f"<ChangeType><![CDATA[{change_type}]]></ChangeType>{items}</xml>"
    )


def _signed(encrypt: str, token: str, timestamp: str | None, nonce: str | None) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or uuid.uuid4().hex[:10]
    return {"msg_signature": sign(token, timestamp, nonce, encrypt), "timestamp": timestamp,
            "nonce": nonce}  # fmt: skip


def callback(
    xml: str | bytes,
    *,
    token: str,
    aes_key: str,
    corp_id: str,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """(query, body) of a callback POST as WeCom sends it."""
    plain = xml.encode() if isinstance(xml, str) else xml
    encrypt = seal(aes_key, plain, corp_id)
    body = (
        f"<xml><ToUserName><![CDATA[{escape(corp_id)}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>"
    )
    return _signed(encrypt, token, timestamp, nonce), body.encode()


def url_check(
    echo: str, *, token: str, aes_key: str, corp_id: str, timestamp: str | None = None
) -> dict[str, str]:
    """The query of the GET WeCom sends when the callback URL is saved."""
    encrypt = seal(aes_key, echo.encode(), corp_id)
    return {**_signed(encrypt, token, timestamp, None), "echostr": encrypt}
