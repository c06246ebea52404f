"""Feishu / Lark (飞书) approval cards: a card JSON 2.0 message to one person, updated in place,
a Feishu task as the person's to-do, and the card's click callback (``card.action.trigger``).

Settings: ``app_id`` (an internal, 自建, app); secrets ``app_secret``, ``verification_token``,
``encrypt_key`` (callbacks must be encrypted and signed). ``ChatApp.base_url``:
https://open.feishu.cn (Lark: https://open.larksuite.com).

HTTP through ``httpx`` (10 s), not the SDK: four plain JSON calls, and the SDK's token cache is
process-wide by app id and cannot be told that Feishu refused a token. The tenant token is kept
per app (pk, ``updated_at``) until 10 minutes before it expires (as the SDK's TokenManager);
a token Feishu calls invalid is fetched anew once.

Callbacks are verified as documented (and as the SDK's EventDispatcherHandler does: the tests'
oracle): X-Lark-Signature = hex SHA-256(timestamp + nonce + encrypt key + raw body), compared in
constant time; the timestamp within 5 minutes (ours: Feishu documents no window); the body
``{"encrypt": ...}`` decrypted by ``integrations.directory.feishu`` (AES-256-CBC, key =
SHA-256(encrypt key), IV = the first 16 bytes); ``header.token`` = the verification token. The
URL check (``url_verification``) is not signed: its token vouches for it.

Documentation followed:
- https://open.feishu.cn/document/ukTMukTMukTM/ukDNz4SO0MjL5QzM/auth-v3/auth/tenant_access_token_internal
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create
- https://open.larkoffice.com/document/server-docs/im-v1/message-content-description/create_json
- https://open.larkoffice.com/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/patch
- https://open.larkoffice.com/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-structure
- https://open.larksuite.com/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/interactive-components/button
- https://open.larkoffice.com/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/containers/form-container
- https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/interactive-components/input
- https://open.larkoffice.com/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/handle-card-callbacks
- https://open.larkoffice.com/document/uAjLw4CM/ukTMukTMukTM/event-subscription-guide/callback-subscription/receive-and-handle-callbacks
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/task-v2/task/create and .../task/patch
- https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control (429 / 99991400,
  x-ogw-ratelimit-reset) and .../api-call-guide/generic-error-code (99991661/3/8, 1500)
"""

from __future__ import annotations

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
    Button,
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
from integrations.directory import feishu as feishu_events
from integrations.directory import msgcrypt
from integrations.setting import Setting

DEFAULT_BASE_URL = "https://open.feishu.cn"
_CONSOLE = gettext_lazy("From the developer console: 事件与回调 → 加密策略.")
_SECRET: dict[str, Any] = {"secret": True, "required": True}
SETTINGS = (
    Setting("app_id", gettext_lazy("App ID"), required=True),
    Setting("app_secret", gettext_lazy("App secret"), **_SECRET),
    Setting("verification_token", gettext_lazy("Verification token"), help=_CONSOLE, **_SECRET),
    Setting("encrypt_key", gettext_lazy("Encrypt key"), help=_CONSOLE, **_SECRET),
)

TIMEOUT_SECONDS = 10
TOKEN_MARGIN_SECONDS = 600  # a token is renewed this long before Feishu says it expires
TOKEN_CODES = {99991661, 99991663, 99991668}  # the tenant token is missing / invalid / expired
RATE_LIMITED = 99991400
BUSY_CODES = {1500}  # "internal error, try again later"
DEFAULT_WAIT_SECONDS = 1.0
MAX_AGE_SECONDS = 300
UUID_MAX = 50  # message uuid: at most 50 characters (unconfirmed)
CLIENT_TOKEN_LENGTH = (10, 100)  # task client_token: 10 to 100 characters (unconfirmed)
DECISIONS = ("approve", "return", "reject")
NEEDS_COMMENT = ("return", "reject")
BUTTON_TYPES = {"primary": "primary", "danger": "danger", "default": "default"}
HEADER_COLOURS = {"open": "blue", "info": "wathet", "decided": "green", "changed": "grey"}

_TOKENS: dict[tuple[Any, Any], tuple[str, float]] = {}  # (app pk, updated_at) -> token, until
_LOCK = threading.Lock()


class FeishuPlatform:
    kind = "feishu"

    def send(self, app: Any, card: Card) -> Sent:
        body = {
            "receive_id": card.recipient_id,
            "msg_type": "interactive",
            "content": _content(card),
            "uuid": _bounded(card.key, 1, UUID_MAX),
        }
        data = _Api(app).call(
            "POST",
            "/open-apis/im/v1/messages",
            params={"receive_id_type": "user_id"},
            body=body,
            refused=_("Feishu refused the card: %(msg)s (code %(code)s)."),
        )
        message_id = str(data.get("message_id") or "")
        if not message_id:
            raise Retry(_("Feishu accepted the card but gave no message ID."))
        return Sent(message_id=message_id)

    def update(self, app: Any, sent: Sent, card: Card) -> None:
        _Api(app).call(
            "PATCH",
            f"/open-apis/im/v1/messages/{quote(sent.message_id, safe='')}",
            body={"content": _content(card)},
            refused=_("Feishu refused to update the card: %(msg)s (code %(code)s)."),
        )

    def open_todo(self, app: Any, card: Card) -> str:
        task: dict[str, Any] = {
            "summary": (card.todo_title or card.title)[:256],
            "client_token": _bounded(card.key, *CLIENT_TOKEN_LENGTH),
            "members": [{"id": card.recipient_id, "type": "user", "role": "assignee"}],
        }
        if card.url:
            task["description"] = "\n".join(t for t in (card.text[:2000], card.url) if t)
        if card.due is not None:
            task["due"] = {"timestamp": _ms(card.due.timestamp()), "is_all_day": False}
        data = _Api(app).call(
            "POST",
            "/open-apis/task/v2/tasks",
            params={"user_id_type": "user_id"},
            body=task,
            refused=_("Feishu refused the task: %(msg)s (code %(code)s)."),
        )
        guid = str((data.get("task") or {}).get("guid") or "")
        if not guid:
            raise Retry(_("Feishu accepted the task but gave no task ID."))
        return guid

    def close_todo(self, app: Any, todo_id: str, card: Card) -> None:
        _Api(app).call(
            "PATCH",
            f"/open-apis/task/v2/tasks/{quote(todo_id, safe='')}",
            params={"user_id_type": "user_id"},
            body={"task": {"completed_at": _ms(time.time())}, "update_fields": ["completed_at"]},
            refused=_("Feishu refused to complete the task: %(msg)s (code %(code)s)."),
        )

    def parse_callback(
        self, app: Any, request: HttpRequest, body: bytes
    ) -> Challenge | Ignored | Click:
        secrets = app.secrets
        key = str(secrets.get("encrypt_key") or "")
        token = str(secrets.get("verification_token") or "")
        if not key or not token:
            raise CallbackRefused(403, _("Card callbacks are not set up for this app."))
        problem = _signature_problem(request, body, key)
        try:
            payload = _decrypt_payload(body, key)
        except CallbackRefused as undecryptable:
            raise (problem or undecryptable) from None
        if payload.get("type") == "url_verification":  # not signed: its token vouches for it
            _check_token(payload.get("token"), token)
            challenge = payload.get("challenge")
            if not isinstance(challenge, str):
                raise CallbackRefused(400, _("The URL check has no challenge."))
            return Challenge(JsonResponse({"challenge": challenge}))
        if problem is not None:
            raise problem
        header = payload.get("header")
        if payload.get("schema") != "2.0" or not isinstance(header, dict):
            raise CallbackRefused(400, _("The callback is not a version 2.0 callback."))
        _check_token(header.get("token"), token)
        app_id = str((app.config or {}).get("app_id") or "")
        if app_id and header.get("app_id") and header.get("app_id") != app_id:
            raise CallbackRefused(403, _("The callback is for another app."))
        if header.get("event_type") != "card.action.trigger":
            return Ignored(JsonResponse({"msg": "success"}))
        return _click(header, payload.get("event"))

    def click_response(
        self, app: Any, click: Click, card: Card | None, toast: str, ok: bool
    ) -> HttpResponse:
        answer: dict[str, Any] = {"toast": {"type": "success" if ok else "error", "content": toast}}
        if card is not None:
            answer["card"] = {"type": "raw", "data": card_json(card)}
        return JsonResponse(answer, json_dumps_params={"ensure_ascii": False})


PLATFORM = FeishuPlatform()


# --- the card ---------------------------------------------------------------------------------


def card_json(card: Card) -> dict[str, Any]:
    """The card JSON 2.0; ``update_multi`` so that it can be updated (PATCH) for everyone."""
    header: dict[str, Any] = {
        "title": _plain(card.title),
        "template": HEADER_COLOURS.get(card.state, "blue"),
    }
    if card.subtitle:
        header["subtitle"] = _plain(card.subtitle)
    elements: list[dict[str, Any]] = []
    is_open = card.state == "open"
    if not is_open and card.outcome:
        elements.append(_div(card.outcome, size="heading"))
    elements.extend(_field_row(label, value) for label, value in card.fields)
    if card.text:
        elements.append(_div(card.text))
    links = [b for b in card.buttons if b.action == "link" and (b.url or card.url)]
    if is_open:
        for button in card.buttons:
            if button.action in NEEDS_COMMENT:
                elements.append(_form(card, button))
            elif button.action in DECISIONS:
                elements.append(_decision_button(card, button))
    elif card.url and not links:
        links = [Button(action="link", label=_("Open in Renewal Desk"), url=card.url)]
    elements.extend(_link_button(button, button.url or card.url) for button in links)
    return {
        "schema": "2.0",
        "config": {"update_multi": True, "summary": {"content": card.title}},
        "header": header,
        "body": {"elements": elements},
    }


def _content(card: Card) -> str:
    return json.dumps(card_json(card), ensure_ascii=False)


def _plain(text: str) -> dict[str, str]:
    return {"tag": "plain_text", "content": text}


def _div(text: str, *, size: str = "normal") -> dict[str, Any]:
    # plain_text, not markdown: what people typed never becomes a link or a mention.
    return {"tag": "div", "text": {"tag": "plain_text", "content": text, "text_size": size}}


def _field_row(label: str, value: str) -> dict[str, Any]:
    def column(text: str, weight: int, colour: str) -> dict[str, Any]:
        content = {"tag": "plain_text", "content": text, "text_color": colour}
        return {
            "tag": "column",
            "width": "weighted",
            "weight": weight,
            "elements": [{"tag": "div", "text": content}],
        }

    return {"tag": "column_set", "columns": [column(label, 1, "grey"), column(value, 2, "default")]}


def _callback(card: Card, action: str) -> list[dict[str, Any]]:
    return [{"type": "callback", "value": {**card.value, "a": action}}]


def _decision_button(card: Card, button: Button) -> dict[str, Any]:
    return {
        "tag": "button",
        "name": f"btn_{button.action}",
        "text": _plain(button.label),
        "type": BUTTON_TYPES.get(button.style, "default"),
        "behaviors": _callback(card, button.action),
    }


def _form(card: Card, button: Button) -> dict[str, Any]:
    """Return / reject: a form with the comment (required) and its submit button; the click
    carries ``form_value.comment``. A form sits at the card's root, one per action."""
    comment = {
        "tag": "input",
        "name": "comment",
        "required": True,
        "max_length": 1000,
        "placeholder": _plain(card.comment_label or button.label),
    }
    submit = {**_decision_button(card, button), "form_action_type": "submit"}
    return {"tag": "form", "name": f"form_{button.action}", "elements": [comment, submit]}


def _link_button(button: Button, url: str) -> dict[str, Any]:
    return {
        "tag": "button",
        "text": _plain(button.label),
        "type": BUTTON_TYPES.get(button.style, "default"),
        "behaviors": [{"type": "open_url", "default_url": url}],
    }


# --- the API ----------------------------------------------------------------------------------


class _Api:
    """One app's calls: its tenant token, Feishu's error codes and rate limits."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.base = str(app.base_url or DEFAULT_BASE_URL).strip().rstrip("/")
        self.app_id = str((app.config or {}).get("app_id") or "").strip()
        self.app_secret = str(app.secrets.get("app_secret") or "")
        if not self.app_id or not self.app_secret:
            raise Refused(_("The Feishu app needs an app ID and an app secret."))
        self.key = (app.pk, app.updated_at)
        self.token = ""

    def call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any],
        refused: str,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The answer's ``data``; a token Feishu refuses is fetched anew once."""
        answer = self.request(method, path, params=params, body=body, token=self.tenant_token())
        if answer.get("code") in TOKEN_CODES:
            self.forget_token()
            answer = self.request(method, path, params=params, body=body, token=self.tenant_token())
        code = answer.get("code")
        if code != 0:
            raise Refused(refused % {"msg": self.scrub(answer.get("msg")), "code": code})
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    def tenant_token(self) -> str:
        with _LOCK:
            cached = _TOKENS.get(self.key)
        if cached and time.monotonic() < cached[1]:
            self.token = cached[0]
            return cached[0]
        answer = self.request(
            "POST",
            "/open-apis/auth/v3/tenant_access_token/internal",
            body={"app_id": self.app_id, "app_secret": self.app_secret},
        )
        token, expire = answer.get("tenant_access_token"), answer.get("expire")
        if answer.get("code") != 0 or not isinstance(token, str) or not token:
            raise Refused(
                _("Feishu refused the app ID or app secret: %(msg)s (code %(code)s).")
                % {"msg": self.scrub(answer.get("msg")), "code": answer.get("code")}
            )
        seconds = expire if isinstance(expire, int) else 0
        until = time.monotonic() + max(seconds - TOKEN_MARGIN_SECONDS, 0)
        with _LOCK:
            for stale in [k for k in _TOKENS if k[0] == self.key[0]]:
                del _TOKENS[stale]  # an app changed since: its old token goes
            _TOKENS[self.key] = (token, until)
        self.token = token
        return token

    def forget_token(self) -> None:
        with _LOCK:
            _TOKENS.pop(self.key, None)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any],
        params: dict[str, str] | None = None,
        token: str = "",
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = httpx.request(
                method,
                self.base + path,
                params=params,
                json=body,
                headers=headers,
                timeout=TIMEOUT_SECONDS,
                follow_redirects=False,
            )
        except httpx.TimeoutException:
            raise Retry(_("Feishu did not answer in time.")) from None
        except httpx.HTTPError:
            raise Retry(_("Feishu could not be reached.")) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        code = answer.get("code") if isinstance(answer, dict) else None
        if response.status_code == 429 or code == RATE_LIMITED:
            seconds = _wait_seconds(response.headers.get("x-ogw-ratelimit-reset"))
            raise RateLimited(
                _("Feishu says too many requests: waiting %(seconds)s s.") % {"seconds": seconds},
                seconds,
            )
        if response.status_code >= 500 or code in BUSY_CODES:
            raise Retry(
                _("Feishu is unavailable (HTTP %(status)s).") % {"status": response.status_code}
            )
        if not isinstance(answer, dict):
            raise Refused(
                _("Feishu gave an answer that is not JSON (HTTP %(status)s).")
                % {"status": response.status_code}
            )
        return answer

    def scrub(self, message: object) -> str:
        text = str(message or "")[:200]
        for secret in (self.app_secret, self.token):
            if secret:
                text = text.replace(secret, "***")
        return text


def _wait_seconds(value: str | None) -> float:
    try:
        seconds = float(value or "")
    except ValueError:
        return DEFAULT_WAIT_SECONDS
    return min(max(seconds, DEFAULT_WAIT_SECONDS), 3600.0)


def _ms(epoch_seconds: float) -> str:
    return str(int(epoch_seconds * 1000))


def _bounded(key: str, shortest: int, longest: int) -> str:
    """``key`` as an idempotency id of the length Feishu takes (else its SHA-256, cut): the
    same key always gives the same id."""
    if shortest <= len(key) <= longest:
        return key
    return hashlib.sha256(key.encode()).hexdigest()[: max(longest, shortest)]


# --- the callback -----------------------------------------------------------------------------


def _click(header: dict[str, Any], event: object) -> Click:
    event = event if isinstance(event, dict) else {}
    operator, action, context = (_dict(event, k) for k in ("operator", "action", "context"))
    value = action.get("value")
    decision = value.get("a") if isinstance(value, dict) else None
    if not isinstance(value, dict) or decision not in DECISIONS:
        raise CallbackRefused(400, _("The card action is unknown."))
    event_id = str(header.get("event_id") or "")
    message_id = str(context.get("open_message_id") or "")
    user_ids = tuple(
        str(operator[k]) for k in ("user_id", "open_id", "union_id") if operator.get(k)
    )
    if not event_id or not message_id or not user_ids:
        raise CallbackRefused(400, _("The card click lacks its event, message or person."))
    comment = _dict(action, "form_value").get("comment")
    return Click(
        event_id=event_id,
        user_ids=user_ids,
        message_id=message_id,
        action=str(decision),
        value=dict(value),
        comment=comment.strip() if isinstance(comment, str) else "",
        raw={"token": str(event.get("token") or ""), "name": str(action.get("name") or "")},
    )


def _dict(container: dict[str, Any], key: str) -> dict[str, Any]:
    value = container.get(key)
    return value if isinstance(value, dict) else {}


def _signature_problem(request: HttpRequest, body: bytes, key: str) -> CallbackRefused | None:
    """Why the signature does not vouch for the callback (None: it does)."""
    timestamp = request.headers.get("X-Lark-Request-Timestamp", "")
    nonce = request.headers.get("X-Lark-Request-Nonce", "")
    given = request.headers.get("X-Lark-Signature", "")
    if not (timestamp and nonce and given):
        return CallbackRefused(401, _("The callback is not signed."))
    expected = hashlib.sha256((timestamp + nonce + key).encode() + body).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        return CallbackRefused(401, _("The callback's signature is wrong."))
    if not msgcrypt.is_fresh(timestamp, max_age=MAX_AGE_SECONDS):
        return CallbackRefused(401, _("The callback is too old (or the clocks differ)."))
    return None


def _check_token(given: object, token: str) -> None:
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), token.encode()):
        raise CallbackRefused(403, _("The callback's verification token is wrong."))


def _decrypt_payload(body: bytes, key: str) -> dict[str, Any]:
    try:
        return feishu_events._decrypt_payload(body, key)
    except feishu_events.EventRefused:
        raise CallbackRefused(400, _("The callback could not be decrypted.")) from None
