"""The virtual environment in .venv: created with Python 3.11, filled from the command's lock file
(bootstrap: standard library only, runs under any python3), and the re-exec into it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from devtools.common import ROOT, VENV, VENV_PY, run, say

# What each command installs: `start` only what running needs, `test` the test tools too.
LOCKS = {"start": ROOT / "requirements.lock", "test": ROOT / "requirements-dev.lock"}
DEV_LOCK = LOCKS["test"]
# "<lock file name> <sha256 of it>" of what was installed last.
STAMP = VENV / ".renewaldesk-lock-sha256"


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


def reexec_in_venv() -> None:
    if Path(sys.prefix).resolve() != VENV.resolve():
        script = str(ROOT / "dev.py")
        os.execv(str(VENV_PY), [str(VENV_PY), script, *sys.argv[1:]])


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
