"""Production settings: check --deploy is clean, a missing secret stops start-up loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.db_roles import PASSWORD as ROLE_PASSWORD
from tests.db_roles import granted_role
from tests.helpers import database_url

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x9!Qm2#rT7vLp4@Zs8&Kd1^Hf6*Nw3(Bj5)Yc0_Ug-Ae+Io=Xr~Ml",
    "ALLOWED_HOSTS": "renewals.example.cn",
    "CSRF_TRUSTED_ORIGINS": "https://renewals.example.cn",
    "SECURE_PROXY_SSL_HEADER": "true",
    "SITE_URL": "https://renewals.example.cn",
}


@pytest.mark.django_db(transaction=True)
def test_check_deploy_is_clean_with_production_values() -> None:
    # Connected as README's application role: not a superuser, owning nothing.
    with granted_role() as role:
        url = database_url(user=role, password=ROLE_PASSWORD)
        result = _manage(
            "check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION, DATABASE_URL=url
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.django_db
def test_start_up_warns_when_the_app_connects_as_a_superuser_owner() -> None:
    result = _manage("check", **PRODUCTION, DATABASE_URL=database_url())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "renewaldesk.W001" in result.stderr and "renewaldesk.W002" in result.stderr


def test_missing_secret_key_stops_start_up_with_a_clear_message() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", **env, DATABASE_URL=database_url())
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_non_postgresql_database_url_is_refused() -> None:
    result = _manage("check", DEBUG="true", DATABASE_URL="mysql://u:p@127.0.0.1/db")
    assert result.returncode != 0
    assert "PostgreSQL only" in result.stderr


def test_production_security_settings(settings: object) -> None:
    result = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, s.TIME_ZONE, s.BASE_CURRENCY)",
        **PRODUCTION,
        DATABASE_URL=database_url(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "31536000",
        "True",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "Asia/Shanghai",
        "CNY",
    ]


@pytest.mark.django_db
def test_responses_carry_the_security_headers(client: object) -> None:
    response = client.get("/accounts/login/")  # type: ignore[attr-defined]
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_redis_url_switches_the_worker_broker_to_redis() -> None:
    result = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; print('redis' in s.Q_CLUSTER, 'orm' in s.Q_CLUSTER)",
        DEBUG="true",
        REDIS_URL="redis://127.0.0.1:6379/5",
        DATABASE_URL=database_url(),
    )
    assert result.stdout.split() == ["True", "False"], result.stderr


def test_worker_timeout_is_well_below_retry() -> None:
    q = settings.Q_CLUSTER
    assert int(q["timeout"]) * 1.5 <= int(q["retry"])  # type: ignore[call-overload]
    assert 1 <= int(q["max_attempts"]) <= 5  # type: ignore[call-overload]
