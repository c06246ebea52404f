"""The stored-XSS tests' payloads and checks (tests/test_xss*.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client

ROOT = Path(settings.BASE_DIR)
# The payload: a script, an attribute break-out with an event handler, a template expression.
P = '<script>alert(1)</script>"><img src=x onerror=alert(1)>{{7*7}}'
SHORT = "<script>alert(1)</script>"  # for fields of 40 characters
JS = "javascript:alert(1)"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
# What may never reach an HTML document unescaped.
LIVE = re.compile(r"<script>alert|<img src=x|(href|src)\s*=\s*[\"']?\s*javascript:", re.I)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_inert(html: str, where: str) -> None:
    found = LIVE.search(html)
    assert found is None, f"{where}: live markup {html[max(0, found.start() - 80) : found.end() + 80]!r}"  # fmt: skip
