"""The README's production guide ("### Production", steps 3-8), followed as an IT admin would.

README step 3's SQL run on the tests' PostgreSQL server (the tables' owner role, the
application's role and their database, with this run's names: roles are cluster-wide), an env
file made from .env.example with production values (DEBUG=false, DATABASE_URL the application's
role, OWNER_DATABASE_URL the owner's), README step 5's commands run literally through bash with
that file loaded, gunicorn and the django-q2 worker started with the ExecStart lines of
docs/deploy/*.service (so as the application's role), nginx with docs/deploy/nginx.conf (only
the host name, ports, certificate and media paths swapped) and a Redis server of its own. Then
everything is checked through nginx over HTTPS the way a browser sees it, including that
nothing warns about the database role (/system/, the worker, `manage.py check`) and that the
application's role cannot change or empty the ledger; everything is stopped and dropped again.
Only 127.0.0.1 is used.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import environ
import psutil
import psycopg
import pytest
import redis
from django.apps import apps
from django.conf import settings

from core import db_guards
from tests import helpers

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy"
VENV = ROOT / ".venv"
# The placeholders of the guide's files, and what this test puts in their place.
GUIDE_HOST = "renewals.example.cn"
GUIDE_ENV_FILE = "/etc/renewaldesk.env"
GUIDE_APP = "/srv/renewaldesk/app"
GUIDE_VENV = "/srv/renewaldesk/venv"
GUIDE_DATABASE = "renewaldesk"
GUIDE_OWNER = "renewaldesk_owner"
GUIDE_APP_ROLE = "renewaldesk_app"
HOST = "desk.deploy-test.example"
ADMIN = "it-admin"
ADMIN_PASSWORD = "Deploy-" + secrets.token_urlsafe(12)
STARTUP_SECONDS = 60
# django-q2's cluster runs its scheduler about 30 s after it starts: the heartbeat is due then.
HEARTBEAT_SECONDS = 75


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


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    started = Services(tmp_path)
    yield started
    leftovers = started.stop_all()
    assert not leftovers, f"left running after the deployment test: {leftovers}"


@dataclass(frozen=True)
class Database:
    """README step 3 done on the tests' PostgreSQL server: the two roles and their database."""

    name: str
    owner: str
    app: str
    owner_url: str
    app_url: str


@pytest.fixture
def external_database() -> Iterator[Database]:
    """README step 3's SQL, run as the server's administrator with this run's names: roles are
    cluster-wide and other test runs share the server, so the guide's role and database names
    get a suffix of this run's own (like the paths of step 5). Everything is dropped again,
    whatever happened."""
    run = f"{os.getpid()}_{secrets.token_hex(3)}"
    names = {
        GUIDE_DATABASE: f"renewaldesk_deploy_{run}",
        GUIDE_OWNER: f"rd_deploy_{run}_owner",
        GUIDE_APP_ROLE: f"rd_deploy_{run}_app",
    }
    passwords = {
        names[GUIDE_OWNER]: secrets.token_hex(16),
        names[GUIDE_APP_ROLE]: secrets.token_hex(16),
    }
    database = Database(
        name=names[GUIDE_DATABASE],
        owner=names[GUIDE_OWNER],
        app=names[GUIDE_APP_ROLE],
        owner_url=helpers.database_url(
            names[GUIDE_DATABASE], user=names[GUIDE_OWNER], password=passwords[names[GUIDE_OWNER]]
        ),
        app_url=helpers.database_url(
            names[GUIDE_DATABASE],
            user=names[GUIDE_APP_ROLE],
            password=passwords[names[GUIDE_APP_ROLE]],
        ),
    )
    statements = _step3_statements(names, passwords)
    try:
        with _server() as pg:
            for statement in statements:
                pg.execute(statement)
        yield database
    finally:
        with _server() as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
            for role in (database.app, database.owner):
                pg.execute(f'DROP ROLE IF EXISTS "{role}"')
            left = pg.execute(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
                [[database.app, database.owner]],
            ).fetchall()
        assert not left, f"roles left on the server: {left}"


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


# --- the guide's files -----------------------------------------------------------------------


def _replace(text: str, old: str, new: str, what: str) -> str:
    assert old in text, f"{what}: {old!r} not found; the test follows the guide's file literally"
    return text.replace(old, new)


def _production_env_file(path: Path, values: dict[str, str]) -> None:
    """.env.example with production values filled in (README step 4): every setting the guide
    names must already be there, commented out or not."""
    text = (ROOT / ".env.example").read_text()
    for key, value in values.items():
        found = re.search(rf"^#?\s*{key}=.*$", text, re.MULTILINE)
        assert found, f".env.example does not mention {key}"
        text = f"{text[: found.start()]}{key}={value}{text[found.end() :]}"
    path.write_text(text)
    path.chmod(0o640)


def _systemd_environment(path: Path) -> dict[str, str]:
    """EnvironmentFile= as systemd reads it: KEY=VALUE lines, # and ; comments, one pair of
    surrounding quotes removed."""
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not a KEY=VALUE line: {raw!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _base_env(tmp: Path) -> dict[str, str]:
    """What a service or an admin's login shell has before the env file: no test settings."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }


def _bash_environment(env_file: Path, tmp: Path) -> dict[str, str]:
    """The environment README step 5 gets with `set -a; . file; set +a`."""
    out = subprocess.run(
        ["bash", "-c", f"set -e; set -a; . {shlex.quote(str(env_file))}; set +a; env -0"],
        env=_base_env(tmp),
        capture_output=True,
        check=False,
    )
    assert out.returncode == 0 and not out.stderr, (
        f"`set -a; . {env_file.name}; set +a` fails: {out.stderr.decode()}"
    )
    pairs = (item.partition("=") for item in out.stdout.decode().split("\0") if item)
    return {key: value for key, _, value in pairs}


def _guide_step(number: int) -> str:
    """The text of step ``number`` of README's "### Production"."""
    production = (ROOT / "README.md").read_text().split("### Production", 1)[1]
    return production.split(f"\n{number}. ", 1)[1].split(f"\n{number + 1}. ", 1)[0]


def _step3_statements(names: dict[str, str], passwords: dict[str, str]) -> list[str]:
    """README step 3's SQL, statement by statement, with this run's role and database names
    (``names``: the guide's name -> this run's) and each role's password in place of '…'."""
    block = re.search(r"```sql\n(.*?)```", _guide_step(3), re.DOTALL)
    assert block, "README step 3 has no SQL block"
    sql = "\n".join(line.split("--", 1)[0] for line in block.group(1).splitlines())
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    statements, created = [], set()
    for raw in sql.split(";"):
        statement = " ".join(pattern.sub(lambda m: names[m[1]], raw).split())
        if not statement:
            continue
        role = re.match(r"CREATE ROLE (\w+)", statement)
        if role:
            created.add(role[1])
            statement = _replace(
                statement, "PASSWORD '…'", f"PASSWORD '{passwords[role[1]]}'", "README step 3"
            )
        statements.append(statement)
    owner, app = names[GUIDE_OWNER], names[GUIDE_APP_ROLE]
    assert created == {owner, app}, f"README step 3 should create the two roles: {statements}"
    assert f"CREATE DATABASE {names[GUIDE_DATABASE]} OWNER {owner}" in statements, statements
    return statements


def _step5_script(env_file: Path, app_role: str) -> str:
    """README step 5, word for word with this checkout's paths and this run's application
    role; createsuperuser gets --noinput (its DJANGO_SUPERUSER_* variables stand for the admin
    typing the answers)."""
    step5 = _guide_step(5)
    loader = re.search(r"\(`(set -a;[^`]+)`\)", step5)
    assert loader, "README step 5 no longer says how to load the environment"
    block = re.search(r"```sh\n(.*?)```", step5, re.DOTALL)
    assert block, "README step 5 has no command block"
    commands = []
    for line in block.group(1).splitlines():
        command = line.split("#", 1)[0].strip()
        if not command:
            continue
        if command.endswith("createsuperuser"):
            command += " --noinput"
        commands.append(command)
    assert any("migrate" in c for c in commands) and any("collectstatic" in c for c in commands)
    assert any("createsuperuser" in c for c in commands), "step 5 creates no IT admin"
    script = "\n".join(["set -ex", loader.group(1), *commands])
    script = _replace(script, GUIDE_ENV_FILE, shlex.quote(str(env_file)), "README step 5")
    script = _replace(script, GUIDE_APP, shlex.quote(str(ROOT)), "README step 5")
    script = _replace(script, f" {GUIDE_APP_ROLE} ", f" {app_role} ", "README step 5")
    return _replace(script, GUIDE_VENV, shlex.quote(str(VENV)), "README step 5")


@dataclass(frozen=True)
class Unit:
    exec_start: list[str]
    working_directory: str
    environment_file: str
    kill_mode: str


def _unit(name: str) -> Unit:
    fields: dict[str, str] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key in ("ExecStart", "WorkingDirectory", "EnvironmentFile", "KillMode"):
            fields[key] = value.strip()
    kill_mode = fields.pop("KillMode", "control-group")
    assert kill_mode in ("control-group", "mixed"), f"{name}: KillMode={kill_mode}"
    assert fields.keys() == {"ExecStart", "WorkingDirectory", "EnvironmentFile"}, fields
    argv = [
        str(VENV) + arg.removeprefix(GUIDE_VENV) if arg.startswith(GUIDE_VENV + "/") else arg
        for arg in shlex.split(fields["ExecStart"])
    ]
    return Unit(argv, fields["WorkingDirectory"], fields["EnvironmentFile"], kill_mode)


def _nginx_site(*, https_port: int, http_port: int, upstream: int, cert: Path, key: Path,
                media: Path) -> str:  # fmt: skip
    """docs/deploy/nginx.conf with only the host name, ports and paths swapped; every proxy
    directive stays as it is in the file."""
    what = "docs/deploy/nginx.conf"
    text = (DEPLOY / "nginx.conf").read_text()
    text = _replace(text, f"server_name {GUIDE_HOST};", f"server_name {HOST};", what)
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{http_port};", what)
    text = _replace(text, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;", what)
    text = _replace(text, "server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};", what)
    text = _replace(text, "/etc/ssl/renewaldesk/fullchain.pem", str(cert), what)
    text = _replace(text, "/etc/ssl/renewaldesk/privkey.pem", str(key), what)
    text = _replace(text, "/srv/renewaldesk/media/", f"{media}/", what)
    assert not re.search(rf"^[^#]*{re.escape(GUIDE_HOST)}", text, re.MULTILINE), (
        f"{what} names {GUIDE_HOST} outside server_name: the guide says to replace it"
    )
    return text


def _nginx_main(prefix: Path, site: Path) -> str:
    """The parts of Debian's /etc/nginx/nginx.conf that this site needs, in a private prefix."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers may then use the temp paths
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {prefix / 'access.log'};\n{temp}\n"
        f"    include {site};\n"
        "}\n"
    )


# --- a browser, as far as the checks need one ------------------------------------------------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def json(self) -> dict[str, object]:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data


@dataclass
class Browser:
    """Talks to nginx on 127.0.0.1 with the site's Host header, keeps cookies, never follows
    redirects."""

    https_port: int
    http_port: int
    context: ssl.SSLContext
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        https: bool = True,
        host: str | None = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        conn: http.client.HTTPConnection
        if https:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", self.https_port, timeout=30, context=self.context
            )
            default_host = f"{HOST}:{self.https_port}"
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
            default_host = f"{HOST}:{self.http_port}"
        sent = {"Host": host or default_host, "User-Agent": "deploy-test", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read().decode(errors="replace"))
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(header)
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response

    def get(self, path: str, **kwargs: object) -> Response:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def sign_in(self, username: str, password: str, forwarded_for: str | None = None) -> Response:
        """Like a browser: load the form, post it back with the CSRF cookie and token."""
        page = self.get("/accounts/login/")
        assert page.status == 200, page.body[:2000]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, "no CSRF token on the sign-in page"
        headers = {"Referer": f"{self.origin}/accounts/login/", "Origin": self.origin}
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        form = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
        return self.request("POST", "/accounts/login/", form=form, headers=headers)


def _cookie_attributes(set_cookies: list[str], name: str) -> set[str]:
    for header in reversed(set_cookies):
        if header.startswith(f"{name}="):
            return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie was set: {set_cookies}")


# --- the test --------------------------------------------------------------------------------


@pytest.mark.timeout_heavy
def test_production_guide_deploys_behind_nginx_with_a_redis_worker(
    external_database: Database, services: Services, tmp_path: Path
) -> None:
    started = time.monotonic()
    nginx = _tool("nginx", "/usr/sbin/nginx")
    redis_server = _tool("redis-server", "/usr/bin/redis-server")
    openssl = _tool("openssl", "/usr/bin/openssl")
    web_port, http_port, https_port, redis_port = (_free_port() for _ in range(4))

    # Redis (the guide's apt-get install redis-server; here on a port of its own, no disk).
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    (tmp_path / "redis").mkdir()
    services.start(
        "redis",
        [
            redis_server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(redis_port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path / "redis"),
        ],  # fmt: skip
        env=_base_env(tmp_path),
        cwd=tmp_path,
        port=redis_port,
    )
    broker = redis.Redis.from_url(redis_url, socket_timeout=5)

    def redis_up() -> bool:
        try:
            return bool(broker.ping())
        except redis.RedisError:
            return False

    services.wait_for("redis", redis_up, 20)

    # Step 4: the configuration file, from .env.example.
    env_file = tmp_path / "renewaldesk.env"
    media, static = tmp_path / "media", tmp_path / "static"
    media.mkdir()
    _production_env_file(
        env_file,
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": HOST,
            "CSRF_TRUSTED_ORIGINS": f"https://{HOST}:{https_port}",
            "SITE_URL": f"https://{HOST}:{https_port}",
            "DATABASE_URL": external_database.app_url,
            "OWNER_DATABASE_URL": external_database.owner_url,
            "REDIS_URL": redis_url,
            "EMAIL_URL": "consolemail://",
            "MEDIA_ROOT": str(media),
            "STATIC_ROOT": str(static),
            "SECURE_PROXY_SSL_HEADER": "true",
            "TRUSTED_PROXY_COUNT": "1",
        },
    )
    # bash (step 5, backup.sh) and systemd (step 6) must read the file the same way.
    in_bash = _bash_environment(env_file, tmp_path)
    in_systemd = _systemd_environment(env_file)
    differing = {k: (v, in_bash.get(k)) for k, v in in_systemd.items() if in_bash.get(k) != v}
    assert not differing, f"bash and systemd read the env file differently: {differing}"

    # Step 5: schema, schedules, static files, the first IT admin.
    step5 = subprocess.run(
        ["bash", "-c", _step5_script(env_file, external_database.app)],
        env={
            **_base_env(tmp_path),
            "DJANGO_SUPERUSER_USERNAME": ADMIN,
            "DJANGO_SUPERUSER_EMAIL": "it-admin@example.org",
            "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
        },
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # in order: each command's output after its `set -x` line
        text=True,
        timeout=240,
        check=False,
    )
    assert step5.returncode == 0, f"README step 5 failed:\n{step5.stdout[-5000:]}"
    _assert_app_commands_unwarned(step5.stdout)
    assert (static / "staticfiles.json").exists(), "collectstatic wrote no manifest"
    step5_done = time.monotonic()

    # Step 6: the two systemd units' commands, with the env file as systemd reads it.
    service_env = {**_base_env(tmp_path), **in_systemd}
    web_unit = _unit("renewaldesk-web.service")
    worker_unit = _unit("renewaldesk-worker.service")
    for unit in (web_unit, worker_unit):
        assert unit.working_directory == GUIDE_APP and unit.environment_file == GUIDE_ENV_FILE
    assert "qcluster" in worker_unit.exec_start, worker_unit.exec_start
    web_argv = list(web_unit.exec_start)
    bind = web_argv.index("--bind") + 1
    assert web_argv[bind] == "127.0.0.1:8000", web_argv
    web_argv[bind] = f"127.0.0.1:{web_port}"
    worker = services.start(
        "worker", worker_unit.exec_start, service_env, ROOT, None, worker_unit.kill_mode
    )
    services.start("gunicorn", web_argv, service_env, ROOT, web_port, web_unit.kill_mode)

    # Step 7: nginx with the guide's file and a self-signed certificate.
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    cert, key = prefix / "fullchain.pem", prefix / "privkey.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=DNS:{HOST}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    site = prefix / "renewaldesk.conf"
    site.write_text(
        _nginx_site(
            https_port=https_port,
            http_port=http_port,
            upstream=web_port,
            cert=cert,
            key=key,
            media=media,
        )
    )
    main_conf = prefix / "nginx.conf"
    main_conf.write_text(_nginx_main(prefix, site))
    nginx_argv = [nginx, "-p", str(prefix), "-c", str(main_conf), "-e", str(prefix / "error.log")]
    check = subprocess.run([*nginx_argv, "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, f"nginx -t refuses the guide's nginx.conf:\n{check.stderr}"
    services.start("nginx", nginx_argv, _base_env(tmp_path), prefix, port=https_port)

    services.wait_for("gunicorn", lambda: _listening(web_port), STARTUP_SECONDS)
    services.wait_for("nginx", lambda: _listening(https_port) and _listening(http_port), 20)

    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False  # the certificate names HOST; nginx is reached as 127.0.0.1
    browser = Browser(https_port, http_port, context)

    # Step 8: /healthz through nginx over HTTPS answers with the database ok.
    health = browser.get("/healthz")
    assert health.status == 200, health.body
    assert health.json()["database"] == "ok"

    # HTTP: everything is redirected to HTTPS, except /healthz for probes.
    redirect = browser.get("/accounts/login/?next=/", https=False)
    assert redirect.status == 301, redirect.body
    assert redirect.headers["Location"] == f"https://{HOST}/accounts/login/?next=/"
    probe = browser.get("/healthz", https=False)
    assert probe.status == 200 and probe.json()["database"] == "ok", probe.body

    # The sign-in page with the security headers, and its static files with hashed names.
    login = browser.get("/accounts/login/")
    assert login.status == 200, login.body[:2000]
    assert "max-age=31536000" in (login.headers["Strict-Transport-Security"] or "")
    assert "default-src 'self'" in (login.headers["Content-Security-Policy"] or "")
    assert login.headers["X-Frame-Options"] == "DENY"
    assert login.headers["X-Content-Type-Options"] == "nosniff"
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', login.body)
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for asset in assets:
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", asset), f"not a hashed static name: {asset}"
        served = browser.get(asset)
        assert served.status == 200, f"{asset}: {served.status}"
        assert "immutable" in (served.headers["Cache-Control"] or ""), asset

    # Signing in as the IT admin created in step 5, over HTTPS with CSRF like a browser.
    signed_in = browser.sign_in(ADMIN, ADMIN_PASSWORD)
    assert signed_in.status == 302, f"sign-in refused ({signed_in.status}): {signed_in.body[:2000]}"
    assert signed_in.headers["Location"] == "/"
    assert {"secure", "httponly"} <= _cookie_attributes(browser.set_cookies, "sessionid")
    assert "secure" in _cookie_attributes(browser.set_cookies, "csrftoken")
    home = browser.get("/")
    assert home.status == 200, home.body[:2000]
    assert ADMIN in home.body
    assert browser.get("/admin/").status == 200

    # The system page shows the IT admin no warning about the database role: the web processes
    # run as step 3's application role, which owns nothing and is no superuser.
    system = browser.get("/system/")
    assert system.status == 200 and 'data-testid="worker-status"' in system.body, system.body[:2000]
    assert "database-role-warning" not in system.body, _role_warnings(system.body)

    # A forged Host header is refused by the app although nginx passes it on ($host).
    for https in (True, False):
        forged = browser.get("/healthz", https=https, host="attacker.example.net")
        assert forged.status == 400, f"forged Host (https={https}): {forged.status}"
    assert browser.get("/accounts/login/", host="attacker.example.net").status == 400

    # Sign-in protection counts the address nginx appended, not what the client wrote: six wrong
    # passwords, each with another forged X-Forwarded-For, lock the admin out from here.
    attacker = Browser(https_port, http_port, context)
    statuses = [
        attacker.sign_in(ADMIN, "wrong-password", forwarded_for=f"203.0.113.{n}").status
        for n in range(1, 7)
    ]
    # The form comes back four times; the fifth failure (AXES_FAILURE_LIMIT) locks the pair.
    assert statuses == [200, 200, 200, 200, 429, 429], statuses
    locked = attacker.sign_in(ADMIN, ADMIN_PASSWORD, forwarded_for="198.51.100.7")
    assert locked.status == 429, f"not locked out: {locked.status}"

    # The heartbeat schedule (step 5's sync_schedules) reaches /healthz through nginx: django-q2
    # runs its scheduler about 30 s after the cluster starts.
    def worker_seen() -> bool:
        worker = browser.get("/healthz").json()["worker"]
        return isinstance(worker, dict) and worker.get("status") == "ok"

    # Meanwhile `manage.py check` as an admin would run it, as each of the two roles.
    checks = {role: _start_check(env_file, tmp_path, role) for role in ("owner", "app")}
    try:
        services.wait_for("the worker's heartbeat on /healthz", worker_seen, HEARTBEAT_SECONDS)
    finally:
        checked = {role: _finish(proc) for role, proc in checks.items()}
    # The check is live with these settings: it finds the owner owning the tables...
    assert "renewaldesk.W002" in checked["owner"], checked["owner"]
    # ...and nothing wrong with the application's role, neither in `check` nor at the worker's
    # start (qcluster runs the system checks before it forks).
    assert not _role_warnings(checked["app"]), checked["app"]
    assert not _role_warnings(worker.log.read_text(errors="replace")), worker.tail()
    # What the grants of step 5 leave the application's role: reading and appending only.
    refused = _app_role_attempts(external_database.app_url)
    assert refused == dict.fromkeys(refused, "refused (42501)"), refused

    # The worker takes tasks from Redis: one queued through the app comes back done.
    assert broker.keys("django_q:renewaldesk:cluster:*"), "the worker cluster is not on Redis"
    queued = subprocess.run(
        ["bash", "-c", _step5_loader(env_file) + "; " + _queue_heartbeat()],
        env=_base_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert queued.returncode == 0, f"{queued.stdout}\n{queued.stderr}\n{services.logs()}"
    assert re.search(r"^RESULT \d{4}-\d\d-\d\dT", queued.stdout, re.MULTILINE), queued.stdout
    assert int(broker.info("commandstats")["cmdstat_rpush"]["calls"]) >= 1

    # Everything stops, and nothing stays behind.
    leftovers = services.stop_all()
    assert not leftovers, f"left running: {leftovers}"
    elapsed = time.monotonic() - started
    print(f"deployment test: step 5 {step5_done - started:.0f}s, total {elapsed:.0f}s")


ROLE_WARNING = re.compile(r"renewaldesk\.W\d{3}\b.*")


def _role_warnings(output: str) -> list[str]:
    """The database-role warnings (core.db_roles) in a command's output or a page."""
    return ROLE_WARNING.findall(re.sub(r"<[^>]*>", "", output))


def _assert_app_commands_unwarned(trace: str) -> None:
    """Step 5's output (``set -x``): the commands run as the application's role (those without
    ``DATABASE_URL=`` before them) print no database-role warning."""
    commands: list[tuple[str, list[str]]] = []
    for line in trace.splitlines():
        if line.startswith("+ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    as_app = [
        (command, output)
        for command, output in commands
        if " manage.py " in f"{command} " and not command.startswith("DATABASE_URL=")
    ]
    assert len(as_app) >= 3, f"step 5 runs no commands as the application's role:\n{trace}"
    for command, output in as_app:
        warned = _role_warnings("\n".join(output))
        assert not warned, f"{command.split(' manage.py ')[-1]}: {warned}"


def _start_check(env_file: Path, tmp: Path, role: str) -> subprocess.Popen[str]:
    """`manage.py check` with the env file loaded, as the application's role or the owner."""
    prefix = 'DATABASE_URL="$OWNER_DATABASE_URL" ' if role == "owner" else ""
    python = shlex.quote(str(VENV / "bin" / "python"))
    return subprocess.Popen(
        ["bash", "-c", f"{_step5_loader(env_file)}; {prefix}{python} manage.py check"],
        env=_base_env(tmp),
        cwd=tmp,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> str:
    try:
        output, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    assert proc.returncode == 0, output
    return output


def _app_role_attempts(app_url: str) -> dict[str, str]:
    """What the application's role is refused, connected on its own (SQLSTATE 42501 is
    insufficient_privilege: refused by the grants, before any trigger), and that it may read
    and append all the same."""
    ledger = apps.get_model(db_guards.APPEND_ONLY_MODELS[0])._meta
    table, pk = f'"{ledger.db_table}"', f'"{ledger.pk.column}"'
    attempts = {
        "TRUNCATE the ledger": f"TRUNCATE {table}",
        "UPDATE the ledger": f"UPDATE {table} SET {pk} = {pk}",
        "DELETE from the ledger": f"DELETE FROM {table}",
        "disable the ledger's triggers": f"ALTER TABLE {table} DISABLE TRIGGER ALL",
        "switch triggers off": "SET session_replication_role = replica",
    }
    answers = {}
    # Read the way the app reads it (django-environ): the private cluster's URL names a socket
    # directory (postgres://user@//path/name), which libpq's own URI parser takes as a database.
    cfg = environ.Env.db_url_config(app_url)
    params = {"host": cfg["HOST"], "port": cfg["PORT"] or None, "user": cfg["USER"]}
    with psycopg.connect(
        dbname=cfg["NAME"], password=cfg["PASSWORD"], autocommit=True, **params
    ) as conn:
        for what, sql in attempts.items():
            try:
                conn.execute(sql)
                answers[what] = "accepted"
            except psycopg.Error as error:
                answers[what] = f"refused ({error.sqlstate})"
        tables = db_guards.append_only_tables()
        may = conn.execute(
            "SELECT bool_and(has_table_privilege(t, 'SELECT, INSERT')), "
            "array_agg(t) FILTER (WHERE has_table_privilege(t, 'UPDATE, DELETE, TRUNCATE')) "
            "FROM unnest(%s::text[]) t",
            [tables],
        ).fetchone()
    assert may is not None and may[0] is True, f"the app role cannot read or append: {tables}"
    answers.update({f"change {t}": "accepted" for t in may[1] or []})
    return answers


def _step5_loader(env_file: Path) -> str:
    return f"set -ea; . {shlex.quote(str(env_file))}; set +a; cd {shlex.quote(str(ROOT))}"


def _queue_heartbeat() -> str:
    code = (
        "from django_q.tasks import async_task, result; "
        "task = async_task('org.tasks.heartbeat'); "
        "print('RESULT', result(task, wait=60000))"
    )
    return f"{shlex.quote(str(VENV / 'bin' / 'python'))} manage.py shell -c {shlex.quote(code)}"
