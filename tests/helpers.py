"""Small helpers shared by tests that start other processes."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings


def database_url(name: str | None = None) -> str:
    """A DATABASE_URL for the server the tests use (a socket directory or a TCP host)."""
    db = settings.DATABASES["default"]
    name = name or str(db["NAME"])
    auth = quote(str(db["USER"] or ""), safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(str(db["PASSWORD"]), safe="")
    host = str(db["HOST"] or "")
    if host.startswith("/"):
        return f"postgres://{auth}@/{host}/{name}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{name}"
