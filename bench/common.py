"""Shared set-up for benchmark scripts: a separate database, Django configured, timings printed.

Benchmarks never touch the development database: they use ``renewaldesk_bench`` (or
``$BENCH_DATABASE``) on the same server (the private cluster in var/, or the server in DATABASE_URL), created and migrated on demand.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# BENCH_DATABASE: another name, so two people benchmarking on one server do not overwrite each
# other's generated data.
BENCH_DB = os.environ.get("BENCH_DATABASE", "renewaldesk_bench")


def setup_django() -> None:
    """Point Django at the benchmark database, create and migrate it, and call django.setup()."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import environ
    import psycopg

    if os.environ.get("DATABASE_URL"):
        cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
        params = {
            "host": cfg["HOST"] or None,
            "port": cfg["PORT"] or None,
            "user": cfg["USER"] or None,
            "password": cfg["PASSWORD"] or None,
        }
        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        os.environ["DATABASE_URL"] = f"{base}/{BENCH_DB}"
    else:
        from config import embedded_pg

        conn = embedded_pg.acquire()
        params = {
            "host": str(conn.socket_dir),
            "port": conn.port,
            "user": conn.user,
            "password": None,
        }
        os.environ["DATABASE_URL"] = conn.url(BENCH_DB)
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as pg:  # type: ignore[arg-type]
        if not pg.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            pg.execute(f'CREATE DATABASE "{BENCH_DB}"')

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--noinput", verbosity=0)


@contextmanager
def timed(label: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    print(f"{label}: {time.perf_counter() - started:.2f} s", flush=True)


def interleaved_medians(client: Any, pages: dict[str, str], repeat: int) -> dict[str, float]:
    """Median seconds per page, the pages requested in turn (one request each per round), so
    that a machine whose load changes during the run slows every page alike and the ratios to
    the trivial page stay comparable; three warm-up rounds first."""
    import statistics

    times: dict[str, list[float]] = {name: [] for name in pages}
    for round_ in range(repeat + 3):
        for name, url in pages.items():
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (url, response.status_code)
            if round_ >= 3:
                times[name].append(elapsed)
    return {name: statistics.median(samples) for name, samples in times.items()}
