"""`dev.py start`: the database brought up to date and filled with demo data, then the web server
and the django-q2 cluster side by side until Ctrl-C (inside the venv)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from devtools.common import ROOT, STARTED_AT, VENV_PY, run, say
from devtools.database import database_env


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


def prepare(env: dict[str, str], debug: bool) -> None:
    """Everything before serving: the database, its schema, the cache table, the schedules, the
    demo data, the PDF font and (DEBUG=false) the static files."""
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


def launch(children: Children, env: dict[str, str], bind: str) -> threading.Event:
    """The web server and the worker cluster; the event is set once the worker says it runs."""
    children.spawn("web", [str(VENV_PY), "manage.py", "runserver", bind], env)
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
    return worker_up


DEMO_SCIM_TOKEN = "demo-scim-token"  # a local stand-in for a tool: not a secret of anyone's


def demo_scim_tool(env: dict[str, str]) -> tuple[subprocess.Popen[bytes] | None, str]:
    """A SCIM 2.0 service standing in for a SaaS tool beside the demo (scim2-server, in memory,
    on 127.0.0.1:DEMO_SCIM_PORT, 8090), filled with a demo subscription's accounts, so a new IT
    admin can try a usage connector (docs/connectors.md). DEMO_SCIM=0 leaves it out; a port in
    use leaves it out too. Returns the process and the banner's line about it."""
    if _off(env, "DEMO_SCIM"):
        return None, ""
    port = int(env.get("DEMO_SCIM_PORT", "8090"))
    with contextlib.closing(socket.socket()) as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return None, f"(No demo SCIM tool: port {port} is in use; set DEMO_SCIM_PORT.)"
    server = VENV_PY.with_name("scim2-server")
    proc = subprocess.Popen(
        [str(server), "--hostname", "127.0.0.1", "--port", str(port), "--bearer-token", DEMO_SCIM_TOKEN],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.closing(socket.socket()) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    url = f"http://127.0.0.1:{port}/v2"
    filled = subprocess.run(
        [str(VENV_PY), "manage.py", "demo_scim_tool", "--url", url, "--token", DEMO_SCIM_TOKEN],
        cwd=ROOT, env={**env, "LOG_LEVEL": "WARNING"}, capture_output=True, check=False,
    )  # fmt: skip
    if filled.returncode != 0:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return None, "(No demo SCIM tool: " + filled.stderr.decode(errors="replace").strip()[
            -300:
        ] + ")"
    return proc, filled.stdout.decode(errors="replace").strip()


def _off(env: dict[str, str], name: str) -> bool:
    return env.get(name, "1").lower() in ("0", "false", "no", "off")


def _stop_group(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a helper started in its own session (SIGINT, then SIGKILL after 10 s)."""
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def chat_standin(env: dict[str, str]) -> tuple[subprocess.Popen[bytes] | None, str]:
    """A local stand-in of the chat platforms (tests/fakes/chat_standin.py: a fake Feishu and a
    fake DingTalk, and a "phone" page on 127.0.0.1:DEMO_CHAT_PORT, 8091) so a new user can try
    the approval cards of docs/chat.md. DEMO_CHAT=0 leaves it out; a port in use leaves it out
    too. Returns the process and its address, or None and the banner's line saying why not."""
    if _off(env, "DEMO_CHAT"):
        return None, ""
    port = int(env.get("DEMO_CHAT_PORT", "8091"))
    with contextlib.closing(socket.socket()) as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return None, f"(No chat platforms stand-in: port {port} is in use; set DEMO_CHAT_PORT.)"
    proc = subprocess.Popen(
        [str(VENV_PY), "-m", "tests.fakes.chat_standin", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.closing(socket.socket()) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.2)
    _stop_group(proc)
    return None, "(No chat platforms stand-in: it did not start.)"


def demo_chat(env: dict[str, str], proc: subprocess.Popen[bytes], url: str) -> str:
    """Point the demo's chat apps at the stand-in (manage.py demo_chat; the web server must be
    answering: Feishu checks the callback address). The banner's line about it ("" and the
    stand-in stopped when that failed)."""
    done = subprocess.run(
        [str(VENV_PY), "manage.py", "demo_chat", "--standin", url],
        cwd=ROOT, env={**env, "LOG_LEVEL": "WARNING"}, capture_output=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        _stop_group(proc)
        why = done.stderr.decode(errors="replace").strip()[-300:]
        return f"(No chat platforms stand-in: {why})"
    return done.stdout.decode(errors="replace").strip()


def announce(started: float, address: str, banner: str, debug: bool) -> None:
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


def supervise(children: Children, stopping: threading.Event) -> int:
    """Until Ctrl-C (0) or a child ends on its own (1); then both are stopped."""
    exit_code = 0
    try:
        while not stopping.is_set():
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


def cmd_start(argv: list[str]) -> int:
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
    prepare(env, debug)

    children = Children()
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda _signum, _frame: stopping.set())
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    say("starting the web server and the django-q2 worker")
    # The banner's list of demo users, read while the server starts.
    users = subprocess.Popen(
        [str(VENV_PY), "manage.py", "demo_users"], cwd=ROOT, env=env, stdout=subprocess.PIPE
    )
    scim, scim_line = demo_scim_tool(env) if debug else (None, "")
    chat, chat_url = chat_standin(env) if debug else (None, "")
    try:
        worker_up = launch(children, env, f"{args.host}:{args.port}")
        ready = wait_until_ready(
            address + "/accounts/login/", worker_up, children, stop=stopping.is_set
        )
        banner = users.communicate()[0].decode(errors="replace").strip()
        chat_line = chat_url if chat is None else ""  # why there is none
        if chat is not None and ready and not stopping.is_set():
            chat_line = demo_chat(env, chat, chat_url)
            if chat_line.startswith("(No "):
                chat = None  # demo_chat stopped it
        for line in (scim_line, chat_line):
            if line:
                banner = f"{banner}\n{line}".strip()
        if ready and not stopping.is_set():
            announce(started, address, banner, debug)
        return supervise(children, stopping)
    finally:
        _stop_group(scim)
        _stop_group(chat)
