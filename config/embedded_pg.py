"""A private PostgreSQL cluster in ``./var/`` for development and tests when no DATABASE_URL is set.

The binaries come from the ``pgserver`` package (bundled in its wheel) or, failing that, from the
system's ``initdb``/``pg_ctl``. The cluster listens only on a Unix socket inside this checkout, so two
checkouts never collide and nothing is reachable over TCP.

Several processes (web server, worker, tests, a shell) share one cluster: each process that uses it
holds a *lease* (a file named after its pid in ``var/pg-leases/``). The process that releases the last
live lease stops the server; leases of processes that died without releasing are pruned. Every state
change happens under an exclusive ``flock`` on ``var/pg.lock``, so two processes starting at once never
run ``initdb`` or ``pg_ctl start`` twice.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import glob
import hashlib
import importlib.util
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RENEWALDESK_VAR_DIR", BASE_DIR / "var")).resolve()
PGDATA = VAR_DIR / "pgdata"
LOCK_FILE = VAR_DIR / "pg.lock"
LEASE_DIR = VAR_DIR / "pg-leases"
LOG_FILE = VAR_DIR / "postgres.log"
DB_NAME = "renewaldesk"
DB_USER = "postgres"
PORT = 5432  # only names the socket file; the server opens no TCP port
# PostgreSQL refuses to run as root; under root the cluster belongs to this system user.
SYSTEM_USER = "renewaldesk-pg"

HOW_TO_FIX = (
    "Set DATABASE_URL to an existing PostgreSQL server instead, for example\n"
    "    DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:5432/renewaldesk\n"
    "(the database is created on first start if the user may create databases)."
)


class EmbeddedPostgresError(RuntimeError):
    """The private cluster could not be set up; the message says what to do instead."""


@dataclass(frozen=True)
class Connection:
    """Where the running private cluster can be reached."""

    socket_dir: Path
    name: str = DB_NAME
    user: str = DB_USER
    port: int = PORT

    def django_settings(self) -> dict[str, object]:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": self.name,
            "USER": self.user,
            "PASSWORD": "",
            "HOST": str(self.socket_dir),
            "PORT": str(self.port),
        }

    def url(self, name: str | None = None) -> str:
        """A DATABASE_URL for this cluster (django-environ reads a leading-slash path as a socket dir)."""
        return f"postgres://{self.user}@/{self.socket_dir}/{name or self.name}"


def find_bin_dir() -> Path:
    """The directory holding initdb, pg_ctl and postgres: pgserver's wheel first, then the system."""
    # Located without importing pgserver: its __init__ sets up machinery we do not use.
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "pginstall" / "bin"
        if (bundled / "pg_ctl").exists():
            return bundled
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    # Debian/Ubuntu keep the server binaries off PATH.
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "pg_ctl").exists() and Path(candidate, "initdb").exists():
            return Path(candidate)
    raise EmbeddedPostgresError(
        "No DATABASE_URL is set and no PostgreSQL binaries were found: the 'pgserver' package has "
        "no build for this platform and neither initdb nor pg_ctl is installed.\n" + HOW_TO_FIX
    )


def _socket_dir() -> Path:
    """``var/run`` when the socket path fits the ~107-byte Unix limit, else a hashed /tmp folder."""
    preferred = VAR_DIR / "run"
    if len(str(preferred / f".s.PGSQL.{PORT}")) < 100:
        return preferred
    digest = hashlib.sha256(str(VAR_DIR).encode()).hexdigest()[:12]
    return Path("/tmp") / f"renewaldesk-pg-{digest}"


def _run_as() -> str | None:
    """The system user that owns the cluster: ourselves, or a dedicated one when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def _make_traversable(path: Path) -> None:
    """Let the cluster's user reach ``path`` (running as root, the checkout may be 0700)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


def _chown(path: Path, user: str | None) -> None:
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _pg(bin_dir: Path, tool: str, args: list[str], user: str | None, timeout: int = 60) -> None:
    result = subprocess.run(
        [str(bin_dir / tool), *args],
        user=user,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        cwd="/",
    )
    if result.returncode != 0:
        log_tail = LOG_FILE.read_text(errors="replace")[-2000:] if LOG_FILE.exists() else ""
        raise EmbeddedPostgresError(
            f"{tool} failed ({result.returncode}):\n{result.stdout.strip()}\n{log_tail}\n"
            + HOW_TO_FIX
        )


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _server_running() -> bool:
    pid_file = PGDATA / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False
    return True


def _ensure_running(bin_dir: Path, user: str | None) -> Path:
    sock = _socket_dir()
    if user is not None:
        _make_traversable(VAR_DIR)
        _make_traversable(bin_dir)
    if not (PGDATA / "PG_VERSION").exists():
        if PGDATA.exists():
            shutil.rmtree(PGDATA)  # a half-made cluster from an interrupted initdb
        PGDATA.mkdir(mode=0o700)
        _chown(PGDATA, user)
        _pg(
            bin_dir,
            "initdb",
            [
                "-D",
                str(PGDATA),
                "-U",
                DB_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            user,
            timeout=180,
        )
    if not _server_running():
        sock.mkdir(parents=True, exist_ok=True)
        sock.chmod(0o700)
        _chown(sock, user)
        if not LOG_FILE.exists():
            LOG_FILE.touch()
        _chown(LOG_FILE, user)
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{sock}' -p {PORT} "
            # Losing the last few commits on a crash is fine for a development cluster; it never
            # corrupts data and makes the test suite noticeably faster.
            "-c synchronous_commit=off -c max_connections=200"
        )
        _pg(
            bin_dir,
            "pg_ctl",
            ["-D", str(PGDATA), "-l", str(LOG_FILE), "-o", options, "-w", "-t", "60", "start"],
            user,
        )
    return sock


def _ensure_database(conn: Connection) -> None:
    import psycopg

    with psycopg.connect(
        host=str(conn.socket_dir),
        port=conn.port,
        user=conn.user,
        dbname="postgres",
        autocommit=True,
    ) as pg:
        exists = pg.execute("SELECT 1 FROM pg_database WHERE datname = %s", [conn.name]).fetchone()
        if not exists:
            pg.execute(f'CREATE DATABASE "{conn.name}"')


def _live_leases() -> list[Path]:
    import psutil

    live = []
    for lease in LEASE_DIR.glob("*"):
        try:
            pid_text, created_text = lease.read_text().split()
            if abs(psutil.Process(int(pid_text)).create_time() - float(created_text)) < 1.0:
                live.append(lease)
                continue
        except (ValueError, OSError, psutil.Error):
            pass
        lease.unlink(missing_ok=True)  # its process is gone (or the pid was reused)
    return live


_held: Connection | None = None


def acquire() -> Connection:
    """Start the private cluster if needed and hold a lease on it for this process's lifetime."""
    global _held
    if _held is not None:
        return _held
    import psutil

    bin_dir = find_bin_dir()
    with _locked():
        user = _run_as()
        sock = _ensure_running(bin_dir, user)
        conn = Connection(socket_dir=sock)
        _ensure_database(conn)
        LEASE_DIR.mkdir(exist_ok=True)
        me = psutil.Process(os.getpid())
        (LEASE_DIR / str(me.pid)).write_text(f"{me.pid} {me.create_time()}")
    _held = conn
    owner = os.getpid()

    def _release_at_exit() -> None:
        # A forked child inherits this hook; only the process that took the lease releases it.
        if os.getpid() == owner:
            release()

    atexit.register(_release_at_exit)
    return conn


def release() -> None:
    """Drop this process's lease; the last live lease out stops the server."""
    global _held
    if _held is None:
        return
    _held = None
    with _locked():
        (LEASE_DIR / str(os.getpid())).unlink(missing_ok=True)
        if not _live_leases() and _server_running():
            stop(locked=True)


def stop(*, locked: bool = False) -> bool:
    """Stop the server now, whoever holds leases (``python dev.py stop-db``). True if it was running."""
    if not locked:
        with _locked():
            return stop(locked=True)
    if not _server_running():
        return False
    _pg(find_bin_dir(), "pg_ctl", ["-D", str(PGDATA), "-m", "fast", "-w", "stop"], _run_as())
    for lease in LEASE_DIR.glob("*"):
        lease.unlink(missing_ok=True)
    return True
