"""The README's production guide and docs/deploy/ as tests/test_deploy.py follows them: the
guide's placeholders, its steps' SQL and commands, the systemd units and the nginx site."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

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
