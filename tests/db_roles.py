"""A real PostgreSQL login role with the grants README's production guide gives the
application (``manage.py database_grants``), for tests that connect as it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.backends.utils import CursorWrapper

from core.db_roles import grant_statements

PASSWORD = "app-role-test"  # noqa: S105 - a throw-away role of the test database


def role_name() -> str:
    """One role per test database, so that parallel test runs on one server do not share it."""
    digest = hashlib.sha256(str(connection.settings_dict["NAME"]).encode()).hexdigest()[:12]
    return f"rd_app_{digest}"


def _drop(cursor: CursorWrapper, name: str) -> None:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    if cursor.fetchone():
        cursor.execute(f'DROP OWNED BY "{name}"')
        cursor.execute(f'DROP ROLE "{name}"')


@contextmanager
def granted_role() -> Iterator[str]:
    """Create the role with the documented grants (committed: use with transactional_db, or
    other connections will not see it), and drop it afterwards."""
    name = role_name()
    with connection.cursor() as cursor:
        _drop(cursor, name)  # left over by an interrupted run
        cursor.execute(
            f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{PASSWORD}' "
            "NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
        )
        for statement in grant_statements(name):
            cursor.execute(statement)
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            _drop(cursor, name)


@contextmanager
def connected_as(role: str) -> Iterator[None]:
    """The default connection logs in as ``role`` (a new session) until the block ends."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(USER=role, PASSWORD=PASSWORD)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
