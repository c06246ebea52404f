"""A SCIM 2.0 service provider that misbehaves on purpose, for the faults a real one (tests/
integrations/connectors/scim_server.py, scim2-server) will not show on demand: 429 with
Retry-After, time-outs, a 500 halfway, pages that loop, hostile values.

Shapes as RFC 7644: GET /Users?startIndex=&count= answers a ListResponse
(``urn:ietf:params:scim:api:messages:2.0:ListResponse``: totalResults, startIndex,
itemsPerPage, Resources; §3.4.2.4), an error an Error (``...:messages:2.0:Error``: status,
detail; §3.12); 429 Too Many Requests carries Retry-After (RFC 6585 §4).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def scim_user(i: int, **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER], "id": f"id-{i}", "userName": f"user{i}", "active": True,
            "emails": [{"value": f"user{i}@example.cn", "primary": True}], **extra}  # fmt: skip


class FaultyScim:
    """``users``: what the service lists; ``fault(n, start)``: for the n-th request (from 0) of a
    page starting at ``start``, None to answer normally or (status, headers, body)."""

    def __init__(self, users: list[dict[str, Any]]) -> None:
        self.users = users
        self.fault: Callable[[int, int], tuple[int, dict[str, str], Any] | None] = lambda n, start: (
            None
        )
        self.requests: list[str] = []
        self.patches: list[str] = []  # the paths PATCHed (deprovisioning: PATCH active:false)
        self.patch_status = 204  # what a PATCH answers (an error: the tool refuses)
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_PATCH(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                fake.patches.append(self.path)
                if fake.delay:
                    time.sleep(fake.delay)
                body = b"" if fake.patch_status == 204 else json.dumps(
                    {"schemas": [ERROR], "status": str(fake.patch_status)}).encode()  # fmt: skip
                self.send_response(fake.patch_status)
                self.send_header("Content-Type", "application/scim+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                fake.requests.append(self.path)
                query = parse_qs(urlsplit(self.path).query)
                start = int(query.get("startIndex", ["1"])[0])
                count = int(query.get("count", ["100"])[0])
                if fake.delay:
                    time.sleep(fake.delay)
                answer = fake.fault(len(fake.requests) - 1, start)
                if answer is None:
                    page = fake.users[start - 1 : start - 1 + count]
                    body = {"schemas": [LIST], "totalResults": len(fake.users),
                            "startIndex": start, "itemsPerPage": len(page), "Resources": page}  # fmt: skip
                    answer = (200, {}, body)
                status, headers, payload = answer
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/scim+json")
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a time-out test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/scim/v2"

    def __enter__(self) -> FaultyScim:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def error(status: int, detail: str = "") -> tuple[int, dict[str, str], dict[str, Any]]:
    return status, {}, {"schemas": [ERROR], "status": str(status), "detail": detail}
