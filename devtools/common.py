"""What every step of dev.py shares: the checkout's paths, ``say`` and ``run``."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PY = VENV / "bin" / "python"
# When the command was typed (kept across the re-exec into the venv), for "ready in N s".
STARTED_AT = "RENEWALDESK_STARTED_AT"


def say(message: str) -> None:
    """A step, with the seconds since the command was typed (a newcomer sees where time goes)."""
    started = float(os.environ.get(STARTED_AT) or time.time())
    print(f"\033[1m==> [{time.time() - started:4.0f} s] {message}\033[0m", flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    subprocess.run(cmd, check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]
