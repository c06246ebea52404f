"""The database the commands use, inside the venv: the private cluster in ./var/
(config/embedded_pg.py) unless DATABASE_URL is set, and that database created when missing."""

from __future__ import annotations

import os
import sys
from typing import Any

from devtools.common import ROOT, say


def database_env() -> None:
    """Start (or join) the private cluster unless DATABASE_URL is set; make sure the database exists."""
    sys.path.insert(0, str(ROOT))
    if os.environ.get("DATABASE_URL"):
        ensure_database(os.environ["DATABASE_URL"])
        return
    from config import embedded_pg

    try:
        conn = embedded_pg.acquire()  # this process holds a lease until it exits
    except embedded_pg.EmbeddedPostgresError as exc:
        sys.exit(str(exc))
    say(f"PostgreSQL (private cluster in var/, socket {conn.socket_dir})")


def ensure_database(url: str) -> None:
    """Create the database named in DATABASE_URL if the server lacks it."""
    import environ
    import psycopg

    cfg = environ.Env.db_url_config(url)
    params: dict[str, Any] = {
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
    }
    try:
        with psycopg.connect(
            dbname="postgres", autocommit=True, connect_timeout=10, **params
        ) as pg:
            if not pg.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]
            ).fetchone():
                say(f"creating database {cfg['NAME']}")
                pg.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    except psycopg.Error as exc:
        sys.exit(f"Cannot reach the PostgreSQL server in DATABASE_URL: {exc}")


def cmd_stop_db(_argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from config import embedded_pg

    print("stopped" if embedded_pg.stop() else "not running")
    return 0
