"""The README's start command, for real: web server and django-q2 cluster come up with demo
data, the worker runs the heartbeat schedule, Ctrl-C stops everything, and a second start reuses
the data. It uses its own database on the test server so it never touches development data."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
from django.conf import settings

from tests import helpers

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


START_DATABASE = f"renewaldesk_start_{os.getpid()}"


def _connect(dbname: str) -> psycopg.Connection[tuple[Any, ...]]:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=dbname,
        autocommit=True,
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"],
    )


@pytest.fixture
def start_database() -> Iterator[str]:
    yield helpers.database_url(START_DATABASE)
    with _connect("postgres") as pg:
        pg.execute(f'DROP DATABASE IF EXISTS "{START_DATABASE}" WITH (FORCE)')


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


def _wait_for(
    predicate: Callable[[], bool], timeout: float, proc: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(
                f"start command exited early ({proc.returncode}):\n{log.read_text()[-4000:]}"
            )
        time.sleep(1)
    pytest.fail(f"timed out after {timeout}s:\n{log.read_text()[-4000:]}")


def _start(port: int, database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG")}
    env.update(DATABASE_URL=database_url, Q_WORKERS="1")
    # Its own session, like a terminal's foreground job: Ctrl-C is a SIGINT to the whole group.
    return subprocess.Popen(
        [sys.executable, "dev.py", "start", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _ctrl_c(proc: subprocess.Popen[bytes], log: Path) -> None:
    tree = psutil.Process(proc.pid).children(recursive=True)
    assert any("qcluster" in " ".join(p.cmdline()) for p in tree), "no worker process running"
    assert any("runserver" in " ".join(p.cmdline()) for p in tree), "no web server running"
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=90) == 0, log.read_text()[-4000:]
    gone, alive = psutil.wait_procs(tree, timeout=10)
    assert not alive, f"stray processes after Ctrl-C: {[p.cmdline() for p in alive]}"


@pytest.mark.timeout_heavy
def test_start_serves_the_app_with_a_live_worker_and_stops_cleanly(
    start_database: str, tmp_path: Path
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "start.log"
    started = time.monotonic()
    proc = _start(port, start_database, log)
    try:
        _wait_for(lambda: _get(base + "/accounts/login/")[0] == 200, 180, proc, log)
        ready = time.monotonic() - started
        _wait_for(
            lambda: (
                json.loads(_get(base + "/healthz")[1] or "{}").get("worker", {}).get("status")
                == "ok"
            ),
            180 - ready,
            proc,
            log,
        )
        status, html = _get(base + "/accounts/login/")
        assert "续费管理台" in html
        # The shared cache's table was created (createcachetable), and the worker process writes
        # to it: django-q2 keeps its cluster status in the default cache.
        with _connect(START_DATABASE) as pg:
            row = pg.execute(
                "SELECT count(*) FROM renewaldesk_cache WHERE cache_key LIKE %s",
                ["%django_q:renewaldesk:cluster%"],
            ).fetchone()
        assert row is not None and row[0] >= 1
        output = log.read_text()
        assert "demo users (password:" in output and "head_rd" in output
        _ctrl_c(proc, log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    # Running it twice reuses the data: nothing is added the second time.
    log2 = tmp_path / "start2.log"
    proc = _start(port, start_database, log2)
    try:
        _wait_for(lambda: _get(base + "/accounts/login/")[0] == 200, 180, proc, log2)
        assert "(0 added now)" in log2.read_text()
        _ctrl_c(proc, log2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
