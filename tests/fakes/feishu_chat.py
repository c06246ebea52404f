"""A fake Feishu / Lark open platform on 127.0.0.1 for the approval cards of #21
(``integrations.chat.platforms.feishu``), and card clicks built the documented way.

``FakeFeishuChat`` is a small threaded HTTP server (a free port) answering, in the documented
request and response shapes:

- ``POST /open-apis/auth/v3/tenant_access_token/internal``: app_id + app_secret -> a token
  (``expire`` 7200); a wrong pair: code 10014 (the exact code is unconfirmed);
- ``POST /open-apis/im/v1/messages?receive_id_type=...``: ``receive_id``, ``msg_type``
  ``interactive``, ``content`` a JSON *string*, ``uuid`` (the same uuid again gives the first
  message back: no second message); -> ``data.message_id``; a user outside ``users`` (when set):
  code 230013 (unconfirmed); a bad parameter: code 230001;
- ``PATCH /open-apis/im/v1/messages/:message_id``: ``{"content": card string}``; the message must
  exist and both the old and the new card have ``config.update_multi`` true (else 230001);
- ``POST /open-apis/task/v2/tasks?user_id_type=...``: ``summary``, ``client_token`` (the same
  token gives the first task back), ``members`` -> ``data.task.guid``;
- ``PATCH /open-apis/task/v2/tasks/:guid``: ``{"task": {...}, "update_fields": [...]}``.

Knobs: ``expire_tokens()`` (every token issued so far answers 99991663, as an expired one);
``rate_limited = N`` (the next N API calls: HTTP 429, code 99991400, ``x-ogw-ratelimit-reset``
``rate_limit_reset``); ``down`` (every call: HTTP 503, not JSON). Every request is recorded in
``calls`` (method, path, query, JSON body).

``card_action`` / ``url_check`` build a callback's payload; ``callback`` (from tests/fakes/feishu.py)
encrypts and signs it: body ``{"encrypt": base64(IV + AES-256-CBC(PKCS#7(json)))}``, key =
SHA-256(Encrypt Key), X-Lark-Signature = hex SHA-256(timestamp + nonce + Encrypt Key + body).

Documentation followed:
- https://open.feishu.cn/document/ukTMukTMukTM/ukDNz4SO0MjL5QzM/auth-v3/auth/tenant_access_token_internal
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create
- https://open.larkoffice.com/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/patch
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/task-v2/task/create and .../task/patch
- https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control
- https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code
- https://open.larkoffice.com/document/uAjLw4CM/ukTMukTMukTM/event-subscription-guide/callback-subscription/receive-and-handle-callbacks
- https://open.larkoffice.com/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/handle-card-callbacks
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.feishu import callback, encrypt, sign

__all__ = ["FakeFeishuChat", "callback", "card_action", "encrypt", "sign", "url_check"]

PREFIX = "/open-apis"
ID_TYPES = {"open_id", "user_id", "union_id", "email", "chat_id"}
Answer = tuple[int, dict[str, Any], dict[str, str]]


class FakeFeishuChat:
    def __init__(self, app_id: str = "cli_fake", app_secret: str = "fake-app-secret") -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.users: set[str] | None = None  # user_ids the bot may write to (None: anyone)
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.rate_limited = 0
        self.rate_limit_reset = "7"
        self.down = False
        self.messages: dict[str, dict[str, Any]] = {}  # message_id -> {receive_id, card, uuid}
        self.tasks: dict[str, dict[str, Any]] = {}  # guid -> the task as created, then patched
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- the server ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeFeishuChat:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_PATCH(self) -> None:
                fake._handle(self, "PATCH")

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeFeishuChat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    def bodies(self, method: str, path_start: str) -> list[Any]:
        """The JSON bodies of the calls to ``method`` a path starting with ``path_start``."""
        return [b for m, p, _q, b in self.calls if m == method and p.startswith(path_start)]

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            self.calls.append((method, parts.path, query, body))
            if self.down:
                status, data, headers = 503, b"Service Unavailable", {"Content-Type": "text/plain"}
            else:
                code, answer, headers = self._route(method, parts.path, query, body, handler)
                data = json.dumps(answer).encode()
                headers = {"Content-Type": "application/json; charset=utf-8", **headers}
                status = code
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        handler: BaseHTTPRequestHandler,
    ) -> Answer:
        if method == "POST" and path == f"{PREFIX}/auth/v3/tenant_access_token/internal":
            return self._token(body)
        if self.rate_limited > 0:
            self.rate_limited -= 1
            limit = {"x-ogw-ratelimit-limit": "50", "x-ogw-ratelimit-reset": self.rate_limit_reset}
            return 429, {"code": 99991400, "msg": "request trigger frequency limit"}, limit
        authorization = handler.headers.get("Authorization", "")
        if not authorization.startswith("Bearer "):
            return 400, {"code": 99991661, "msg": "Missing access token for authorization."}, {}
        if authorization.removeprefix("Bearer ") not in self.tokens:
            return 400, {"code": 99991663, "msg": "Invalid access token for authorization."}, {}
        if not isinstance(body, dict):
            return 400, {"code": 99992402, "msg": "field validation failed"}, {}
        if method == "POST" and path == f"{PREFIX}/im/v1/messages":
            return self._send(query, body)
        if method == "PATCH" and path.startswith(f"{PREFIX}/im/v1/messages/"):
            return self._update(unquote(path.rsplit("/", 1)[1]), body)
        if method == "POST" and path == f"{PREFIX}/task/v2/tasks":
            return self._create_task(query, body)
        if method == "PATCH" and path.startswith(f"{PREFIX}/task/v2/tasks/"):
            return self._patch_task(unquote(path.rsplit("/", 1)[1]), body)
        return 404, {"code": 404, "msg": "not found"}, {}

    def _token(self, body: Any) -> Answer:
        self.token_requests += 1
        asked = body if isinstance(body, dict) else {}
        if asked.get("app_id") != self.app_id or asked.get("app_secret") != self.app_secret:
            return 200, {"code": 10014, "msg": "app secret invalid"}, {}
        token = f"t-{uuid.uuid4().hex}"
        self.tokens.add(token)
        return 200, {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200}, {}

    @staticmethod
    def _card(content: object) -> dict[str, Any] | None:
        try:
            card = json.loads(content) if isinstance(content, str) else None
        except ValueError:
            return None
        return card if isinstance(card, dict) else None

    def _send(self, query: dict[str, str], body: dict[str, Any]) -> Answer:
        card = self._card(body.get("content"))
        receive_id = body.get("receive_id")
        if query.get("receive_id_type") not in ID_TYPES or not receive_id or card is None:
            return 400, {"code": 230001, "msg": "invalid param"}, {}
        if body.get("msg_type") != "interactive":
            return 400, {"code": 230001, "msg": "invalid param: msg_type"}, {}
        if self.users is not None and receive_id not in self.users:
            return 400, {"code": 230013, "msg": "Bot has NO availability to this user."}, {}
        for message_id, message in self.messages.items():
            if body.get("uuid") and message["uuid"] == body.get("uuid"):
                return 200, self._ok({"message_id": message_id}), {}
        message_id = f"om_{uuid.uuid4().hex}"
        self.messages[message_id] = {
            "receive_id": receive_id,
            "card": card,
            "uuid": body.get("uuid"),
        }
        data = {"message_id": message_id, "msg_type": "interactive", "chat_id": "oc_fake"}
        return 200, self._ok(data), {}

    def _update(self, message_id: str, body: dict[str, Any]) -> Answer:
        card = self._card(body.get("content"))
        message = self.messages.get(message_id)
        if message is None:
            return 400, {"code": 230001, "msg": "invalid param: message_id"}, {}
        multi = [(c or {}).get("config", {}).get("update_multi") for c in (message["card"], card)]
        if card is None or multi != [True, True]:
            return 400, {"code": 230001, "msg": "invalid param: update_multi"}, {}
        message["card"] = card
        return 200, self._ok({}), {}

    def _create_task(self, query: dict[str, str], body: dict[str, Any]) -> Answer:
        if query.get("user_id_type", "open_id") not in {"open_id", "user_id", "union_id"}:
            return 400, {"code": 1470400, "msg": "invalid user_id_type"}, {}
        if not body.get("summary"):
            return 400, {"code": 1470416, "msg": "Both summary and rich_summary are empty."}, {}
        for guid, task in self.tasks.items():
            if body.get("client_token") and task.get("client_token") == body["client_token"]:
                return 200, self._ok({"task": {"guid": guid, **task}}), {}
        guid = str(uuid.uuid4())
        self.tasks[guid] = dict(body, completed_at="0")
        return 200, self._ok({"task": {"guid": guid, **self.tasks[guid]}}), {}

    def _patch_task(self, guid: str, body: dict[str, Any]) -> Answer:
        task, fields = body.get("task"), body.get("update_fields")
        if guid not in self.tasks:
            return 404, {"code": 1470404, "msg": "task not found"}, {}
        if not isinstance(task, dict) or not isinstance(fields, list) or not fields:
            return 400, {"code": 1470400, "msg": "invalid update_fields"}, {}
        for name in fields:
            self.tasks[guid][name] = task.get(name)
        return 200, self._ok({"task": {"guid": guid, **self.tasks[guid]}}), {}

    @staticmethod
    def _ok(data: dict[str, Any]) -> dict[str, Any]:
        return {"code": 0, "msg": "success", "data": data}


# --- callbacks --------------------------------------------------------------------------------


def card_action(
    value: dict[str, Any],
    *,
    token: str,
    message_id: str = "om_fake",
    user_id: str = "u1",
    open_id: str = "ou_u1",
    union_id: str = "on_u1",
    form_value: dict[str, Any] | None = None,
    app_id: str = "cli_fake",
    event_id: str | None = None,
) -> dict[str, Any]:
    """A ``card.action.trigger`` callback (schema 2.0) as Feishu sends it, before encryption."""
    action: dict[str, Any] = {"tag": "button", "value": value}
    if form_value is not None:
        action.update(name=f"btn_{value.get('a')}", form_value=form_value)
    return {
        "schema": "2.0",
        "header": {
            "event_id": event_id or uuid.uuid4().hex,
            "token": token,
            "create_time": str(int(time.time() * 1000)),
            "event_type": "card.action.trigger",
            "tenant_key": "fake-tenant",
            "app_id": app_id,
        },
        "event": {
            "operator": {
                "tenant_key": "fake-tenant",
                "user_id": user_id,
                "open_id": open_id,
                "union_id": union_id,
            },
            "token": f"c-{uuid.uuid4().hex}",
            "action": action,
            "host": "im_message",
            "context": {"open_message_id": message_id, "open_chat_id": "oc_fake"},
        },
    }


def url_check(challenge: str, *, token: str) -> dict[str, Any]:
    return {"challenge": challenge, "token": token, "type": "url_verification"}
