"""Database down → a plain 503 page with Retry-After and one log line per request, not a 500 with
a traceback (issue #16, point 10).

The database is really unreachable in these tests: the connection is pointed at a TCP port on
127.0.0.1 that nothing listens on (connection refused), in this process for the test client and
in a gunicorn started with such a DATABASE_URL and production settings (DEBUG=false).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.test import Client

from config import unavailable
from tests.conftest import Cast

ROOT = Path(__file__).resolve().parent.parent


def _closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections (bound once by us, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def database_refusing() -> Iterator[None]:
    """PostgreSQL unreachable for this process's connection until the block ends."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": str(_closed_port())})
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def _assert_unavailable(response: object, caplog: pytest.LogCaptureFixture, path: str) -> None:
    assert response.status_code == 503  # type: ignore[attr-defined]
    assert response["Retry-After"] == str(unavailable.RETRY_AFTER_SECONDS)  # type: ignore[index]
    assert response["Cache-Control"] == "no-store"  # type: ignore[index]
    body = response.content.decode()  # type: ignore[attr-defined]
    assert "暂时无法使用" in body and "Temporarily unavailable" in body
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1, [r.getMessage() for r in records]
    (record,) = records
    assert record.name == "config.unavailable" and record.exc_info is None
    message = record.getMessage()
    assert "\n" not in message and path in message and "503" in message


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_page_answers_503_when_the_view_meets_the_dead_database(
    cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()  # re-raises any exception that reaches Django's 500 handling
    client.force_login(cast.it_admin)
    with database_refusing():
        caplog.clear()
        response = client.get("/subscriptions/")
    _assert_unavailable(response, caplog, "/subscriptions/")


@pytest.mark.django_db(transaction=True)
def test_the_session_loaded_in_a_middleware_answers_503_too(
    cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    """A POST: the audit middleware reads request.user (the session, in the database) before any
    view runs; Django turns that into a response at that middleware's layer."""
    client = Client(raise_request_exception=False)
    client.force_login(cast.it_admin)
    with database_refusing():
        caplog.clear()
        response = client.post("/channels/add/", {"name": "x"})
    _assert_unavailable(response, caplog, "/channels/add/")


@pytest.mark.django_db(transaction=True)
def test_a_template_that_meets_the_dead_database_answers_503(
    cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    """The password-reset page's view needs no database and answers a TemplateResponse; its
    layout's context processors ask for request.user, which the session cookie sends to the
    database while the template renders, after the view has returned."""
    client = Client()
    client.force_login(cast.it_admin)
    with database_refusing():
        caplog.clear()
        response = client.get("/accounts/password/reset/")
    _assert_unavailable(response, caplog, "/accounts/password/reset/")


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_503_in_json(cast: Cast, caplog: pytest.LogCaptureFixture) -> None:
    client = Client()
    client.force_login(cast.it_admin)
    with database_refusing():
        caplog.clear()
        response = client.get("/api/v1/subscriptions/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response.json() == {"detail": "Service unavailable: the database cannot be reached."}
    assert [r.name for r in caplog.records if r.levelno >= logging.WARNING] == [
        "config.unavailable"
    ]


@pytest.mark.django_db(transaction=True)
def test_healthz_still_answers_its_own_503() -> None:
    with database_refusing():
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}


def test_a_failed_query_on_a_working_connection_is_still_a_500() -> None:
    """Only "cannot reach the database" is a 503: a deadlock or a bad query is a bug to see."""
    import psycopg

    def raised_from(cause: Exception) -> OperationalError:
        try:
            raise OperationalError(str(cause)) from cause
        except OperationalError as exc:
            return exc

    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    assert not unavailable.is_database_unavailable(raised_from(deadlock))
    refused = psycopg.OperationalError("connection failed: Connection refused")
    assert unavailable.is_database_unavailable(raised_from(refused))
    starting = psycopg.errors.CannotConnectNow("the database system is starting up")
    assert unavailable.is_database_unavailable(raised_from(starting))
    assert not unavailable.is_database_unavailable(ValueError("x"))


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "gunicorn exited"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("gunicorn did not start")


def _get(url: str, cookie: str = "", data: bytes | None = None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, data=data, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our server
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_gunicorn_in_production_mode_answers_503_and_logs_one_line_per_request(
    tmp_path: Path,
) -> None:
    web_port, db_port = _closed_port(), _closed_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"postgres://renewaldesk:pw@127.0.0.1:{db_port}/renewaldesk",
        "CONN_MAX_AGE": "60",
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    (tmp_path / "static").mkdir()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    argv = [str(gunicorn), "config.wsgi", "-b", f"127.0.0.1:{web_port}", "-w", "1"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        _wait_for_port(web_port, proc)
        base = f"http://127.0.0.1:{web_port}"
        cookie = "sessionid=abcdefghijklmnopqrstuvwxyz123456"
        answers = [
            _get(base + "/", cookie),  # the view reads the session
            _get(base + "/accounts/password/reset/", cookie),  # the template does
            _get(base + "/subscriptions/", cookie, data=b"x=1"),  # a middleware does (POST)
        ]
        health, _ = _get(base + "/healthz")
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=60)
    for status, headers in answers:
        assert status == 503 and headers["Retry-After"] == "30", (status, headers)
        assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert health == 503
    log = stderr.decode()
    assert "Traceback" not in log, log
    ours = [line for line in log.splitlines() if not re.match(r"^\[[^]]+\] \[\d+\] \[INFO\]", line)]
    assert len(ours) == 4, log  # one per request: the three pages and /healthz
    assert sum("config.unavailable Database unavailable" in line for line in ours) == 3, log
    assert "Service Unavailable: /healthz" in ours[-1], log
