"""A fake WeCom (企业微信) for the approval cards of ``integrations.chat.platforms.wecom``: the
directory fake's token endpoint (tests/fakes/wecom.py) plus the two message calls, and the
click callbacks built the documented way.

``FakeWeComChat`` answers, in the documented shapes:

- ``GET /cgi-bin/gettoken?corpid=&corpsecret=`` → ``access_token``, ``expires_in`` 7200 (a
  wrong corp id: 40013; a wrong secret: 40001); an unknown or expired token (``expire_tokens``)
  answers 42001 on any other call;
- ``POST /cgi-bin/message/send?access_token=`` (``msgtype: template_card``) → ``msgid`` and a
  ``response_code``; ``agentid`` must be this app's integer (else 40056); recipients unknown
  to ``users`` are listed in ``invaliduser`` (lowercased), those in ``unlicensed`` in
  ``unlicenseduser``; none valid: 81013. The card is checked against the documented limits
  (card type, ``task_id`` of digits, letters and ``_-@`` ≤ 128 bytes, ≤ 6 buttons and rows,
  button keys ≤ 1024 bytes, ≤ 10 options of ids ≤ 128 bytes): 40058 (invalid parameter) when
  broken. A task_id already used in the app: 40058 too [the real code is unconfirmed];
- ``POST /cgi-bin/message/update_template_card?access_token=`` → 0 when ``response_code`` is
  one issued (by send or a click) and not used yet, else 40058 [code unconfirmed];
- knobs: ``rate_limited`` = N (the next N API calls answer 45009 接口调用超过限制),
  ``system_busy`` = N (-1 系统繁忙), ``down`` (every request answers HTTP 503);
  ``calls`` records every request (method, path, query, JSON body).

``card_event`` builds the decrypted ``template_card_event`` message (a new ResponseCode is
issued for the task, as WeCom does per click); ``callback`` seals any message into the POST
``<xml><ToUserName/><AgentID/><Encrypt/></xml>`` with ``msg_signature``, ``timestamp`` and
``nonce`` in the query, with ``seal`` / ``sign`` of tests/fakes/errcode_http.py (written from
the documentation apart from our msgcrypt); ``url_check`` (tests/fakes/wecom.py) builds the GET.

Documentation followed:
- https://developer.work.weixin.qq.com/document/path/91039 (获取access_token)
- https://developer.work.weixin.qq.com/document/path/90313 (全局错误码)
- https://developer.work.weixin.qq.com/document/path/90236 (发送应用消息, 模板卡片消息; the field
  limits as in the copy 90372)
- https://developer.work.weixin.qq.com/document/path/94888 (更新模版卡片消息)
- https://developer.work.weixin.qq.com/document/path/90930 (接收消息与事件)
- https://developer.work.weixin.qq.com/document/path/90968 (加解密方案说明)
- https://developer.work.weixin.qq.com/document/path/90376 (模板卡片事件推送)
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from xml.sax.saxutils import escape

from tests.fakes.errcode_http import seal, sign
from tests.fakes.wecom import FakeWeCom, url_check

__all__ = ["FakeWeComChat", "callback", "card_event", "url_check"]

CARD_TYPES = {"text_notice", "news_notice", "button_interaction", "vote_interaction",
              "multiple_interaction"}  # fmt: skip
TASK_ID = re.compile(r"[A-Za-z0-9_\-@]{1,128}")


def _invalid(why: str) -> dict[str, Any]:
    return {"errcode": 40058, "errmsg": f"invalid parameter: {why}"}


def card_problem(card: Any) -> str:
    """What breaks the documented limits of a ``template_card`` ("" if nothing)."""
    if not isinstance(card, dict) or card.get("card_type") not in CARD_TYPES:
        return "card_type"
    task = card.get("task_id")
    if task is not None and not TASK_ID.fullmatch(str(task)):
        return "task_id"
    if card["card_type"] == "button_interaction" and not task:
        return "task_id missing"
    if len(card.get("horizontal_content_list") or []) > 6:
        return "horizontal_content_list"
    buttons = card.get("button_list") or []
    if len(buttons) > 6 or any(len(str(b.get("key", "")).encode()) > 1024 for b in buttons):
        return "button_list"
    if any(b.get("type", 0) == 0 and not b.get("key") for b in buttons):
        return "button key missing"
    options = (card.get("button_selection") or {}).get("option_list")
    if options is not None and (
        not 1 <= len(options) <= 10 or any(len(str(o["id"]).encode()) > 128 for o in options)
    ):
        return "button_selection"
    if len(card.get("jump_list") or []) > 3:
        return "jump_list"
    return ""


class FakeWeComChat(FakeWeCom):
    busy_code = 45009

    def __init__(self, agent_id: int = 1000002, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.agent_id = agent_id
        self.unlicensed: set[str] = set()
        self.system_busy = 0  # the next N API calls answer -1
        self.down = False
        self.tasks: dict[str, dict[str, Any]] = {}  # task_id → touser, card, codes
        self.codes: dict[str, str] = {}  # unused response_code → task_id

    @property
    def rate_limited(self) -> int:
        return self.busy

    @rate_limited.setter
    def rate_limited(self, value: int) -> None:
        self.busy = value

    def __enter__(self) -> FakeWeComChat:
        super().__enter__()
        return self

    def _answer(self, method: str, raw_path: str, raw_body: bytes) -> tuple[int, bytes]:
        if self.down:
            with self._lock:
                self.calls.append((method, raw_path.split("?")[0], {}, {}))
            return 503, b"<html>503 Service Unavailable</html>"
        return super()._answer(method, raw_path, raw_body)

    def issue_code(self, task: str) -> str:
        code = "rc-" + uuid.uuid4().hex
        self.codes[code] = task
        return code

    def route(self, method: str, path: str, params: dict[str, str], body: dict[str, Any]) -> Any:
        if self.system_busy > 0:
            self.system_busy -= 1
            return {"errcode": -1, "errmsg": "system busy"}
        if method == "POST" and path == "/cgi-bin/message/send":
            return self._send(body)
        if method == "POST" and path == "/cgi-bin/message/update_template_card":
            return self._update(body)
        return super().route(method, path, params, body)

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("agentid") != self.agent_id or not isinstance(body.get("agentid"), int):
            return {"errcode": 40056, "errmsg": "invalid agentid"}
        if body.get("msgtype") != "template_card":
            return {"errcode": 40008, "errmsg": "invalid message type"}
        card = body.get("template_card")
        problem = card_problem(card)
        if problem:
            return _invalid(problem)
        assert isinstance(card, dict)
        task = str(card.get("task_id") or "")
        if task and task in self.tasks:
            return _invalid("task_id exists")
        known = {u.lower() for u in self.users}
        wanted = [u for u in str(body.get("touser") or "").split("|") if u]
        invalid = [u.lower() for u in wanted if u.lower() not in known]
        unlicensed = [u.lower() for u in wanted if u.lower() in self.unlicensed]
        if len(invalid) + len(unlicensed) >= len(wanted):
            return {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
        answer = {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid),
                  "unlicenseduser": "|".join(unlicensed), "msgid": uuid.uuid4().hex}  # fmt: skip
        if task:
            self.tasks[task] = {"touser": body["touser"], "card": card, "updates": []}
            answer["response_code"] = self.issue_code(task)
        return answer

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("agentid") != self.agent_id:
            return {"errcode": 40056, "errmsg": "invalid agentid"}
        task = self.codes.pop(str(body.get("response_code") or ""), None)
        if task is None:
            return _invalid("response_code")
        if "template_card" in body and card_problem(body["template_card"]):
            return _invalid(card_problem(body["template_card"]))
        if "template_card" not in body and not (body.get("button") or {}).get("replace_name"):
            return _invalid("button.replace_name or template_card")
        self.tasks[task]["updates"].append(body)
        return {"errcode": 0, "errmsg": "ok", "invaliduser": []}


# --- callbacks --------------------------------------------------------------------------------


def _cdata(tag: str, value: str) -> str:
    return f"<{tag}><![CDATA[{value}]]></{tag}>"


def card_event(
    fake: FakeWeComChat | None,
    *,
    corp_id: str,
    user: str,
    task_id: str,
    event_key: str,
    agent_id: int = 1000002,
    options: tuple[str, ...] = (),
    question_key: str = "reason",
    created: int | None = None,
    response_code: str = "",
) -> str:
    """A ``template_card_event`` (the decrypted message); ``fake``: issue its ResponseCode."""
    code = response_code or (fake.issue_code(task_id) if fake else "rc-" + uuid.uuid4().hex)
    selected = ""
    if options:
        ids = "".join(_cdata("OptionId", o) for o in options)
        selected = (
            "<SelectedItems><SelectedItem>"
            f"{_cdata('QuestionKey', question_key)}<OptionIds>{ids}</OptionIds>"
            "</SelectedItem></SelectedItems>"
        )
    return (
        f"<xml>{_cdata('ToUserName', corp_id)}{_cdata('FromUserName', user)}"
        f"<CreateTime>{created or int(time.time())}</CreateTime>"
        f"{_cdata('MsgType', 'event')}{_cdata('Event', 'template_card_event')}"
        f"{_cdata('EventKey', event_key)}{_cdata('TaskId', task_id)}"
        f"{_cdata('CardType', 'button_interaction')}{_cdata('ResponseCode', code)}"
        f"<AgentID>{agent_id}</AgentID>{selected}</xml>"
    )


def callback(
    xml: str | bytes,
    *,
    token: str,
    aes_key: str,
    corp_id: str,
    agent_id: int | str = 1000002,
    receive_id: str | None = None,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """(query, body) of a callback POST as WeCom sends it (``receive_id``: sealed for
    another corp)."""
    plain = xml.encode() if isinstance(xml, str) else xml
    encrypt = seal(aes_key, plain, corp_id if receive_id is None else receive_id)
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or uuid.uuid4().hex[:10]
    body = (
        f"<xml><ToUserName><![CDATA[{escape(corp_id)}]]></ToUserName>"
        f"<AgentID><![CDATA[{agent_id}]]></AgentID><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    )
    query = {"msg_signature": sign(token, timestamp, nonce, encrypt), "timestamp": timestamp,
             "nonce": nonce}  # fmt: skip
    return query, body.encode()
