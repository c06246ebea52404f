"""`dev.py test`: ruff, mypy, Django's checks, the migrations check, then pytest in two shards."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from devtools.common import ROOT, STARTED_AT, VENV_PY, say
from devtools.database import database_env
from devtools.packages import ensure_node_modules

# The whole suite runs as two pytest processes side by side, one per core: the tests that mostly
# wait on other processes (Chromium, the start command, the deploy guide's nginx/gunicorn/worker)
# and everything else. Each has its own test database; their outputs are printed one after the
# other, then one closing line with the totals.
SLOW_SHARD = [
    "tests/e2e",
    "tests/test_deploy.py",
    "tests/test_start_command.py",
    # Real worker processes and clusters killed mid-send, waiting out leases (about 85 s).
    "tests/renewals/alerts/leases",
]


FONT = "import django; django.setup(); from core.pdf import font_path; font_path()"


def run_pytest_shards(py: str, env: dict[str, str]) -> int:
    base = env.get("TEST_DATABASE_NAME") or "test_renewaldesk"
    logs = ROOT / "var" / "test-logs"
    logs.mkdir(parents=True, exist_ok=True)
    # Each shard's log ends with its 30 slowest tests: what to look at when the suite grows.
    shards = {
        "browser and processes": [*SLOW_SHARD, "--durations=30"],
        "the rest": ["tests", *(f"--ignore={path}" for path in SLOW_SHARD), "--durations=30"],
    }
    running = []
    for number, (name, args) in enumerate(shards.items()):
        log = logs / f"pytest-{number}.log"
        # Every test's time, for finding where the suite's minutes go (var/test-logs/*.xml).
        args = [*args, f"--junitxml={logs / f'pytest-{number}.xml'}"]
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
            # The PDFs' CJK font is built once per machine (~12 s of one core). Built here, before
            # the shards start, no test renders its first PDF while the other shard builds it.
            subprocess.run([py, "-c", FONT], cwd=ROOT, env=env, check=True)
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
