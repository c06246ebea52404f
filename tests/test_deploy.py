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

import os
import re
import secrets
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests import helpers
from tests.deploy_browser import Browser, _cookie_attributes
from tests.deploy_checks import (
    _app_role_attempts,
    _assert_app_commands_unwarned,
    _finish,
    _queue_heartbeat,
    _role_warnings,
    _start_check,
    _step5_loader,
)
from tests.deploy_guide import (
    GUIDE_APP,
    GUIDE_APP_ROLE,
    GUIDE_DATABASE,
    GUIDE_ENV_FILE,
    GUIDE_OWNER,
    HOST,
    ROOT,
    _base_env,
    _bash_environment,
    _nginx_main,
    _nginx_site,
    _production_env_file,
    _step3_statements,
    _step5_script,
    _systemd_environment,
    _unit,
)
from tests.deploy_services import Database, Services, _free_port, _listening, _server, _tool

ADMIN = "it-admin"
ADMIN_PASSWORD = "Deploy-" + secrets.token_urlsafe(12)
STARTUP_SECONDS = 60
# django-q2's cluster runs its scheduler about 30 s after it starts: the heartbeat is due then.
HEARTBEAT_SECONDS = 75


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    started = Services(tmp_path)
    yield started
    leftovers = started.stop_all()
    assert not leftovers, f"left running after the deployment test: {leftovers}"


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
