"""The deployment test's processes (each in a session of its own, stopped and checked for
leftovers) and its database on the tests' PostgreSQL server (tests/test_deploy.py)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
import pytest
from django.conf import settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _tool(name: str, *candidates: str) -> str:
    """A system program the guide installs with apt-get (step 1); /usr/sbin is not on every
    user's PATH, so the Debian location is tried too."""
    found = shutil.which(name) or next((c for c in candidates if Path(c).exists()), None)
    if not found:
        pytest.fail(
            f"{name} is not installed: the deployment test needs it (README, Production, step 1). "
            f"Install it with `sudo apt-get install {name}`; `python3 dev.py test` does that "
            "by itself when run as root."
        )
    return found


# --- processes -------------------------------------------------------------------------------


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    port: int | None = None
    # systemd's KillMode: "control-group" (its default) sends SIGTERM to every process of the
    # service at once, "mixed" to the main process only (and SIGKILL to what is left after it).
    kill_mode: str = "control-group"

    def tail(self) -> str:
        return f"--- {self.name} ({self.log}):\n{self.log.read_text(errors='replace')[-3000:]}"


@dataclass
class Services:
    """Every long-running process of the deployment, each in a session (process group) of its
    own, stopped in reverse order with SIGTERM (SIGKILL after a grace period)."""

    tmp: Path
    running: list[Service] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        port: int | None = None,
        kill_mode: str = "control-group",
    ) -> Service:
        log = self.tmp / f"{name}.log"
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        service = Service(name, proc, log, port, kill_mode)
        self.running.append(service)
        return service

    def logs(self) -> str:
        return "\n".join(service.tail() for service in self.running)

    def wait_for(self, what: str, predicate: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            for service in self.running:
                if service.proc.poll() is not None:
                    pytest.fail(
                        f"{service.name} exited ({service.proc.returncode}) while waiting for "
                        f"{what}:\n{self.logs()}"
                    )
            time.sleep(0.5)
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}:\n{self.logs()}")

    def stop_all(self) -> list[str]:
        """Stop everything; returns what was still there afterwards (processes, ports)."""
        leftovers: list[str] = []
        while self.running:
            service = self.running.pop()
            sid = service.proc.pid
            members = [p for p in psutil.process_iter() if _session_of(p) == sid]
            if service.proc.poll() is None:
                if service.kill_mode == "mixed":
                    service.proc.send_signal(signal.SIGTERM)
                else:
                    os.killpg(sid, signal.SIGTERM)
            try:
                service.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                leftovers.append(f"{service.name} did not stop within 30 s of SIGTERM")
            _gone, alive = psutil.wait_procs(members, timeout=10)
            stray = alive + [p for p in psutil.process_iter() if _session_of(p) == sid]
            for process in stray:
                leftovers.append(f"{service.name}: {_describe(process)}")
                try:
                    process.kill()
                except psutil.NoSuchProcess:
                    pass
            if service.proc.poll() is None:
                service.proc.kill()
                service.proc.wait()
            if service.port is not None and _listening(service.port):
                leftovers.append(f"{service.name}: port {service.port} still listening")
        return leftovers


def _session_of(process: psutil.Process) -> int | None:
    try:
        return os.getsid(process.pid)
    except (ProcessLookupError, PermissionError):
        return None


def _describe(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline()) or process.name()
    except psutil.Error:
        return str(process.pid)


@dataclass(frozen=True)
class Database:
    """README step 3 done on the tests' PostgreSQL server: the two roles and their database."""

    name: str
    owner: str
    app: str
    owner_url: str
    app_url: str


def _server() -> psycopg.Connection[tuple[object, ...]]:
    """The tests' PostgreSQL server as its administrator (the tests' own role)."""
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname="postgres",
        autocommit=True,
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"],
    )
