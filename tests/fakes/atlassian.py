"""Atlassian's admin APIs as an organisation's connector sees them, with faults on demand: a
threaded HTTP server on 127.0.0.1 (a free port) holding managed accounts.

Routes and shapes, as documented:
- GET /admin/v1/orgs/{orgId}/users?cursor= "Get managed accounts in an organization": data
  [{account_id, account_type, account_status, name, picture, email, access_billable,
  last_active, product_access [{key, name, url, last_active}], links}], meta.total, links
  {self, prev, next} (next: the next page's URL, with its cursor).
  https://developer.atlassian.com/cloud/admin/organization/rest/api-group-users/
- GET /admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates: data
  {product_access [{id, key, last_active, last_active_timestamp}], added_to_org}, links.next
  (a cursor). https://developer.atlassian.com/cloud/admin/organization/rest/api-group-directory/
  https://developer.atlassian.com/cloud/admin/organization/user-last-active-dates/
- POST /users/{account_id}/manage/lifecycle/disable | enable (204, nothing to return),
  delete | cancel-delete (200 {"message": "Success"}).
  https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-lifecycle/
- Authorization: Bearer <API key>; a wrong one answers 401, an unknown org 404, and a rate
  limit 429 with Retry-After. https://developer.atlassian.com/cloud/admin/organization/rest/intro/
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

API_KEY, ORG_ID = "atlassian-test-key", "0a1b2c3d-org"
Answer = tuple[int, dict[str, str], Any]


def product(key: str, name: str, last_active: str | None = None) -> dict[str, Any]:
    made = {"key": key, "name": name, "url": f"https://demo.atlassian.net/{key}"}
    return made if last_active is None else {**made, "last_active": last_active}


def atlassian_user(i: int, **extra: Any) -> dict[str, Any]:
    return {"account_id": f"5b10ac8d82e05b22cc7d4e{i:02d}", "account_type": "atlassian",
            "account_status": "active", "name": f"User {i}", "email": f"user{i}@example.cn",
            "picture": "https://avatar.example/x.png", "access_billable": True,
            "product_access": [product("jira-software", "Jira Software")], **extra}  # fmt: skip


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    return int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":")[1])


class FakeAtlassian:
    """``users``: the organisation's managed accounts; ``activity``: account id -> its
    last-active-dates entries. Faults: ``throttle`` (the next N requests answer 429 with
    ``retry_after``), ``fail_page`` (that page of users, from 0, answers 500), ``loop`` (the
    second page's next link is itself), ``refuse`` (account id -> a lifecycle call's status),
    ``fault(path, n)`` (any answer for the n-th request, or None)."""

    def __init__(self, users: list[Any], *, page_size: int = 2) -> None:
        self.users, self.page_size = users, page_size
        self.activity: dict[str, list[Any]] = {}
        self.throttle, self.retry_after = 0, "1"
        self.fail_page: int | None = None
        self.loop = False
        self.refuse: dict[str, int] = {}
        self.fault: Callable[[str, int], Answer | None] = lambda path, n: None
        self.requests: list[tuple[str, str]] = []  # (method, path with query)
        self.lifecycle: list[tuple[str, str]] = []  # (account id, action)
        self.auth_seen: set[str] = set()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status, headers, payload = fake.answer(
                    method, self.path, self.headers.get("Authorization", "")
                )
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                if status == 204:
                    data = b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's names)
                self._reply("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._reply("POST")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeAtlassian:
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def user(self, account_id: str) -> dict[str, Any] | None:
        return next((u for u in self.users if u.get("account_id") == account_id), None)

    def answer(self, method: str, raw_path: str, authorization: str) -> Answer:
        with self._lock:
            self.requests.append((method, raw_path))
            self.auth_seen.add(authorization)
            parts = urlsplit(raw_path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            forced = self.fault(parts.path, len(self.requests) - 1)
            if forced is not None:
                return forced
            if authorization != f"Bearer {API_KEY}":
                return 401, {}, {"code": 401, "message": "Unauthorized"}
            if self.throttle > 0:
                self.throttle -= 1
                return 429, {"Retry-After": self.retry_after}, {"code": 429, "message": "Too Many Requests"}  # fmt: skip
            return self.route(method, [unquote(p) for p in parts.path.split("/")[1:]], query)

    def route(self, method: str, path: list[str], query: dict[str, str]) -> Answer:
        if method == "POST" and path[:1] == ["users"] and path[2:4] == ["manage", "lifecycle"]:
            return self.change(path[1], path[4] if len(path) > 4 else "")
        if method != "GET" or path[:3] != ["admin", "v1", "orgs"] or len(path) < 5:
            return 404, {}, {"code": 404, "message": "Not Found"}
        if path[3] != ORG_ID:
            return 404, {}, {"code": 404, "message": "Organization not found"}
        if path[4:] == ["users"]:
            return self.users_page(query.get("cursor"))
        if path[4:6] == ["directory", "users"] and path[7:] == ["last-active-dates"]:
            return self.last_active(path[6], query.get("cursor"))
        return 404, {}, {"code": 404, "message": "Not Found"}

    def users_page(self, cursor: str | None) -> Answer:
        start = _offset(cursor) if cursor else 0
        if self.fail_page is not None and start // self.page_size == self.fail_page:
            return 500, {}, {"code": 500, "message": "Internal Server Error"}
        page = self.users[start : start + self.page_size]
        end = start + self.page_size
        base = f"{self.url}/admin/v1/orgs/{ORG_ID}/users"
        links: dict[str, Any] = {"self": f"{base}?cursor={_cursor(start)}"}
        if self.loop and start >= self.page_size:
            links["next"] = f"{base}?cursor={_cursor(self.page_size)}"  # itself, again
        elif end < len(self.users):
            links["next"] = f"{base}?cursor={_cursor(end)}"
        return 200, {}, {"data": page, "meta": {"total": len(self.users)}, "links": links}

    def last_active(self, account_id: str, cursor: str | None) -> Answer:
        if self.user(account_id) is None:
            return 404, {}, {"code": 404, "message": "User not found"}
        entries = self.activity.get(account_id, [])
        start = _offset(cursor) if cursor else 0
        more = _cursor(start + 2) if start + 2 < len(entries) else None
        data = {"product_access": entries[start : start + 2], "added_to_org": "2024-03-01"}
        return 200, {}, {"data": data, "links": {"next": more}}

    def change(self, account_id: str, action: str) -> Answer:
        self.lifecycle.append((account_id, action))
        user = self.user(account_id)
        if user is None:
            return 404, {}, {"code": 404, "message": "User not found"}
        if account_id in self.refuse:
            status = self.refuse[account_id]
            return status, {}, {"code": status, "message": "Not a managed account"}
        states = {"disable": "inactive", "enable": "active", "delete": "inactive",
                  "cancel-delete": "active"}  # fmt: skip
        if action not in states:
            return 404, {}, {"code": 404, "message": "Not Found"}
        user["account_status"] = states[action]
        if action in ("disable", "enable"):
            return 204, {}, b""
        return 200, {}, {"message": "Success"}
