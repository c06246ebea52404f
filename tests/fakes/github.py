"""A GitHub REST API (version 2022-11-28) for one organisation, with the faults a real one will
not show on demand: a bad token, primary and secondary rate limits, a 500 on a chosen page,
next links that loop, a refused membership change. A threaded server on 127.0.0.1 (a free port).

Shapes as documented:
- ``GET /orgs/{org}/members?per_page=&page=``: a JSON array of simple users (login, id, type
  ...), ``Link: <...>; rel="next", <...>; rel="last"`` with absolute addresses under
  ``/organizations/{org_id}/members`` as github.com gives them —
  https://docs.github.com/en/rest/orgs/members#list-organization-members,
  https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
- ``GET /orgs/{org}/copilot/billing/seats``: ``{"total_seats", "seats": [{"assignee",
  "last_activity_at", "last_activity_editor", "created_at", "plan_type" ...}]}`` —
  https://docs.github.com/en/rest/copilot/copilot-user-management#list-all-copilot-seat-assignments-for-an-organization
- ``GET /users/{username}``, ``GET /user/{account_id}``: a user (name, public e-mail or null,
  ``suspended_at`` on GHES) — https://docs.github.com/en/rest/users/users
- ``GET|PUT|DELETE /orgs/{org}/memberships/{username}``: ``{"state", "role", "user"}``; 404
  when not a member; PUT invites (state pending), DELETE answers 204 —
  https://docs.github.com/en/rest/orgs/members
- Errors ``{"message", "documentation_url", "status"}`` (401 "Bad credentials"); a primary
  rate limit: 403 with ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset`` (epoch seconds);
  a secondary: 429 with ``retry-after`` —
  https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "github-test-token"
ORG, ORG_ID = "acme", 9001
DOCS = "https://docs.github.com/rest"


def member(i: int, **extra: Any) -> dict[str, Any]:
    """A simple user as the member list gives it (no name, no e-mail)."""
    return {"login": f"dev{i}", "id": 1000 + i, "node_id": f"U_{i}", "type": "User",
            "site_admin": False, **extra}  # fmt: skip


def seat(user: dict[str, Any], last: str | None) -> dict[str, Any]:
    return {"created_at": "2026-01-05T08:00:00Z", "updated_at": "2026-01-05T08:00:00Z",
            "pending_cancellation_date": None, "last_activity_at": last,
            "last_activity_editor": "vscode/1.90.0" if last else None, "plan_type": "business",
            "assignee": user}  # fmt: skip


def error(status: int, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {}, {"message": message, "documentation_url": DOCS, "status": str(status)}


class FakeGitHub:
    def __init__(self, members: list[Any], seats: list[Any] | None = None) -> None:
        self.members = members
        self.users = list(members)  # every GitHub user (members or not): /users/, /user/
        self.seats = seats or []
        self.profiles: dict[str, dict[str, Any]] = {}  # login -> name, email, suspended_at
        self.owners: set[str] = set()  # logins with the role admin
        self.invited: set[str] = set()  # logins invited (PUT), state pending
        self.copilot_status = 200  # 404: no Copilot here; 403: the token may not see seats
        self.change_status = 0  # a PUT or DELETE answers this error instead
        self.fail_page = 0  # that page of members answers 500
        self.loop_at = 0  # that page of members links back to page loop_to as its next
        self.loop_to = 1
        self.members_body: Any = None  # set: what the member list answers instead
        self.link_host = ""  # the Link headers' address (default: this server's)
        self.primary_limited = 0  # the next N requests: 403, x-ratelimit-remaining 0
        self.reset_in = 30  # ... until now + this
        self.secondary_limited = 0  # the next N requests: 429 with retry-after
        self.retry_after = "7"
        self.calls: list[tuple[str, str]] = []  # (method, path with query)
        self.bodies: list[Any] = []  # what PUTs sent
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, headers, body = fake.answer(
                    method, self.path, self.headers.get("Authorization", ""), raw
                )
                data = b"" if body is None else body if isinstance(body, bytes) else (
                    json.dumps(body, ensure_ascii=False).encode())  # fmt: skip
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's names)
                self._reply("GET")

            def do_PUT(self) -> None:  # noqa: N802
                self._reply("PUT")

            def do_DELETE(self) -> None:  # noqa: N802
                self._reply("DELETE")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self, method: str = "GET") -> list[str]:
        return [urlsplit(p).path for m, p in self.calls if m == method]

    # --- answers ------------------------------------------------------------------------

    def answer(self, method: str, raw: str, auth: str, body: bytes) -> tuple[int, dict[str, str], Any]:  # fmt: skip
        with self._lock:
            self.calls.append((method, raw))
            if auth != f"Bearer {TOKEN}":
                return error(401, "Bad credentials")
            if self.primary_limited > 0:
                self.primary_limited -= 1
                reset = str(int(time.time()) + self.reset_in)
                headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                           "x-ratelimit-reset": reset}  # fmt: skip
                return 403, headers, {"message": "API rate limit exceeded for user ID 1."}
            if self.secondary_limited > 0:
                self.secondary_limited -= 1
                limit = {"message": "You have exceeded a secondary rate limit."}
                return 429, {"retry-after": self.retry_after}, limit
            parts = urlsplit(raw)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            return self.route(method, parts.path, query, json.loads(body) if body else None)

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:  # fmt: skip
        members = (f"/orgs/{ORG}/members", f"/organizations/{ORG_ID}/members")
        seats = (f"/orgs/{ORG}/copilot/billing/seats", f"/organizations/{ORG_ID}/copilot/billing/seats")  # fmt: skip
        if method == "GET" and path in members and self.members_body is not None:
            return 200, {}, self.members_body
        if method == "GET" and path in members:
            return self.page(self.members, query, "members", fail=self.fail_page)
        if method == "GET" and path in seats:
            if self.copilot_status != 200:
                return error(self.copilot_status, "Not Found")
            status, headers, items = self.page(self.seats, query, "copilot/billing/seats")
            return status, headers, {"total_seats": len(self.seats), "seats": items}
        if method == "GET" and path.startswith("/users/"):
            return self.user(lambda m: m.get("login") == path.removeprefix("/users/"))
        if method == "GET" and path.startswith("/user/"):
            return self.user(lambda m: str(m.get("id")) == path.removeprefix("/user/"))
        if path.startswith(f"/orgs/{ORG}/memberships/"):
            return self.membership(method, path.rsplit("/", 1)[1], body)
        return error(404, "Not Found")

    def page(self, items: list[Any], query: dict[str, str], what: str, fail: int = 0) -> tuple[int, dict[str, str], Any]:  # fmt: skip
        size = min(int(query.get("per_page", "30")), 100)
        number = int(query.get("page", "1"))
        if number == fail:
            return error(500, "Server Error")
        last = max((len(items) + size - 1) // size, 1)
        base = f"{self.link_host or self.url}/organizations/{ORG_ID}/{what}?per_page={size}&page="
        links = []
        if number == self.loop_at and what == "members":
            links.append(f'<{base}{self.loop_to}>; rel="next"')
        elif number < last:
            links.append(f'<{base}{number + 1}>; rel="next"')
        links.append(f'<{base}{last}>; rel="last"')
        return 200, {"Link": ", ".join(links)}, items[(number - 1) * size : number * size]

    def user(self, which: Any) -> tuple[int, dict[str, str], Any]:
        found = next((m for m in self.users if isinstance(m, dict) and which(m)), None)
        if found is None:
            return error(404, "Not Found")
        profile = {"name": None, "email": None, **self.profiles.get(str(found.get("login")), {})}
        return 200, {}, {**found, **profile}

    def membership(self, method: str, login: str, body: Any) -> tuple[int, dict[str, str], Any]:
        current = [m for m in self.members if isinstance(m, dict) and m.get("login") == login]
        if method in ("PUT", "DELETE") and self.change_status:
            return error(self.change_status, "You must be an admin to do that.")
        if method == "GET":
            if current:
                role = "admin" if login in self.owners else "member"
                return 200, {}, {"state": "active", "role": role, "user": current[0]}
            if login in self.invited:
                return 200, {}, {"state": "pending", "role": "member"}
            return error(404, "Not Found")
        if method == "DELETE":
            self.members = [m for m in self.members if m not in current]
            return 204, {}, None
        if method == "PUT":
            self.bodies.append(body)
            self.invited.add(login)
            return 200, {}, {"state": "pending", "role": (body or {}).get("role", "member")}
        return error(404, "Not Found")
