"""The private PostgreSQL cluster: shared by several processes, stopped by the last one out,
never left running after a crash of its users, and never shared between two checkouts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

HOLD = """
import sys, time
sys.path.insert(0, {root!r})
from config import embedded_pg
conn = embedded_pg.acquire()
import psycopg
with psycopg.connect(host=str(conn.socket_dir), user=conn.user, dbname=conn.name) as pg:
    pg.execute("CREATE TABLE IF NOT EXISTS marks (who text)")
    pg.execute("INSERT INTO marks VALUES (%s)", [sys.argv[1]])
print("ready", conn.socket_dir, flush=True)
sys.stdin.readline()  # hold the lease until told to go
"""


def _holder(var_dir: Path, name: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD.format(root=str(ROOT)), name],
        env={**os.environ, "RENEWALDESK_VAR_DIR": str(var_dir)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready"), line
    return proc


def _running(var_dir: Path) -> bool:
    pid_file = var_dir / "pgdata" / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
    except ProcessLookupError:
        return False
    return True


def _finish(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(timeout=60) == 0


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


def test_processes_share_one_cluster_and_the_last_one_out_stops_it(var_dir: Path) -> None:
    first = _holder(var_dir, "first")
    second = _holder(var_dir, "second")  # joins the running server, does not start another
    assert _running(var_dir)
    _finish(first)
    assert _running(var_dir), "the second process still holds a lease"
    _finish(second)
    assert not _running(var_dir)
    # Reused cleanly: the data written before is still there on the next start.
    third = _holder(var_dir, "third")
    import psycopg

    sock = var_dir / "run"
    with psycopg.connect(host=str(sock), user="postgres", dbname="renewaldesk") as pg:
        rows = {r[0] for r in pg.execute("SELECT who FROM marks")}
    assert rows == {"first", "second", "third"}
    _finish(third)
    assert not _running(var_dir)


def test_a_killed_holder_does_not_keep_the_server_alive(var_dir: Path) -> None:
    crashed = _holder(var_dir, "crashed")
    os.kill(crashed.pid, signal.SIGKILL)
    crashed.wait()
    survivor = _holder(var_dir, "survivor")
    _finish(survivor)  # its release prunes the dead lease and stops the server
    assert not _running(var_dir)


def test_two_checkouts_never_share_a_server(tmp_path: Path) -> None:
    one = _holder(tmp_path / "one", "a")
    two = _holder(tmp_path / "two", "b")
    pid_one = (tmp_path / "one" / "pgdata" / "postmaster.pid").read_text().split()[0]
    pid_two = (tmp_path / "two" / "pgdata" / "postmaster.pid").read_text().split()[0]
    assert pid_one != pid_two
    # No TCP listener: each server is reachable only through its own socket in its checkout.
    import psycopg

    with psycopg.connect(
        host=str(tmp_path / "one" / "run"), user="postgres", dbname="renewaldesk"
    ) as pg:
        assert pg.execute("SHOW listen_addresses").fetchone() == ("",)
    _finish(one)
    _finish(two)


def test_concurrent_first_starts_run_initdb_once(var_dir: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HOLD.format(root=str(ROOT)), f"p{i}"],
            env={**os.environ, "RENEWALDESK_VAR_DIR": str(var_dir)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("ready")
    for proc in procs:
        _finish(proc)
    time.sleep(0.2)
    assert not _running(var_dir)


def test_a_clear_message_when_no_postgresql_can_be_found(monkeypatch: pytest.MonkeyPatch) -> None:
    from config import embedded_pg

    monkeypatch.setattr(embedded_pg.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(embedded_pg.shutil, "which", lambda name: None)
    monkeypatch.setattr(embedded_pg.glob, "glob", lambda pattern: [])
    with pytest.raises(embedded_pg.EmbeddedPostgresError) as excinfo:
        embedded_pg.find_bin_dir()
    assert "DATABASE_URL=postgres://" in str(excinfo.value)
