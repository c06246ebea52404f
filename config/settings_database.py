"""Database: PostgreSQL only (config/settings.py sets ``DATABASES = databases()``).

With DATABASE_URL, that server. Without it, a private cluster in ./var/ (config/embedded_pg.py),
started on demand and shared by every process of this checkout."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import env


def databases() -> dict[str, dict[str, Any]]:
    """``default`` and ``progress``, the same database over two connections."""
    if env.str("DATABASE_URL", default=""):
        found = {"default": env.db("DATABASE_URL")}
        if found["default"]["ENGINE"] != "django.db.backends.postgresql":
            raise ImproperlyConfigured(
                "DATABASE_URL must point at PostgreSQL (postgres://…); Renewal Desk runs on PostgreSQL only."
            )
    else:
        from config import embedded_pg

        try:
            found = {"default": embedded_pg.acquire().django_settings()}
        except embedded_pg.EmbeddedPostgresError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
    found["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
    found["default"]["CONN_HEALTH_CHECKS"] = True
    found["default"]["ATOMIC_REQUESTS"] = False
    # A second connection to the same database, outside the transaction of a long job, so that the
    # job's progress is visible to the page polling it before the job commits.
    found["progress"] = {**found["default"], "TEST": {"MIRROR": "default"}}
    return found
