"""What the deployment test checks around the running site (tests/test_deploy.py): the
database-role warnings, `manage.py check` as either role, what the application's role is
refused, a heartbeat through the worker."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import environ
import psycopg
from django.apps import apps

from core import db_guards
from tests.deploy_guide import ROOT, VENV, _base_env

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
