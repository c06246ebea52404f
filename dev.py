#!/usr/bin/env python3
"""Renewal Desk developer entry point: needs only Python 3.11 (standard library) to start.

    python3 dev.py start        # venv + install + database + migrate + cache table + schedules
                                # + demo data, then the web server and the django-q2 cluster;
                                # Ctrl-C stops all
    python3 dev.py test         # the whole suite: ruff, mypy, Django checks, migrations, pytest
    python3 dev.py stop-db      # stop the private PostgreSQL of this checkout now
    python3 dev.py lock         # re-resolve requirements*.lock from pyproject.toml

Without DATABASE_URL a private PostgreSQL cluster in ./var/ is used (config/embedded_pg.py).
The steps live in devtools/ (standard library only as well).
"""

from __future__ import annotations

import os
import sys
import time

from devtools.common import STARTED_AT, VENV_PY
from devtools.database import cmd_stop_db
from devtools.packages import ensure_system_packages
from devtools.start import cmd_start
from devtools.testing import cmd_test
from devtools.venv import cmd_lock, ensure_venv, reexec_in_venv

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
