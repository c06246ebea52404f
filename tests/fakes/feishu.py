"""A fake Feishu / Lark open platform on 127.0.0.1, and Feishu's event callbacks built the
documented way, for the tests of ``integrations.directory.feishu``.

``FakeFeishu`` is a small threaded HTTP server (a free port) holding a directory the test edits
(``departments``, ``users``) and answering, in the documented request and response shapes:

- ``POST /open-apis/auth/v3/tenant_access_token/internal`` (app_id + app_secret -> a token,
  ``expire`` 7200; a wrong pair: code 10014);
- ``GET /open-apis/contact/v3/departments/:department_id/children`` (``fetch_child``,
  ``department_id_type``, ``user_id_type``, ``page_size`` <= 50, ``page_token``);
- ``GET /open-apis/contact/v3/users/find_by_department`` (``department_id``, the same id types,
  paging);
- ``GET /open-apis/admin/v1/admin_user_stats`` (``start_date`` / ``end_date`` YYYY-MM-DD, both
  included, at most 31 days apart, else code 1051001; ``user_id_type``; ``page_size`` <= 60,
  ``page_token``): the rows of ``stats`` (``add_stat``) in the range, by date then user;
- ``PATCH /open-apis/contact/v3/users/:user_id`` (``user_id_type``; ``{"is_frozen": bool}``
  sets the user's ``status.is_frozen``; recorded in ``patches``; an unknown user: code 41050);
- ``fault(method, path, query)``: when set, an answer ``(status, body)`` it gives replaces the
  real one (after the token check), e.g. an HTTP 500 on a second page;
- a missing token: code 99991661; an unknown or expired one (``token_calls``: a token stops
  working after that many calls): code 99991663; ``rate_limited`` = N: the next N calls answer
  HTTP 429 (or, ``legacy_rate_limit``, HTTP 400) with code 99991400 and the
  ``x-ogw-ratelimit-limit`` / ``x-ogw-ratelimit-reset`` headers.

Every request is recorded (``calls``). Users are stored as Feishu returns them with
``user_id_type=user_id`` and ``department_id_type=open_department_id``.

``encrypt`` / ``callback`` build an event callback as Feishu sends it: the event JSON encrypted
(AES-256-CBC, key = SHA-256(Encrypt Key), a random IV put before the ciphertext, PKCS#7, base64)
into ``{"encrypt": ...}``, signed X-Lark-Signature = hex SHA-256(timestamp + nonce + Encrypt Key
+ body). The SDK (lark_oapi) only decrypts, so encryption is ours; the tests check that the SDK's
``AESCipher`` and its event dispatcher accept what these build.

Documentation followed:
- https://open.feishu.cn/document/ukTMukTMukTM/ukDNz4SO0MjL5QzM/auth-v3/auth/tenant_access_token_internal
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/contact-v3/department/children
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/contact-v3/user/find_by_department
- https://open.feishu.cn/document/server-docs/admin-v1/data-report-management/list-2
- https://open.feishu.cn/document/server-docs/contact-v3/user/patch
- https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control
- https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code
- https://open.feishu.cn/document/ukTMukTMukTM/uYDNxYjL2QTM24iN0EjN/event-subscription-configure-/encrypt-key-encryption-configuration-case
- https://open.feishu.cn/document/ukTMukTMukTM/uYDNxYjL2QTM24iN0EjN/event-subscription-configure-/choose-a-subscription-mode/send-notifications-to-developers-server
- https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/contact-v3/user/events/created
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PREFIX = "/open-apis"
ROOT = "0"


class FakeFeishu:
    def __init__(self, app_id: str = "cli_fake", app_secret: str = "fake-app-secret") -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        # open_department_id -> {"name", "parent_department_id", "department_id"}
        self.departments: dict[str, dict[str, Any]] = {}
        # user_id -> the user as find_by_department returns it
        self.users: dict[str, dict[str, Any]] = {}
        self.token_calls: int | None = None  # API calls a token serves before it expires
        self.rate_limited = 0  # the next N API calls are refused as too many
        self.rate_limit_reset = "2"
        self.legacy_rate_limit = False  # HTTP 400 instead of 429, as some older APIs do
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        # admin_user_stats: one row per user and day, as Feishu returns it with user_id_type=user_id
        self.stats: list[dict[str, Any]] = []
        self.patches: list[tuple[str, dict[str, Any]]] = []  # (user_id, body) of each PATCH
        self.fault: Callable[[str, str, dict[str, str]], tuple[int, Any] | None] | None = None
        self.tokens: dict[str, int] = {}  # token -> calls it may still serve
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- the directory ---------------------------------------------------------------------

    def add_department(
        self, open_id: str, name: str, parent: str = ROOT, custom_id: str = ""
    ) -> None:
        self.departments[open_id] = {
            "name": name,
            "parent_department_id": parent,
            "department_id": custom_id or open_id.replace("od-", "d"),
            "open_department_id": open_id,
            "status": {"is_deleted": False},
        }

    def add_user(self, user_id: str, name: str, department: str = ROOT, **fields: Any) -> dict:
        user: dict[str, Any] = {
            "user_id": user_id,
            "open_id": f"ou_{user_id}",
            "union_id": f"on_{user_id}",
            "name": name,
            "email": f"{user_id}@example.com",
            "enterprise_email": "",
            "mobile": "+8613800000000",
            "employee_no": f"E-{user_id}",
            "department_ids": [department],
            "leader_user_id": "",
            "status": {
                "is_frozen": False,
                "is_resigned": False,
                "is_activated": True,
                "is_exited": False,
                "is_unjoin": False,
            },
        }
        status = fields.pop("status", {})
        user.update(fields)
        user["status"].update(status)
        self.users[user_id] = user
        return user

    def add_stat(self, user_id: str, day: dt.date, **fields: Any) -> dict:
        """A day's row of admin_user_stats (every flag 0 unless given)."""
        row: dict[str, Any] = {
            "date": day.isoformat(),
            "user_id": user_id,
            "user_name": self.users.get(user_id, {}).get("name", user_id),
            "department_name": "",
            "department_path": "",
            "create_time": "2024-01-02 09:00:00",
            "user_active_flag": 1,
            "register_time": "2024-01-02 09:05:00",
            "suite_active_flag": 0,
            "last_active_time": "",
            "im_active_flag": 0,
            "send_messenger_num": 0,
            "docs_active_flag": 0,
            "create_docs_num": 0,
            "cal_active_flag": 0,
            "create_cal_num": 0,
            "vc_active_flag": 0,
            "vc_duration": 0,
            "active_os": "",
            "create_task_num": 0,
            "vc_num": 0,
        }
        row.update(fields)
        self.stats.append(row)
        return row

    # --- the server ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeFeishu:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's name
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_PATCH(self) -> None:
                fake._handle(self, "PATCH")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeFeishu:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            self.calls.append((method, parts.path, query))
            status, answer, headers = self._route(method, parts.path, query, body, handler)
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
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
        body: bytes,
        handler: BaseHTTPRequestHandler,
    ) -> tuple[int, dict, dict[str, str]]:
        if method == "POST" and path == f"{PREFIX}/auth/v3/tenant_access_token/internal":
            return self._token(body)
        stats = path == f"{PREFIX}/admin/v1/admin_user_stats"
        if not (stats or path.startswith(f"{PREFIX}/contact/v3/")):
            return 404, {"code": 404, "msg": "not found"}, {}
        if self.rate_limited > 0:
            self.rate_limited -= 1
            limit = {
                "x-ogw-ratelimit-limit": "50",
                "x-ogw-ratelimit-reset": self.rate_limit_reset,
            }
            status = 400 if self.legacy_rate_limit else 429
            return status, {"code": 99991400, "msg": "request trigger frequency limit"}, limit
        refused = self._check_token(handler.headers.get("Authorization", ""))
        if refused:
            return 400, refused, {}
        faulty = self.fault(method, path, query) if self.fault else None
        if faulty is not None:
            return faulty[0], faulty[1], {}
        if method == "PATCH" and path.startswith(f"{PREFIX}/contact/v3/users/"):
            return self._patch_user(path.removeprefix(f"{PREFIX}/contact/v3/users/"), query, body)
        if method != "GET":
            return 404, {"code": 404, "msg": "not found"}, {}
        if stats:
            return self._stats(query)
        if query.get("department_id_type") != "open_department_id":
            return 400, {"code": 99992402, "msg": "field validation failed"}, {}
        try:
            size = int(query.get("page_size", "10"))
        except ValueError:
            size = 0
        if not 1 <= size <= 50:
            return 400, {"code": 99992402, "msg": "field validation failed: page_size"}, {}
        suffix = path.removeprefix(f"{PREFIX}/contact/v3/")
        if suffix == "users/find_by_department":
            items = self._users_in(query.get("department_id", ""), query.get("user_id_type"))
        elif suffix.startswith("departments/") and suffix.endswith("/children"):
            parent = suffix.removeprefix("departments/").removesuffix("/children")
            items = self._children(parent, query.get("fetch_child") in ("true", "True"))
        else:
            return 404, {"code": 404, "msg": "not found"}, {}
        return 200, self._page(items, size, query.get("page_token", "")), {}

    def _token(self, body: bytes) -> tuple[int, dict, dict[str, str]]:
        try:
            asked = json.loads(body)
        except ValueError:
            asked = {}
        if asked.get("app_id") != self.app_id or asked.get("app_secret") != self.app_secret:
            return 200, {"code": 10014, "msg": "app secret invalid"}, {}
        token = f"t-{uuid.uuid4().hex}"
        self.tokens[token] = self.token_calls if self.token_calls is not None else 10**9
        answer = {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200}
        return 200, answer, {}

    def _check_token(self, authorization: str) -> dict | None:
        token = authorization.removeprefix("Bearer ").strip()
        if not authorization.startswith("Bearer ") or not token:
            return {"code": 99991661, "msg": "Missing access token for authorization."}
        if self.tokens.get(token, 0) <= 0:
            return {"code": 99991663, "msg": "Invalid access token for authorization."}
        self.tokens[token] -= 1
        return None

    def _stats(self, query: dict[str, str]) -> tuple[int, dict, dict[str, str]]:
        invalid: tuple[int, dict, dict[str, str]] = (
            500,
            {"code": 1051001, "msg": "request contain invalid param"},
            {},
        )
        try:
            start = dt.date.fromisoformat(query["start_date"])
            end = dt.date.fromisoformat(query["end_date"])
            size = int(query.get("page_size", "10"))
        except (KeyError, ValueError):
            return invalid
        if end < start or (end - start).days > 30 or not 1 <= size <= 60:
            return invalid
        rows = []
        for row in sorted(self.stats, key=lambda r: (str(r.get("date")), str(r.get("user_id")))):
            if not start.isoformat() <= str(row.get("date")) <= end.isoformat():
                continue
            row = dict(row)
            if query.get("user_id_type", "open_id") != "user_id":
                row["user_id"] = f"ou_{row['user_id']}"
            rows.append(row)
        return 200, self._page(rows, size, query.get("page_token", "")), {}

    def _patch_user(
        self, user_id: str, query: dict[str, str], body: bytes
    ) -> tuple[int, dict, dict[str, str]]:
        user_id = unquote(user_id)
        if query.get("user_id_type", "open_id") != "user_id":  # the documented default
            user_id = next((k for k, u in self.users.items() if u["open_id"] == user_id), "")
        try:
            change = json.loads(body)
        except ValueError:
            change = None
        if not isinstance(change, dict) or not isinstance(change.get("is_frozen", False), bool):
            return 400, {"code": 99992402, "msg": "field validation failed"}, {}
        if user_id not in self.users:
            return 400, {"code": 41050, "msg": "no user authority error"}, {}
        self.patches.append((user_id, change))
        if "is_frozen" in change:
            self.users[user_id]["status"]["is_frozen"] = change["is_frozen"]
        return 200, {"code": 0, "msg": "success", "data": {"user": self.users[user_id]}}, {}

    def _children(self, parent: str, recursive: bool) -> list[dict]:
        found, queue = [], [parent]
        while queue:
            current = queue.pop(0)
            for open_id in sorted(self.departments):
                department = self.departments[open_id]
                if department["parent_department_id"] == current:
                    found.append(dict(department))
                    if recursive:
                        queue.append(open_id)
        return found

    def _users_in(self, department: str, user_id_type: str | None) -> list[dict]:
        listed = []
        for user_id in sorted(self.users):
            user = json.loads(json.dumps(self.users[user_id]))
            if department not in user["department_ids"]:
                continue
            if user_id_type == "open_id" and user.get("leader_user_id"):
                user["leader_user_id"] = f"ou_{user['leader_user_id']}"
            if user_id_type != "user_id":
                user.pop("user_id", None)  # as without the permission to read user IDs
            listed.append(user)
        return listed

    @staticmethod
    def _page(items: list[dict], size: int, page_token: str) -> dict:
        start = int(base64.urlsafe_b64decode(page_token).decode()) if page_token else 0
        chunk = items[start : start + size]
        has_more = start + size < len(items)
        data: dict[str, Any] = {"has_more": has_more, "items": chunk}
        if has_more:
            data["page_token"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return {"code": 0, "msg": "success", "data": data}

    def api_calls(self, suffix: str) -> list[dict[str, str]]:
        return [q for _m, path, q in self.calls if path.endswith(suffix)]


# --- event callbacks --------------------------------------------------------------------------


def encrypt(plain: str | bytes, encrypt_key: str, *, iv: bytes | None = None) -> str:
    data = plain.encode() if isinstance(plain, str) else plain
    iv = iv or os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    key = hashlib.sha256(encrypt_key.encode()).digest()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()


def sign(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def event(
    event_type: str,
    obj: dict,
    *,
    token: str,
    app_id: str = "cli_fake",
    event_id: str | None = None,
    create_time_ms: int | None = None,
    old_object: dict | None = None,
) -> dict:
    """A schema 2.0 event as Feishu pushes it (before encryption)."""
    body: dict[str, Any] = {"object": obj}
    if old_object is not None:
        body["old_object"] = old_object
    return {
        "schema": "2.0",
        "header": {
            "event_id": event_id or uuid.uuid4().hex,
            "event_type": event_type,
            "create_time": str(create_time_ms or int(time.time() * 1000)),
            "token": token,
            "app_id": app_id,
            "tenant_key": "fake-tenant",
        },
        "event": body,
    }


def url_verification(challenge: str, *, token: str) -> dict:
    return {"challenge": challenge, "token": token, "type": "url_verification"}


def callback(
    payload: dict,
    encrypt_key: str,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    signed: bool = True,
    body_key: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The request body and headers of one callback. ``body_key``: encrypt with another key
    (an undecryptable callback that is still signed with ours)."""
    body = json.dumps({"encrypt": encrypt(json.dumps(payload), body_key or encrypt_key)}).encode()
    if not signed:
        return body, {}
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = nonce or uuid.uuid4().hex
    return body, {
        "X-Lark-Request-Timestamp": stamp,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": sign(stamp, nonce, encrypt_key, body),
    }
