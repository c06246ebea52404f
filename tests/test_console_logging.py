"""The console log (#15.16): a 403 or 404 is one line, a server error keeps its traceback, and
development e-mails go to files in var/mail/ instead of the console."""

from __future__ import annotations

import io
import logging
import logging.config
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import Cast

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """The console handler exactly as settings.LOGGING configures it, writing to a buffer."""
    stream = io.StringIO()
    logging_config: dict[str, Any] = settings.LOGGING
    config = {**logging_config, "incremental": False}
    config["handlers"] = {"console": {**logging_config["handlers"]["console"], "stream": stream}}
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.django_db
def test_a_forbidden_page_is_one_line_in_the_console(cast: Cast, console: io.StringIO) -> None:
    client = Client()
    client.force_login(cast.employee)
    assert client.get("/budgets/").status_code == 403
    assert client.get("/no-such-page/").status_code == 404
    lines = [line for line in console.getvalue().splitlines() if line.strip()]
    assert any("Forbidden" in line and "/budgets/" in line for line in lines), lines
    assert "Traceback" not in console.getvalue()
    assert len(lines) == 2, lines


def test_a_server_error_keeps_its_traceback(console: io.StringIO) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        logging.getLogger("django.request").error(
            "Internal Server Error: /x/", exc_info=exc, extra={"status_code": 500}
        )
    assert "Traceback" in console.getvalue() and "RuntimeError: boom" in console.getvalue()


def _mail_settings(**env: str) -> str:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "EMAIL_URL", "DJANGO_SETTINGS_MODULE")
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND, getattr(s, 'EMAIL_FILE_PATH', ''))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_development_mail_goes_to_files_in_var_mail() -> None:
    backend, path = _mail_settings(DEBUG="true").split()
    assert backend == "django.core.mail.backends.filebased.EmailBackend"
    assert path == str(ROOT / "var" / "mail")
    # EMAIL_URL decides when it is set.
    assert _mail_settings(DEBUG="true", EMAIL_URL="consolemail://").startswith(
        "django.core.mail.backends.console.EmailBackend"
    )
