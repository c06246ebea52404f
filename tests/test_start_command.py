"""The README's start command, for real: web server and django-q2 cluster come up with demo
data, the worker runs the heartbeat schedule, the banner (time to ready, address, demo users)
comes once both are up, e-mails go to var/mail/ with links to the port it was started on,
Ctrl-C stops everything, and a second start changes nothing. It uses its own database on the
test server so it never touches development data."""

from __future__ import annotations

import json
import os
import re
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
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG", "SITE_URL", "EMAIL_URL")
    }
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
    started = time.time()
    proc = _start(port, start_database, log)
    try:
        _wait_for(lambda: _get(base + "/accounts/login/")[0] == 200, 180, proc, log)
        ready = time.time() - started
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
        # The banner comes once the web server and the worker are up: the time it took, the
        # address, then the demo users with what each may do.
        # (seed_demo prints the demo users too, earlier: wait for the ready line itself.)
        ready_line = re.compile(rf"ready in (\d+) s at http://127\.0\.0\.1:{port}/")
        _wait_for(lambda: ready_line.search(log.read_text()) is not None, 60, proc, log)
        output = log.read_text()
        found = ready_line.search(output)
        assert found, output[-4000:]
        banner = output[found.start() :]
        assert "demo users (password:" in banner and "head_rd" in banner
        assert "finance:" in banner and "IT admin:" in banner
        print(f"start: ready in {found.group(1)} s (test harness: {ready:.0f} s to the login page)")

        # The demo's requests told their approvers by e-mail (the worker's tasks): each mail a
        # file in var/mail/, its link to this port on a line of its own; none in the console.
        link = re.compile(rf"^http://127\.0\.0\.1:{port}/requests/\d+/$", re.MULTILINE)
        _wait_for(lambda: any(link.search(t) for t in _mails_since(started)), 120, proc, log)
        assert not any(":8000/" in t for t in _mails_since(started))
        assert "Content-Type: text/plain" not in log.read_text()
        # Every task the demo queued has run (a restart must not look busier than it is).
        _wait_for(lambda: _queued(START_DATABASE) == 0, 120, proc, log)
        _ctrl_c(proc, log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)

    # Someone's work in the demo (a subscription changed), then a restart: nothing changes.
    with _connect(START_DATABASE) as pg:
        pg.execute("UPDATE renewals_subscription SET edition = 'Premium' WHERE ref = 'SUB-0002'")
        before = _snapshot(pg)
    log2 = tmp_path / "start2.log"
    proc = _start(port, start_database, log2)
    try:
        _wait_for(lambda: ready_line.search(log2.read_text()) is not None, 180, proc, log2)
        assert "already loaded, nothing changed" in log2.read_text()
        with _connect(START_DATABASE) as pg:
            assert _snapshot(pg) == before
        _ctrl_c(proc, log2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def _queued(dbname: str) -> int:
    with _connect(dbname) as pg:
        row = pg.execute("SELECT count(*) FROM django_q_ormq").fetchone()
    return int(row[0]) if row else 0


def _mails_since(started: float) -> list[str]:
    """The e-mails written to var/mail/ since ``started`` (wall clock), as text."""
    folder = ROOT / "var" / "mail"
    if not folder.is_dir():
        return []
    return [
        p.read_text(errors="replace")
        for p in folder.iterdir()
        if p.is_file() and p.stat().st_mtime >= started - 1
    ]


def _snapshot(pg: psycopg.Connection[tuple[Any, ...]]) -> dict[str, object]:
    """The business rows a restart could touch, and every business table's row count."""
    tables = [
        row[0]
        for row in pg.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND "
            "split_part(tablename, '_', 1) IN ('org', 'renewals', 'budgets', 'contracts') "
            "ORDER BY tablename"
        ).fetchall()
    ]
    counts = {t: pg.execute(f'SELECT count(*) FROM "{t}"').fetchone() for t in tables}
    subscriptions = pg.execute(
        "SELECT ref, edition, unit_price, currency, seats_purchased, term_start, term_end, status "
        "FROM renewals_subscription ORDER BY ref"
    ).fetchall()
    requests = pg.execute("SELECT id, status FROM renewals_renewalrequest ORDER BY id").fetchall()
    return {"counts": counts, "subscriptions": subscriptions, "requests": requests}
