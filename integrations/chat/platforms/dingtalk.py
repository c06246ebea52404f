"""DingTalk (钉钉) personal approval cards (#21): 互动卡片 sent by the app's robot to one person
(IM_ROBOT), updated in place, clicked back over an HTTP callback or Stream mode, plus 待办.

Settings (``ChatApp.config``): ``app_key`` (the internal app's AppKey / Client ID; also the
robotCode), ``card_template_id`` (the template below, e.g. ``abcd-1234.schema``), ``mode``
(``http`` or ``stream``: clicks over the app's own Stream connection, ``dingtalk_stream.py``).
Secret: ``app_secret``. HTTP mode only: ``callback_route_key`` (registered by
``register_callback``), the secret ``callback_secret`` (the route's apiSecret: signs clicks).

THE CARD TEMPLATE (made once by the admin in the card builder, https://open-dev.dingtalk.com/fe/card,
then published). Every variable is sent as a string (cardParamMap is Map<String, String>):

- ``title``, ``subtitle``, ``text`` (markdown), ``outcome`` (shown prominently when non-empty),
  ``toast`` (a short banner for the person who just clicked; empty otherwise);
- ``fields``: an ARRAY variable (loop component) of objects ``{"label": …, "value": …}``, sent
  JSON-encoded as DingTalk's "API 卡片数据的填写说明" says for arrays (at most 1 KB: trailing
  rows are dropped and a "…" row added when it would not fit);
- ``status``: ``open`` / ``decided`` / ``changed`` / ``info``;
- booleans (``"true"`` / ``"false"``): ``show_approve``, ``show_return``, ``show_reject``
  (each decision button visible only when true), ``show_comment`` (the comment input),
  ``show_link`` (the link button);
- labels: ``approve_label``, ``return_label``, ``reject_label``, ``link_label``,
  ``comment_label`` (the input's placeholder); ``url`` (the link button opens it);
- ``value``: a JSON string the decision buttons carry back unchanged.

Components: a text input named ``comment``; three buttons whose click action is "回传请求"
(callback) with params ``{"a": "approve" | "return" | "reject", "value": ${value}}`` (``a``
fixed per button, ``value`` bound to the variable); a link button opening ``${url}``. The input's
value comes back in ``cardPrivateData.params.comment``. (That params may be bound to variables
and that an input's value arrives under its name is what third-party code shows: UNCONFIRMED
on an official page.) When ``status`` is not ``open`` every ``show_*`` decision flag is false.

Calls (new API on https://api.dingtalk.com, token in ``x-acs-dingtalk-access-token``, errors as
an HTTP status with ``{"code", "message", "requestid"}``):

- token ``POST /v1.0/oauth2/accessToken`` (7200 s; kept until 5 min before; a 401 or
  ``InvalidAuthentication`` → one new token and one retry);
- send ``POST /v1.0/card/instances/createAndDeliver`` (outTrackId = ``Card.key``, so a second
  send answers ``param.cardAlreadyExist``: taken as sent), to ``dtv1.card//IM_ROBOT.<userId>``;
- update ``PUT /v1.0/card/instances`` with ``updateCardDataByKey`` (never overwrite);
- to-dos ``POST /v1.0/todo/users/{unionId}/tasks`` and ``PUT …/tasks/{taskId}`` ``{"done":
  true}`` (the unionId comes from ``Card.other_ids["unionId"]``);
- ``register_callback``: ``POST /v1.0/card/callbacks/register`` (``manage.py chat_app``).

Throttling (403): ``Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`` / ``QpsLimitForApi`` → wait
1 s as DingTalk advises (``QpmLimit…``: 60 s, UNCONFIRMED); ``ApiCountLimitForOrg`` (the monthly
quota) → refused; 5xx, ``system.busy``, time-outs → retry.

Clicks (HTTP mode): DingTalk POSTs ``{"type": "actionCallback", "outTrackId", "userId", "corpId",
"content": "<JSON string>"}`` with ``x-ddpaas-signature-timestamp`` (ms; seconds accepted too)
and ``x-ddpaas-signature`` = base64(HMAC-SHA256(apiSecret, timestamp)). That signature covers
ONLY the timestamp, not the body: whoever captured a fresh (timestamp, signature) pair could send
another body inside the ±300 s window. So the body is never trusted alone: the core binds every
click to the card's nonce (``value["n"]``) and recipient, and keys replays on ``event_id`` =
sha256(timestamp + signature + body). The answer (within 2 s, ``card_response``) is the card.

Documentation followed (each under https://open.dingtalk.com/document/):
orgapp/obtain-the-access_token-of-an-internal-app, development/create-and-deliver-cards,
development/interactive-card-update-interface, development/register-card-callback-address,
development/instructions-for-filling-in-api-card-data, development/event-callback-card,
development/add-dingtalk-to-do-task, development/updates-dingtalk-to-do-tasks,
development/how-to-process-api-throttling-on-the-dingtalk-server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from typing import Any
from urllib.parse import quote

import httpx
from django.http import HttpRequest, HttpResponse, JsonResponse
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
)
from integrations.setting import Setting

DEFAULT_BASE_URL = "https://api.dingtalk.com"
TIMEOUT = 10.0
TOKEN_MARGIN = 300  # seconds before expireIn that a token is asked again (as the SDK does)
WINDOW_MS = 300_000  # a click's signature timestamp must be within ±300 s
MAX_VALUE_BYTES = 1024  # a cardParamMap value's documented maximum
DECISIONS = ("approve", "return", "reject")
QPS_CODES = (
    "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
    "Forbidden.AccessDenied.QpsLimitForApi",
)
QPM_CODE = "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi"
QUOTA_CODE = "Forbidden.AccessDenied.ApiCountLimitForOrg"
BUSY_CODES = ("system.busy", "todo.taskCreate.lockError")
TOKEN_CODES = ("InvalidAuthentication", "InvalidAccessToken")

SETTINGS = (
    Setting("app_key", gettext_lazy("AppKey (Client ID)"), required=True,
            help=gettext_lazy("The internal app's AppKey; also its robot's code.")),
    Setting("card_template_id", gettext_lazy("Card template id"), required=True,
            help=gettext_lazy("The approval card template made in the card builder (….schema).")),
    Setting("mode", gettext_lazy("Card clicks arrive by"), kind="choice", default="http",
            choices=(("http", gettext_lazy("HTTP callback")), ("stream", gettext_lazy("Stream mode"))),
            help=gettext_lazy("Stream mode needs no inbound port: run manage.py chat_stream --app NAME.")),
    Setting("callback_route_key", gettext_lazy("Callback route key"), help=gettext_lazy(
        "HTTP mode: the callbackRouteKey the click address is registered under.")),
    Setting("app_secret", gettext_lazy("AppSecret (Client secret)"), secret=True, required=True),
    Setting("callback_secret", gettext_lazy("Callback secret (apiSecret)"), secret=True,
            help=gettext_lazy("HTTP mode: registered with the route; signs every click.")),
)  # fmt: skip


def required_settings(config: dict[str, Any]) -> set[str]:
    """The settings an app with ``config`` must have (``services.chat_app_save`` asks)."""
    needed = {s.key for s in SETTINGS if s.required}
    stream = config.get("mode") == "stream"
    return needed if stream else needed | {"callback_route_key", "callback_secret"}


_tokens: dict[tuple[Any, Any], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


class _TokenInvalid(Exception):
    pass


class _Refused(Refused):
    """A refusal that keeps DingTalk's code (``param.cardAlreadyExist`` is no failure)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


# --- HTTP -------------------------------------------------------------------------------------


def _config(app: Any, key: str) -> str:
    value = str((app.config or {}).get(key) or "")
    if not value:
        raise Refused(_("The DingTalk app has no %(key)s setting.") % {"key": key})
    return value


def _secret(app: Any, key: str) -> str:
    value = app.secrets.get(key, "")
    if not value:
        raise Refused(_("The DingTalk app has no %(key)s secret.") % {"key": key})
    return str(value)


def _base(app: Any) -> str:
    return str(app.base_url or DEFAULT_BASE_URL).rstrip("/")


def _request(app: Any, method: str, path: str, body: dict[str, Any], token: str = "") -> Any:
    """One call: the answer's JSON, or the mapped error."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["x-acs-dingtalk-access-token"] = token
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            resp = client.request(method, _base(app) + path, json=body, headers=headers)
    except httpx.TimeoutException:
        raise Retry(_("DingTalk did not answer in time.")) from None
    except httpx.HTTPError:
        raise Retry(_("DingTalk could not be reached.")) from None
    try:
        data = resp.json()
    except ValueError:
        data = None
    if resp.status_code < 400:
        if data is None:
            raise Refused(_("DingTalk answered something that is not JSON."))
        return data
    info = data if isinstance(data, dict) else {}
    code, msg = str(info.get("code") or ""), str(info.get("message") or "")
    if token and (resp.status_code == 401 or code in TOKEN_CODES):
        raise _TokenInvalid()
    _raise_for(resp.status_code, code, msg, info)


def _raise_for(status: int, code: str, msg: str, info: dict[str, Any]) -> None:
    params = {"msg": msg or code or status, "code": code or status}
    if code in QPS_CODES or status == 429:
        raise RateLimited(_("DingTalk asks to slow down: %(msg)s (code %(code)s).") % params, 1.0)
    if code == QPM_CODE:
        raise RateLimited(_("DingTalk asks to slow down: %(msg)s (code %(code)s).") % params, 60.0)
    if info.get("punish") == "deny":  # the per-IP ban: {"status":1111,"wait":5,"punish":"deny"}
        wait = info.get("wait")
        minutes = wait if isinstance(wait, int) else 5
        raise RateLimited(_("DingTalk has banned this address for a few minutes."), minutes * 60.0)
    if code == QUOTA_CODE:
        raise Refused(_("The DingTalk organisation used up its monthly API calls (code %(code)s).")
                      % params)  # fmt: skip
    if status >= 500 or code in BUSY_CODES:
        raise Retry(_("DingTalk is busy: %(msg)s (code %(code)s).") % params)
    raise _Refused(_("DingTalk refused: %(msg)s (code %(code)s).") % params, code)


def _token(app: Any, fresh: bool = False) -> str:
    key = (app.pk, app.updated_at)
    with _tokens_lock:
        cached = _tokens.get(key)
        if cached and not fresh and cached[1] > time.time():
            return cached[0]
    body = {"appKey": _config(app, "app_key"), "appSecret": _secret(app, "app_secret")}
    data = _request(app, "POST", "/v1.0/oauth2/accessToken", body)
    token, expire_in = data.get("accessToken"), data.get("expireIn")
    if not isinstance(token, str) or not token:
        raise Refused(_("DingTalk gave no access token."))
    seconds = float(expire_in) if isinstance(expire_in, int | float) else 7200.0
    with _tokens_lock:
        for old in [k for k in _tokens if k[0] == app.pk]:
            del _tokens[old]
        _tokens[key] = (token, time.time() + max(seconds - TOKEN_MARGIN, 60.0))
    return token


def _api(app: Any, method: str, path: str, body: dict[str, Any]) -> Any:
    """An API call with the app's token; a token DingTalk no longer takes is renewed once."""
    try:
        return _request(app, method, path, body, _token(app))
    except _TokenInvalid:
        pass
    try:
        return _request(app, method, path, body, _token(app, fresh=True))
    except _TokenInvalid:
        raise Refused(_("DingTalk does not accept the app's access token.")) from None


# --- the card ---------------------------------------------------------------------------------


def _fit(text: str, limit: int = MAX_VALUE_BYTES) -> str:
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[: limit - 3].decode(errors="ignore")
    return cut + "…"


def _fields(card: Card) -> str:
    rows = [{"label": str(k), "value": str(v)} for k, v in card.fields]
    encoded = json.dumps(rows, ensure_ascii=False)
    while rows and len(encoded.encode()) > MAX_VALUE_BYTES:
        rows = rows[:-1]
        encoded = json.dumps([*rows, {"label": "…", "value": ""}], ensure_ascii=False)
    return encoded


def card_params(card: Card, toast: str = "") -> dict[str, str]:
    """The template's variables for ``card`` (every value a string, each at most 1 KB)."""
    open_ = card.state == "open"
    labels = {b.action: b.label for b in card.buttons}
    link = next((b for b in card.buttons if b.action == "link"), None)
    url = (link.url if link and link.url else "") or card.url
    shown = {a: open_ and a in labels for a in DECISIONS}
    params = {
        "title": card.title,
        "subtitle": card.subtitle,
        "fields": _fields(card),
        "text": card.text,
        "status": card.state,
        "outcome": card.outcome,
        "url": url,
        "link_label": (link.label if link else "") or ("↗" if url else ""),
        "show_link": bool(url),
        "comment_label": card.comment_label,
        "show_comment": shown["return"] or shown["reject"],
        "value": json.dumps(card.value, ensure_ascii=False, sort_keys=True),
        "toast": toast,
    }
    for action in DECISIONS:
        params[f"{action}_label"] = labels.get(action, "")
        params[f"show_{action}"] = shown[action]
    return {
        k: ("true" if v else "false") if isinstance(v, bool) else _fit(str(v))
        for k, v in params.items()
    }


def _deliver_body(app: Any, card: Card) -> dict[str, Any]:
    app_key = _config(app, "app_key")
    language = "ZH_CN" if card.language.startswith("zh") else "EN_US"
    stream = (app.config or {}).get("mode") == "stream"  # Stream mode: no route key
    return {
        "cardTemplateId": _config(app, "card_template_id"),
        "outTrackId": card.key,
        "callbackType": "STREAM" if stream else "HTTP",
        **({} if stream else {"callbackRouteKey": _config(app, "callback_route_key")}),
        "cardData": {"cardParamMap": card_params(card)},
        "openSpaceId": f"dtv1.card//IM_ROBOT.{card.recipient_id}",
        "imRobotOpenSpaceModel": {
            "supportForward": False,  # a forwarded approval card is nobody else's to click
            "lastMessageI18n": {language: card.title[:200]},
            "notification": {"alertContent": card.title[:200]},
        },
        "imRobotOpenDeliverModel": {"spaceType": "IM_ROBOT", "robotCode": app_key},
        "userIdType": 1,
    }


def _union_id(card: Card) -> str:
    union_id = (card.other_ids or {}).get("unionId", "")
    if not union_id:
        raise Refused(_("DingTalk to-dos need the person's unionId, and it is not known. "
                        "Run the DingTalk directory sync or set it on their chat identity."))  # fmt: skip
    return union_id


def _todo_path(union_id: str, task_id: str = "") -> str:
    path = f"/v1.0/todo/users/{quote(union_id, safe='')}/tasks"
    if task_id:
        path += f"/{quote(task_id, safe='')}"
    return f"{path}?operatorId={quote(union_id, safe='')}"


class DingTalkPlatform:
    kind = "dingtalk"

    def send(self, app: Any, card: Card) -> Sent:
        try:
            data = _api(app, "POST", "/v1.0/card/instances/createAndDeliver",
                        _deliver_body(app, card))  # fmt: skip
        except _Refused as exc:
            if exc.code == "param.cardAlreadyExist":  # sent before: one key, one card
                return Sent(message_id=card.key)
            raise
        result = data.get("result") if isinstance(data, dict) else None
        deliveries = result.get("deliverResults") if isinstance(result, dict) else None
        for delivery in deliveries or []:
            if isinstance(delivery, dict) and delivery.get("success") is False:
                reason = str(delivery.get("errorMsg") or "")
                raise Refused(_("DingTalk made the card but could not deliver it: %(msg)s.")
                              % {"msg": reason})  # fmt: skip
        return Sent(message_id=card.key)

    def update(self, app: Any, sent: Sent, card: Card) -> None:
        body = {
            "outTrackId": sent.message_id or card.key,
            "cardData": {"cardParamMap": card_params(card)},
            "cardUpdateOptions": {"updateCardDataByKey": True},
            "userIdType": 1,
        }
        _api(app, "PUT", "/v1.0/card/instances", body)

    def open_todo(self, app: Any, card: Card) -> str:
        union_id = _union_id(card)
        body: dict[str, Any] = {
            "sourceId": card.key,
            "subject": _fit(card.todo_title or card.title, 1024),
            "creatorId": union_id,
            "executorIds": [union_id],
            "detailUrl": {"appUrl": card.url, "pcUrl": card.url},
            "isOnlyShowExecutor": True,
        }
        if card.subtitle:
            body["description"] = _fit(card.subtitle, 4096)
        if card.due is not None:
            body["dueTime"] = int(card.due.timestamp() * 1000)
        data = _api(app, "POST", _todo_path(union_id), body)
        task_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise Refused(_("DingTalk made no to-do id."))
        return task_id

    def close_todo(self, app: Any, todo_id: str, card: Card) -> None:
        _api(app, "PUT", _todo_path(_union_id(card), todo_id), {"done": True})

    def parse_callback(
        self, app: Any, request: HttpRequest, body: bytes
    ) -> Challenge | Ignored | Click:
        timestamp, signature = _verify(app, request)
        try:
            data = json.loads(body)
        except ValueError:
            raise CallbackRefused(400, _("The callback is not JSON.")) from None
        if not isinstance(data, dict):
            raise CallbackRefused(400, _("The callback is not a JSON object."))
        if data.get("type") != "actionCallback":
            return Ignored(JsonResponse({}))
        out_track_id, user_id = data.get("outTrackId"), data.get("userId")
        if not (isinstance(out_track_id, str) and out_track_id):
            raise CallbackRefused(400, _("The callback names no card."))
        if not (isinstance(user_id, str) and user_id):
            raise CallbackRefused(400, _("The callback names no person."))
        action, value, comment = _click_params(data.get("content"))
        event = hashlib.sha256(timestamp.encode() + signature.encode() + body).hexdigest()
        return Click(
            event_id=event,
            user_ids=(user_id,),
            message_id=out_track_id,
            action=action,
            value=value,
            comment=comment,
            raw={"outTrackId": out_track_id, "userId": user_id,
                 "corpId": str(data.get("corpId") or "")},
        )  # fmt: skip

    def click_response(
        self, app: Any, click: Click, card: Card | None, toast: str, ok: bool
    ) -> HttpResponse:
        return JsonResponse(card_response(card, toast, ok))


def card_response(card: Card | None, toast: str, ok: bool) -> dict[str, Any]:
    """A click's answer (the HTTP body; in Stream mode the ack's response): the card as it now
    is, with the toast; ``{}`` (nothing changed on the card) without one."""
    if card is None:
        return {}
    params = card_params(card, toast=toast)
    params["toast_ok"] = "true" if ok else "false"
    return {"cardData": {"cardParamMap": params}, "cardUpdateOptions": {"updateCardDataByKey": True}}  # fmt: skip


def calc_signature(api_secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(key=apiSecret, msg=timestamp)), DingTalk's calcSignature."""
    digest = hmac.new(api_secret.encode(), timestamp.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _verify(app: Any, request: HttpRequest) -> tuple[str, str]:
    """The click's (timestamp, signature), checked before anything in the body is read."""
    timestamp = request.headers.get("x-ddpaas-signature-timestamp", "")
    signature = request.headers.get("x-ddpaas-signature", "")
    if not timestamp or not signature:
        raise CallbackRefused(401, _("The callback is not signed."))
    secret = app.secrets.get("callback_secret", "")
    if not secret:
        raise CallbackRefused(403, _("The DingTalk app has no callback secret."))
    if not timestamp.isdigit() or len(timestamp) > 16:
        raise CallbackRefused(401, _("The callback's timestamp is not a number."))
    ms = int(timestamp) * (1000 if len(timestamp) <= 11 else 1)  # seconds accepted too
    if abs(time.time() * 1000 - ms) > WINDOW_MS:
        raise CallbackRefused(401, _("The callback is too old or from the future."))
    if not hmac.compare_digest(calc_signature(secret, timestamp).encode(), signature.encode()):
        raise CallbackRefused(401, _("The callback's signature is wrong."))
    return timestamp, signature


def _click_params(content: Any) -> tuple[str, dict[str, Any], str]:
    """(action, value, comment) from the click's ``content`` (a JSON string)."""
    try:
        parsed = json.loads(content) if isinstance(content, str) else content
    except ValueError:
        raise CallbackRefused(400, _("The callback's content is not JSON.")) from None
    private = parsed.get("cardPrivateData") if isinstance(parsed, dict) else None
    params = private.get("params") if isinstance(private, dict) else None
    if not isinstance(params, dict):
        raise CallbackRefused(400, _("The callback carries no button parameters."))
    action = params.get("a")
    if action not in DECISIONS:
        raise CallbackRefused(400, _("The callback's button is not a decision."))
    carried = params.get("value")
    if isinstance(carried, str):
        try:
            carried = json.loads(carried)
        except ValueError:
            raise CallbackRefused(400, _("The button's value is not JSON.")) from None
    if carried is None:  # a template with the value's keys as separate params
        carried = {k: v for k, v in params.items() if k not in ("a", "comment", "value")}
    if not isinstance(carried, dict):
        raise CallbackRefused(400, _("The button's value is not an object."))
    comment = params.get("comment")
    return (
        str(action),
        {**carried, "a": action},
        comment.strip() if isinstance(comment, str) else "",
    )


def register_callback(app: Any, url: str) -> None:
    """Register ``url`` as where DingTalk sends this app's card clicks (its callbackRouteKey),
    signed with the callback secret; replaces what the route pointed to."""
    body = {
        "callbackRouteKey": _config(app, "callback_route_key"),
        "callbackUrl": url,
        "apiSecret": _secret(app, "callback_secret"),
        "forceUpdate": True,
    }
    data = _api(app, "POST", "/v1.0/card/callbacks/register", body)
    if isinstance(data, dict) and data.get("success") is False:
        raise Refused(_("DingTalk did not register the callback address."))


PLATFORM = DingTalkPlatform()
