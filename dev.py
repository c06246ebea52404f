#!/usr/bin/env python3
"""Renewal Desk developer entry point: needs only Python 3.11 (standard library) to start.

    python3 dev.py start        # venv + install + database + migrate + cache table + schedules
                                # + demo data, then the web server and the django-q2 cluster;
                                # Ctrl-C stops all
    python3 dev.py test         # the whole suite: ruff, mypy, Django checks, migrations, pytest
    python3 dev.py stop-db      # stop the private PostgreSQL of this checkout now
    python3 dev.py lock         # re-resolve requirements*.lock from pyproject.toml

Without DATABASE_URL a private PostgreSQL cluster in ./var/ is used (config/embedded_pg.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PY = VENV / "bin" / "python"
# What each command installs: `start` only what running needs, `test` the test tools too.
LOCKS = {"start": ROOT / "requirements.lock", "test": ROOT / "requirements-dev.lock"}
DEV_LOCK = LOCKS["test"]
# "<lock file name> <sha256 of it>" of what was installed last.
STAMP = VENV / ".renewaldesk-lock-sha256"
# When the command was typed (kept across the re-exec into the venv), for "ready in N s".
STARTED_AT = "RENEWALDESK_STARTED_AT"

# Debian packages the suite needs beyond pip, and a file that proves each is there.
SYSTEM_PACKAGES = {
    "start": {
        "libpango-1.0-0": "/usr/lib/x86_64-linux-gnu/libpango-1.0.so.0",
        "libpangoft2-1.0-0": "/usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0",
    },
    "test": {
        "libpango-1.0-0": "/usr/lib/x86_64-linux-gnu/libpango-1.0.so.0",
        "libpangoft2-1.0-0": "/usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0",
        "chromium": "/usr/bin/chromium",
        "gettext": "/usr/bin/xgettext",
        # tests/test_deploy.py: the production guide behind nginx, with its own Redis and a
        # self-signed certificate.
        "nginx": "/usr/sbin/nginx",
        "redis-server": "/usr/bin/redis-server",
        "openssl": "/usr/bin/openssl",
        # axe-core for the accessibility browser tests comes from npm (package-lock.json).
        "npm": "/usr/bin/npm",
    },
}


def say(message: str) -> None:
    """A step, with the seconds since the command was typed (a newcomer sees where time goes)."""
    started = float(os.environ.get(STARTED_AT) or time.time())
    print(f"\033[1m==> [{time.time() - started:4.0f} s] {message}\033[0m", flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    subprocess.run(cmd, check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


# --- bootstrap (standard library only: runs under any python3) --------------------------------


def find_python311() -> str:
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    for name in ("python3.11", "python3"):
        path = shutil.which(name)
        if path:
            out = subprocess.run(
                [path, "-c", "import sys; print(sys.version_info[:2] == (3, 11))"],
                capture_output=True,
                text=True,
            )
            if out.stdout.strip() == "True":
                return path
    sys.exit("Renewal Desk needs Python 3.11: install it (python3.11 on PATH) and run again.")


def _stamp(lock: Path) -> str:
    return f"{lock.name} {hashlib.sha256(lock.read_bytes()).hexdigest()}"


def venv_satisfies(lock: Path, stamp: str) -> bool:
    """Whether what the stamp says was installed covers ``lock``: the same lock unchanged, or,
    for `start`, the development lock unchanged. Both are compiled from pyproject.toml, the
    development one with the test tools added, so it holds everything the app needs (a
    dependency of a dependency may be resolved to another version: the suite ran with those);
    a checkout used for both commands does not reinstall at every switch."""
    if stamp == _stamp(lock):
        return True
    return lock != DEV_LOCK and DEV_LOCK.exists() and stamp == _stamp(DEV_LOCK)


def ensure_venv(command: str = "test") -> None:
    """Create .venv and install the command's locked dependencies when they are not there."""
    lock = LOCKS.get(command, DEV_LOCK)
    if not VENV_PY.exists():
        say("creating the virtual environment in .venv")
        run([find_python311(), "-m", "venv", str(VENV)])
    stamp = STAMP.read_text().strip() if STAMP.exists() else ""
    if stamp and " " not in stamp:  # written before `start` had its own lock: the dev lock's
        stamp = f"{DEV_LOCK.name} {stamp}"
    if venv_satisfies(lock, stamp):
        return
    what = "what running needs" if lock != DEV_LOCK else "the app and its test tools"
    say(f"installing {what} into .venv ({lock.name}; a first install takes a minute or two)")
    run(
        [str(VENV_PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(lock)]
    )
    STAMP.write_text(_stamp(lock))


def ensure_system_packages(kind: str) -> None:
    missing = [pkg for pkg, proof in SYSTEM_PACKAGES[kind].items() if not Path(proof).exists()]
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"installing system packages: {' '.join(missing)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)
        return
    sys.exit(
        f"These system packages are missing: {' '.join(missing)}. Install them "
        f"(e.g. `sudo apt-get install {' '.join(missing)}`) and run again."
    )


NPM_STAMP = ROOT / "node_modules" / ".renewaldesk-lock-sha256"


def ensure_node_modules() -> None:
    """`npm ci` when package-lock.json changed (or node_modules/ is missing): the browser tests
    inject node_modules/axe-core/axe.min.js. The app itself never needs npm."""
    digest = hashlib.sha256((ROOT / "package-lock.json").read_bytes()).hexdigest()
    if NPM_STAMP.exists() and NPM_STAMP.read_text() == digest:
        return
    say("installing the npm packages of package-lock.json (npm ci)")
    run(["npm", "ci", "--no-audit", "--no-fund"])
    NPM_STAMP.write_text(digest)


def reexec_in_venv() -> None:
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve()), *sys.argv[1:]])


# --- inside the venv ---------------------------------------------------------------------------


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


def manage(*args: str, env: dict[str, str]) -> None:
    run([str(VENV_PY), "manage.py", *args], env=env)


def wait_until_ready(
    url: str,
    worker_up: threading.Event,
    children: Children,
    stop: Callable[[], bool],
    timeout: float = 300.0,
) -> bool:
    """Until the page at ``url`` answers and the worker cluster says it is running; False when a
    child stopped, ``stop()`` says so (Ctrl-C) or it took longer than ``timeout``."""
    deadline = time.monotonic() + timeout
    answered_at: float | None = None
    while time.monotonic() < deadline and children.first_exit() is None and not stop():
        if answered_at is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - local
                    ok = response.status < 500
            except urllib.error.HTTPError as exc:
                ok = exc.code < 500
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                ok = False
            answered_at = time.monotonic() if ok else None
        # The worker says it runs at INFO; with LOG_LEVEL above that, its process being up for
        # a while has to do.
        if answered_at is not None and (worker_up.is_set() or time.monotonic() - answered_at > 20):
            return True
        time.sleep(0.3)
    return False


def forward_lines(stream: Any, markers: tuple[str, ...], seen: threading.Event) -> None:
    """Copy a child's output to ours line by line; set ``seen`` at the first line with one of
    ``markers``."""
    for raw in iter(stream.readline, b""):
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
        line = raw.decode(errors="replace")
        if any(marker in line for marker in markers):
            seen.set()


class Children:
    """Child processes, each in its own process group so that stopping it stops its workers too."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def spawn(
        self, name: str, cmd: list[str], env: dict[str, str], **kwargs: Any
    ) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, **kwargs)
        self.procs.append((name, proc))
        return proc

    def first_exit(self) -> tuple[str, int] | None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def stop(self, grace: float = 20.0) -> None:
        for _, proc in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGINT)
        deadline = time.monotonic() + grace
        for _, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for _, proc in self.procs:
            # Anything left in the group (a stuck worker, a reloader child) is killed.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def cmd_start(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="dev.py start")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
    args = parser.parse_args(argv)

    started = float(os.environ.get(STARTED_AT) or time.time())
    browse_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # noqa: S104
    address = f"http://{browse_host}:{args.port}"
    env = {
        **os.environ,
        "DEBUG": os.environ.get("DEBUG", "true"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
        # Links in e-mails and chat point where this server answers (unless SITE_URL is set).
        "SITE_URL": os.environ.get("SITE_URL") or address,
    }
    os.environ.update(env)
    debug = env["DEBUG"].lower() in ("1", "true", "yes", "on")
    database_env()
    # The PDFs' CJK font is built once per checkout (var/fonts): on a fresh clone, build it while
    # the database migrates instead of inside the demo's first PDF (font_path() locks the build).
    font = subprocess.Popen(
        [str(VENV_PY), "-c", "import django; django.setup(); "
         "from core.pdf import font_path; font_path()"],
        cwd=ROOT, env={**env, "LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    say("bringing the database schema up to date (migrate)")
    manage("migrate", "--noinput", "-v", "0", env=env)
    # The shared cache's table (config/settings.py, "Cache"); does nothing when it exists.
    manage("createcachetable", env=env)
    say("registering the scheduled jobs")
    manage("sync_schedules", env=env)
    say("demo data (loaded once, only into an empty database)")
    # Only the command's own lines: the tasks it queues for the worker are not news here.
    manage("seed_demo", env={**env, "LOG_LEVEL": "WARNING"})
    font.wait()
    if debug:
        (ROOT / "var" / "staticfiles").mkdir(parents=True, exist_ok=True)
    else:
        manage("collectstatic", "--noinput", "-v", "0", env=env)

    children = Children()
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    say("starting the web server and the django-q2 worker")
    # The banner's list of demo users, read while the server starts.
    users = subprocess.Popen(
        [str(VENV_PY), "manage.py", "demo_users"], cwd=ROOT, env=env, stdout=subprocess.PIPE
    )
    children.spawn("web", [str(VENV_PY), "manage.py", "runserver", f"{args.host}:{args.port}"], env)
    worker = children.spawn(
        "worker",
        [str(VENV_PY), "manage.py", "qcluster"],
        env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    worker_up = threading.Event()
    threading.Thread(
        # django-q2's "Q Cluster … running." (translated in zh-hans).
        target=forward_lines,
        args=(worker.stdout, ("running.", "正在运行"), worker_up),
        daemon=True,
    ).start()
    ready = wait_until_ready(
        address + "/accounts/login/", worker_up, children, stop=lambda: stopping
    )
    banner = users.communicate()[0].decode(errors="replace").strip()
    if ready and not stopping:
        print()
        say(
            f"Renewal Desk is ready in {time.time() - started:.0f} s at {address}/ "
            "(web server + django-q2 worker). Press Ctrl-C to stop both."
        )
        if banner:
            print(banner)
        if debug and not os.environ.get("EMAIL_URL"):
            print(f"E-mails are written to {ROOT / 'var' / 'mail'}/ (one file each).")
        print(flush=True)
    exit_code = 0
    try:
        while not stopping:
            ended = children.first_exit()
            if ended:
                print(
                    f"{ended[0]} stopped unexpectedly (exit {ended[1]}); stopping the rest.",
                    file=sys.stderr,
                )
                exit_code = 1
                break
            time.sleep(0.5)
    finally:
        say("stopping the web server and the worker")
        children.stop()
    say("stopped")
    return exit_code


# The whole suite runs as two pytest processes side by side, one per core: the tests that mostly
# wait on other processes (Chromium, the start command, the deploy guide's nginx/gunicorn/worker)
# and everything else. Each has its own test database; their outputs are printed one after the
# other, then one closing line with the totals.
SLOW_SHARD = [
    "tests/e2e",
    "tests/test_deploy.py",
    "tests/test_start_command.py",
    # Real worker processes and clusters killed mid-send, waiting out leases (about 85 s).
    "tests/renewals/alerts/test_alert_leases.py",
]


def run_pytest_shards(py: str, env: dict[str, str]) -> int:
    base = env.get("TEST_DATABASE_NAME") or "test_renewaldesk"
    logs = ROOT / "var" / "test-logs"
    logs.mkdir(parents=True, exist_ok=True)
    shards = {
        "browser and processes": SLOW_SHARD,
        "the rest": ["tests", *(f"--ignore={path}" for path in SLOW_SHARD)],
    }
    running = []
    for number, (name, args) in enumerate(shards.items()):
        log = logs / f"pytest-{number}.log"
        shard_env = {**env, "TEST_DATABASE_NAME": f"{base}_{number}"}
        with log.open("w") as out:
            proc = subprocess.Popen(
                [py, "-m", "pytest", *args], cwd=ROOT, env=shard_env, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        running.append((name, log, proc))
    totals = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    worst = 0
    for name, log, proc in running:
        code = proc.wait()
        say(f"pytest, {name} (exit {code})")
        text = log.read_text(errors="replace")
        print(text, flush=True)
        summary = [line for line in text.splitlines() if line.startswith("=") and " in " in line]
        for count, word in re.findall(
            r"(\d+) (passed|failed|errors?|skipped)", summary[-1] if summary else ""
        ):
            totals["error" if word.startswith("error") else word] += int(count)
        if code != 0 or not summary:
            worst = code or 1
    line = f"pytest: {totals['passed']} passed, {totals['failed'] + totals['error']} failed"
    if totals["skipped"]:
        line += f", {totals['skipped']} skipped"
    print(line, flush=True)
    return worst


def cmd_test(argv: list[str]) -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
    }
    # The tests start `dev.py start` themselves: its "ready in N s" counts from its own start.
    env.pop(STARTED_AT, None)
    os.environ.update(env)
    ensure_node_modules()
    database_env()
    py = str(VENV_PY)
    steps: list[tuple[str, list[str]]] = [
        ("ruff format", [py, "-m", "ruff", "format", "--check", "."]),
        ("ruff lint", [py, "-m", "ruff", "check", "."]),
        ("mypy", [py, "-m", "mypy", "."]),
        ("django check", [py, "manage.py", "check", "--fail-level", "WARNING"]),
        ("migrations check", [py, "manage.py", "makemigrations", "--check", "--dry-run"]),
        ("pytest", [py, "-m", "pytest", *argv]),
    ]
    failed = []
    for name, cmd in steps:
        say(name)
        started = time.monotonic()
        if name == "pytest" and not argv:
            code = run_pytest_shards(py, env)
        else:
            code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        if name != "pytest":  # pytest's own summary stays the last line of a green run
            print(
                f"    {name}: {'ok' if code == 0 else f'FAILED ({code})'} "
                f"in {time.monotonic() - started:.1f}s",
                flush=True,
            )
        if code != 0:
            failed.append(name)
    if failed:
        print(f"FAILED steps: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def cmd_lock(_argv: list[str]) -> int:
    for target, extra in (("requirements.lock", []), ("requirements-dev.lock", ["--extra", "dev"])):
        run(
            [
                str(VENV_PY),
                "-m",
                "piptools",
                "compile",
                "-q",
                "--strip-extras",
                "--no-emit-index-url",
                "--no-emit-find-links",
                "--allow-unsafe",
                *extra,
                "-o",
                target,
                "pyproject.toml",
            ]
        )
    return 0


def cmd_stop_db(_argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from config import embedded_pg

    print("stopped" if embedded_pg.stop() else "not running")
    return 0


COMMANDS = {"start": cmd_start, "test": cmd_test, "lock": cmd_lock, "stop-db": cmd_stop_db}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    command = sys.argv[1]
    os.environ.setdefault(STARTED_AT, str(time.time()))
    if command in ("start", "test"):
        ensure_system_packages(command)
    if command != "lock" or not VENV_PY.exists():
        ensure_venv(command)
    reexec_in_venv()
    return COMMANDS[command](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
