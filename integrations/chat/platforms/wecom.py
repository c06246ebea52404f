"""WeCom (企业微信) approval cards through a self-built app (自建应用): a template card per
person, its clicks through the app's "接收消息" callback, and the card replaced once decided.

- Token: ``GET /cgi-bin/gettoken?corpid=&corpsecret=``, kept per app (``app.pk`` +
  ``app.updated_at``) until 5 minutes before ``expires_in``; fetched again once on 40014 /
  42001. 40001 / 40013 (bad Secret / corp ID) and 60020 (IP not trusted) are refusals; -1
  (busy) a retry; 45009 / 45033 (call limits) a pause of ``RATE_LIMIT_WAIT`` s (WeCom gives no
  wait; its limits are counted per minute).
- Send: ``POST /cgi-bin/message/send``, ``msgtype: template_card``. Open with decisions: a
  ``button_interaction`` card, ``task_id`` = ``Card.key`` (unique per app: WeCom refuses a
  second card with it), ≤ 6 ``horizontal_content_list`` rows (more fields go into
  ``sub_title_text``), buttons whose ``key`` (≤ 1024 bytes, back as ``EventKey``) is
  ``rd@<a|t|r>@<base64url(JSON Card.value)>``. WeCom cards have no text input: the comment is
  a ``button_selection`` (question_key ``reason``) of a first option "—" (WeCom always
  pre-selects an option: without it a Reject would carry the first reason unasked) and
  ``Card.reasons`` (≤ 9), each option id carrying its label (``r<n>@<base64url(label)>``,
  ≤ 128 bytes) so the click brings the label back as the comment. Other cards: ``text_notice``.
  81013, or the recipient in ``invaliduser`` / ``unlicenseduser``: refused.
- Update: ``POST /cgi-bin/message/update_template_card``, ``userids: [recipient]`` and the
  card's response_code (each works once, within 72 h). Decided: the card is replaced by a
  ``text_notice`` (the outcome as ``main_title.desc``, the figures, a link), not
  ``button.replace_name``: a button's text is meant for ≤ 10 characters, and the code is spent
  by the first update, so that update must already be the final card.
- To-dos: no server API creates one for a self-built app (``todo/get`` / ``todo/update`` only;
  creating is JS-SDK ``ww.createTodo``): ``Unsupported`` (docs/research/chat-approvals-wecom.md).
- Callback: GET (URL check: ``echostr`` verified, decrypted, answered as plain text) or POST
  ``<xml><ToUserName/><AgentID/><Encrypt/></xml>``: signature first, then the timestamp
  (±300 s), then decryption (receive id = corp id); our corp id and agent id only.
  ``template_card_event`` → ``Click`` (event id: FromUserName + CreateTime, WeCom's advice,
  + TaskId + the action), else ``Ignored``. A click is answered with an empty 200 (no passive
  reply); the core then updates the card with the click's ResponseCode through ``update``.

Documentation followed (developer.work.weixin.qq.com/document/path/…): 91039 (access_token),
90313 (全局错误码), 90236 (发送应用消息; field limits as in the copy 90372), 101032 (模板卡片类型),
94888 (更新模版卡片消息), 90930 (接收消息与事件), 90968 (加解密方案), 90376 (模板卡片事件推送),
101524 / 101530 (待办).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import time
from typing import Any

import httpx
from defusedxml import ElementTree
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations.chat.platform import (
    CallbackRefused,
    Card,
    Challenge,
    Click,
    Ignored,
    RateLimited,
    Refused,
    Retry,
    Sent,
    Unsupported,
)
from integrations.directory.msgcrypt import CryptError, MsgCrypt, SignatureError, is_fresh
from integrations.setting import Setting

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
# WeCom has no to-do API for self-built apps: no to-do is queued for its cards.
HAS_TODOS = False

SETTINGS = (
    Setting("corp_id", gettext_lazy("Corp ID"), required=True,
            help=gettext_lazy("My Company → Company Information → Corp ID (ww…).")),
    Setting("agent_id", gettext_lazy("AgentId"), required=True, kind="int", max_value=2**31 - 1,
            help=gettext_lazy("The self-built app's AgentId (its page in App Management).")),
    Setting("secret", gettext_lazy("Secret"), secret=True, required=True),
    Setting("token", gettext_lazy("Callback Token"), secret=True, required=True,
            help=gettext_lazy("Receive Messages → Set API Receiving: Token.")),
    Setting("encoding_aes_key", gettext_lazy("Callback EncodingAESKey"), secret=True,
            required=True, help=gettext_lazy("Receive Messages: EncodingAESKey (43 characters).")),
)  # fmt: skip

TIMEOUT = 10.0
TOKEN_MARGIN = 300.0  # a token is fetched again this long before WeCom says it expires
TOKEN_ERRORS = frozenset({40014, 42001})
CREDENTIAL_ERRORS = frozenset({40001, 40013})
BUSY_ERRORS = frozenset({-1})
RATE_LIMIT_ERRORS = frozenset({45009, 45033})
RATE_LIMIT_WAIT = 60.0
NO_RECIPIENT = 81013
UNTRUSTED_IP = 60020

SOURCE = "Renewal Desk"
ACTIONS = {"approve": "a", "return": "t", "reject": "r"}
ACTION_OF = {v: k for k, v in ACTIONS.items()}
STYLES = {"primary": 1, "default": 2, "danger": 3}
MAX_ROWS, MAX_BUTTONS, MAX_JUMPS, MAX_OPTIONS = 6, 6, 3, 10
MAX_KEY, MAX_OPTION_ID, MAX_EVENT_ID = 1024, 128, 200
TASK_ID = re.compile(r"[A-Za-z0-9_\-@]{1,128}")
REASON_KEY = "reason"
NO_REASON = "none"
KEY_PREFIX = "rd"

_tokens: dict[Any, tuple[Any, str, float]] = {}  # app.pk → (updated_at, token, good until)
_tokens_lock = threading.Lock()


# --- the compact ids a card carries -----------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def task_id(key: str) -> str:
    """``Card.key`` when WeCom takes it as a task_id (digits, letters, ``_-@``, ≤ 128 bytes),
    else a digest of it (the same key, the same task_id)."""
    if TASK_ID.fullmatch(key):
        return key
    return "k-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def button_key(action: str, value: dict[str, Any]) -> str:
    payload = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    key = f"{KEY_PREFIX}@{ACTIONS[action]}@{_b64(payload.encode())}"
    if len(key.encode()) > MAX_KEY:
        raise Refused(_("The card's button value is too long for WeCom."))
    return key


def parse_button_key(key: str) -> tuple[str, dict[str, Any]] | None:
    """(action, value with "a") of one of our button keys, else None."""
    prefix, _sep, rest = key.partition("@")
    letter, _sep, payload = rest.partition("@")
    if prefix != KEY_PREFIX or letter not in ACTION_OF:
        return None
    try:
        value = json.loads(_unb64(payload).decode())
    except (binascii.Error, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    action = ACTION_OF[letter]
    return action, {**value, "a": action}


def option_id(index: int, label: str) -> str:
    """``r<index>@<base64url(label)>``, the label cut (on a character) to fit 128 bytes."""
    prefix = f"r{index}@"
    room = (MAX_OPTION_ID - len(prefix)) * 3 // 4
    data = label.encode()[:room].decode(errors="ignore").encode()
    return prefix + _b64(data)


def option_label(option: str) -> str:
    """The reason label an option id carries ("" for none or a foreign one)."""
    prefix, sep, payload = option.partition("@")
    if not sep or not re.fullmatch(r"r\d+", prefix):
        return ""
    try:
        return _unb64(payload).decode()
    except (binascii.Error, ValueError):
        return ""


# --- the cards --------------------------------------------------------------------------------


def _rows(card: Card) -> tuple[list[dict[str, Any]], list[str]]:
    """The first six fields as rows; the rest as lines of text."""
    rows = [{"keyname": label, "value": value} for label, value in card.fields[:MAX_ROWS]]
    return rows, [f"{label}: {value}" for label, value in card.fields[MAX_ROWS:]]


def _selection(card: Card) -> dict[str, Any]:
    options = [{"id": NO_REASON, "text": "—"}]
    options += [
        {"id": option_id(i, label), "text": label}
        for i, (_id, label) in enumerate(card.reasons[: MAX_OPTIONS - 1], start=1)
    ]
    selection: dict[str, Any] = {"question_key": REASON_KEY, "option_list": options,
                                 "selected_id": NO_REASON}  # fmt: skip
    if card.comment_label:
        selection["title"] = card.comment_label
    return selection


def template_card(card: Card, *, with_task: bool = True) -> dict[str, Any]:
    """The ``template_card`` object of this card: buttons while open, else a notice."""
    rows, extra = _rows(card)
    decisions = [b for b in card.buttons if b.action in ACTIONS and card.state == "open"]
    links = [b for b in card.buttons if b.action == "link" and b.url]
    url = card.url or (links[0].url if links else "")
    body: dict[str, Any] = {"source": {"desc": SOURCE, "desc_color": 0}}
    if decisions:
        body["card_type"] = "button_interaction"
        body["main_title"] = {"title": card.title, "desc": card.subtitle}
        text = [card.text, *extra]
        buttons = [
            {"type": 0, "text": b.label, "style": STYLES.get(b.style, 2),
             "key": button_key(b.action, card.value)}
            for b in decisions
        ] + [{"type": 1, "text": b.label, "style": 2, "url": b.url} for b in links]  # fmt: skip
        body["button_list"] = buttons[:MAX_BUTTONS]
        if any(b.action in ("return", "reject") for b in decisions) and card.reasons:
            body["button_selection"] = _selection(card)
    else:
        body["card_type"] = "text_notice"
        # Decided: the outcome right under the title, where it is seen first.
        body["main_title"] = {"title": card.title, "desc": card.outcome or card.subtitle}
        text = [card.subtitle if card.outcome else "", card.text, *extra]
        jumps = [{"type": 1, "title": b.label, "url": b.url} for b in links[:MAX_JUMPS]]
        if jumps:
            body["jump_list"] = jumps
    sub_title = "\n".join(t for t in text if t)
    if sub_title:
        body["sub_title_text"] = sub_title
    if rows:
        body["horizontal_content_list"] = rows
    if url:
        body["card_action"] = {"type": 1, "url": url}
    if with_task:
        body["task_id"] = task_id(card.key)
    return body


# --- calls ------------------------------------------------------------------------------------


def _agent_id(app: Any) -> int:
    value: Any = (app.config or {}).get("agent_id")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Refused(_("The WeCom app has no valid AgentId.")) from None


def _safe(text: Any, *hidden: str) -> str:
    """WeCom's errmsg, cut short, with no token or secret in it."""
    message = str(text or "")[:200]
    for value in hidden:
        if value:
            message = message.replace(value, "…")
    return message


def _request(app: Any, method: str, path: str, params: dict[str, str], body: Any = None) -> Any:
    base = (app.base_url or DEFAULT_BASE_URL).rstrip("/")
    try:
        with httpx.Client(timeout=TIMEOUT) as client:
            response = client.request(method, base + path, params=params, json=body)
    except httpx.TimeoutException:
        raise Retry(_("WeCom did not answer in time.")) from None
    except httpx.HTTPError:
        raise Retry(_("WeCom could not be reached.")) from None
    if response.status_code == 429:
        raise RateLimited(_("WeCom asked us to slow down (HTTP 429)."), RATE_LIMIT_WAIT)
    if response.status_code >= 500:
        raise Retry(_("WeCom is unavailable (HTTP %(status)s).") % {"status": response.status_code})
    if response.status_code != 200:
        raise Refused(_("WeCom answered HTTP %(status)s.") % {"status": response.status_code})
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise Retry(_("WeCom answered something that is not JSON."))
    return data


def _code(data: dict[str, Any]) -> int:
    try:
        return int(data.get("errcode") or 0)
    except (TypeError, ValueError):
        return -1


def _common_failure(code: int) -> None:
    """Raise for the codes every call shares (busy, limits, the server's IP)."""
    if code in BUSY_ERRORS:
        raise Retry(_("WeCom is busy (code %(code)s).") % {"code": code})
    if code in RATE_LIMIT_ERRORS:
        raise RateLimited(
            _("WeCom's call limit was reached (code %(code)s): waiting a minute, as its limits "
              "are counted per minute.") % {"code": code},
            RATE_LIMIT_WAIT,
        )  # fmt: skip
    if code == UNTRUSTED_IP:
        raise Refused(_("WeCom refused this server's address: add it to the app's trusted IPs."))


def access_token(app: Any, *, fresh: bool = False) -> str:
    """The app's token, from the cache unless ``fresh`` (or the app was saved since)."""
    with _tokens_lock:
        cached = _tokens.get(app.pk)
    if not fresh and cached and cached[0] == app.updated_at and cached[2] > time.monotonic():
        return cached[1]
    corp_id = str((app.config or {}).get("corp_id") or "")
    secret = app.secrets.get("secret", "")
    if not corp_id or not secret:
        raise Refused(_("The WeCom app needs its corp ID and Secret."))
    data = _request(app, "GET", "/cgi-bin/gettoken", {"corpid": corp_id, "corpsecret": secret})
    code = _code(data)
    _common_failure(code)
    token = str(data.get("access_token") or "")
    if code in CREDENTIAL_ERRORS or code != 0 or not token:
        raise Refused(
            _("WeCom refused the corp ID / Secret: %(msg)s (code %(code)s).")
            % {"msg": _safe(data.get("errmsg"), secret), "code": code}
        )
    lifetime = float(data["expires_in"]) if isinstance(data.get("expires_in"), int) else 7200.0
    with _tokens_lock:
        _tokens[app.pk] = (app.updated_at, token, time.monotonic() + lifetime - TOKEN_MARGIN)
    return token


def call(app: Any, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    """(errcode, answer, the token used) of a POST; the token fetched again once if refused."""
    token = access_token(app)
    data = _request(app, "POST", path, {"access_token": token}, body)
    if _code(data) in TOKEN_ERRORS:
        token = access_token(app, fresh=True)
        data = _request(app, "POST", path, {"access_token": token}, body)
        if _code(data) in TOKEN_ERRORS:
            raise Retry(_("WeCom keeps refusing a fresh access token."))
    code = _code(data)
    _common_failure(code)
    return code, data, token


# --- callbacks --------------------------------------------------------------------------------


def _xml(data: bytes | str) -> Any:
    """The root element (defusedxml: no DTDs, no entities); 400 if it is not one."""
    try:
        return ElementTree.fromstring(data)
    except Exception:  # defusedxml's refusals and expat's errors alike
        raise CallbackRefused(400, _("The callback is not a WeCom XML message.")) from None


def _text(root: Any, tag: str) -> str:
    return str(root.findtext(tag) or "").strip()


def _crypt(app: Any) -> MsgCrypt:
    secrets, corp_id = app.secrets, str((app.config or {}).get("corp_id") or "")
    try:
        return MsgCrypt(secrets.get("token", ""), secrets.get("encoding_aes_key", ""), corp_id)
    except CryptError:
        raise CallbackRefused(
            403, _("The WeCom app has no valid callback Token, EncodingAESKey or corp ID.")
        ) from None


def _open(crypt: MsgCrypt, request: HttpRequest, encrypt: str) -> bytes:
    """Signature first, then freshness, then decryption."""
    params = request.GET
    timestamp = params.get("timestamp") or ""
    try:
        crypt.verify(params.get("msg_signature") or "", timestamp, params.get("nonce") or "",
                     encrypt)  # fmt: skip
    except SignatureError:
        raise CallbackRefused(401, _("The callback's signature does not match.")) from None
    if not is_fresh(timestamp):
        raise CallbackRefused(401, _("The callback's timestamp is more than five minutes off."))
    try:
        return crypt.decrypt(encrypt)
    except CryptError:
        raise CallbackRefused(400, _("The callback cannot be decrypted.")) from None


def _selected_label(message: Any) -> str:
    for item in message.iterfind("SelectedItems/SelectedItem"):
        if _text(item, "QuestionKey") == REASON_KEY:
            for option in item.iterfind("OptionIds/OptionId"):
                return option_label(str(option.text or "").strip())
    return ""


def _click(message: Any) -> Click | Ignored:
    ignored = Ignored(HttpResponse("", content_type="text/plain; charset=utf-8"))
    if _text(message, "MsgType") != "event" or _text(message, "Event") != "template_card_event":
        return ignored
    parsed = parse_button_key(_text(message, "EventKey"))
    user, task = _text(message, "FromUserName"), _text(message, "TaskId")
    if parsed is None or not user or not task:
        return ignored  # verified, but not one of our cards' buttons
    action, value = parsed
    event_id = f"{user}:{_text(message, 'CreateTime')}:{task}:{ACTIONS[action]}"
    if len(event_id) > MAX_EVENT_ID:
        event_id = "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()
    return Click(
        event_id=event_id,
        # WeCom gives user ids back lowercased in places: both spellings are offered.
        user_ids=tuple(dict.fromkeys([user, user.lower()])),
        message_id=task,
        action=action,
        value=value,
        comment=_selected_label(message) if action in ("return", "reject") else "",
        response_code=_text(message, "ResponseCode"),
        raw={child.tag: (child.text or "").strip() for child in message if len(child) == 0},
    )


# --- the platform -----------------------------------------------------------------------------


class WeComPlatform:
    kind = "wecom"

    def send(self, app: Any, card: Card) -> Sent:
        body = {"touser": card.recipient_id, "msgtype": "template_card",
                "agentid": _agent_id(app), "template_card": template_card(card)}  # fmt: skip
        code, data, token = call(app, "/cgi-bin/message/send", body)
        msg = _safe(data.get("errmsg"), token)
        if code == NO_RECIPIENT:
            raise Refused(
                _("WeCom found no valid recipient (code %(code)s): is the person in the app's "
                  "visible range and licensed?") % {"code": code}
            )  # fmt: skip
        if code != 0:
            raise Refused(_("WeCom refused the card: %(msg)s (code %(code)s).")
                          % {"msg": msg, "code": code})  # fmt: skip
        refused = {
            u.lower()
            for field in ("invaliduser", "unlicenseduser")
            for u in str(data.get(field) or "").split("|")
            if u
        }
        if card.recipient_id.lower() in refused:
            raise Refused(_("WeCom did not deliver the card: the person is unknown to the app or "
                            "has no licence."))  # fmt: skip
        return Sent(
            message_id=task_id(card.key), response_code=str(data.get("response_code") or "")
        )

    def update(self, app: Any, sent: Sent, card: Card) -> None:
        if not sent.response_code:
            raise Refused(_("WeCom gave no response code for this card: it cannot be updated."))
        # The decided card has no task (no buttons); an open one keeps its task_id.
        body = {"userids": [card.recipient_id], "agentid": _agent_id(app),
                "response_code": sent.response_code,
                "template_card": template_card(card, with_task=card.state == "open")}  # fmt: skip
        code, data, token = call(app, "/cgi-bin/message/update_template_card", body)
        if code != 0:
            raise Refused(
                _("WeCom refused the card update: %(msg)s (code %(code)s).")
                % {"msg": _safe(data.get("errmsg"), token, sent.response_code), "code": code}
            )

    def open_todo(self, app: Any, card: Card) -> str:
        raise Unsupported(_("WeCom has no server API that creates a to-do for a self-built app."))

    def close_todo(self, app: Any, todo_id: str, card: Card) -> None:
        raise Unsupported(_("WeCom has no server API that creates a to-do for a self-built app."))

    def parse_callback(
        self, app: Any, request: HttpRequest, body: bytes
    ) -> Challenge | Ignored | Click:
        crypt = _crypt(app)
        if request.method == "GET":
            # base64 holds no spaces: a "+" left unescaped by the sender arrives as one.
            echostr = (request.GET.get("echostr") or "").replace(" ", "+")
            if not echostr:
                raise CallbackRefused(400, _("The URL check has no echostr."))
            plain = _open(crypt, request, echostr)
            return Challenge(HttpResponse(plain, content_type="text/plain; charset=utf-8"))
        if request.method != "POST":
            raise CallbackRefused(400, _("WeCom calls back with GET or POST only."))
        envelope = _xml(body)
        encrypt = _text(envelope, "Encrypt")
        if not encrypt:
            raise CallbackRefused(400, _("The callback has no Encrypt element."))
        message = _xml(_open(crypt, request, encrypt))
        corp_id = str((app.config or {}).get("corp_id") or "")
        agent_id = str((app.config or {}).get("agent_id") or "")
        corps = {_text(envelope, "ToUserName"), _text(message, "ToUserName")} - {""}
        agents = {_text(envelope, "AgentID"), _text(message, "AgentID")} - {""}
        if corps != {corp_id} or agents != {agent_id}:
            raise CallbackRefused(403, _("The callback is for another WeCom corp or app."))
        return _click(message)

    def click_response(
        self, app: Any, click: Click, card: Card | None, toast: str, ok: bool
    ) -> HttpResponse:
        # An empty 200 is "no passive reply"; the card is updated through ``update``.
        return HttpResponse("", content_type="text/plain; charset=utf-8")


PLATFORM = WeComPlatform()
