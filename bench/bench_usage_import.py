#!/usr/bin/env python
"""Import of 1,000,000 monthly-usage rows against `psql \\copy` of the same file.

    .venv/bin/python bench/bench_usage_import.py [--rows 1000000]

Prints: the baseline (psql \\copy into a same-shaped table, text columns parsed as in the file),
the import's check (the preview) and its commit (load, check again, upsert, one transaction), a
re-import of the same file (every row unchanged), and the ratios to the baseline. Target: the
commit within 2x of \\copy. Then a second baseline, labelled as such: \\copy of the same rows
already typed (ids resolved) into a table LIKE renewals_monthlyusage INCLUDING ALL, i.e. the cost
of writing the rows into the indexed table alone, and the commit's ratio to it.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--subscriptions", type=int, default=10_000)
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from bench.generate import generate_inventory, generate_org
    from config import embedded_pg
    from org.models import User
    from renewals.imports import services as imports
    from renewals.imports.models import ImportJob
    from renewals.usage.models import MonthlyUsage

    generate_org(departments=8, people=2000, seed=1)
    generate_inventory(
        subscriptions=args.subscriptions, usage_rows=0, seats_per_subscription=1, seed=1
    )
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_superuser": True})
    settings.IMPORT_BACKGROUND_BYTES = 10**12  # measure the import itself, not a queue
    settings.IMPORT_MAX_BYTES = 10**12

    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"usage-{args.rows}.csv"
    per_month = 2 * args.subscriptions
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["subscription", "module", "month", "active_users", "tasks_created", "tasks_completed"]
        )
        for i in range(args.rows):
            back, rest = divmod(i, per_month)
            sub, is_module = divmod(rest, 2)
            index = 2026 * 12 + 10 - 1 - back
            month = f"{index // 12}-{index % 12 + 1:02d}"
            writer.writerow(
                [
                    f"B-{sub:06d}",
                    "Gantt" if is_module else "",
                    month,
                    i % 50,
                    (i % 50) * 3,
                    (i % 50) * 2,
                ]
            )
    size_mb = path.stat().st_size / 1024 / 1024
    print(f"file: {args.rows} rows, {size_mb:.1f} MB ({path})")

    # Baseline: psql \copy of the same file into a table of the same shape.
    db = settings.DATABASES["default"]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_usage_copy")
        cursor.execute(
            "CREATE TABLE bench_usage_copy (subscription text, module text, month text, "
            "active_users integer, tasks_created integer, tasks_completed integer)"
        )
    psql = str(embedded_pg.find_bin_dir() / "psql")
    env = {**os.environ, "PGPASSWORD": str(db["PASSWORD"] or "")}
    command = [
        psql,
        "-X",
        "-q",
        "-h",
        str(db["HOST"]),
        "-U",
        str(db["USER"]),
        "-d",
        str(db["NAME"]),
    ]
    if db["PORT"]:
        command += ["-p", str(db["PORT"])]
    started = time.perf_counter()
    subprocess.run(
        [*command, "-c", f"\\copy bench_usage_copy FROM '{path}' WITH (FORMAT csv, HEADER true)"],
        check=True, env=env,
    )  # fmt: skip
    baseline = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_usage_copy")
        assert cursor.fetchone()[0] == args.rows
        cursor.execute("DROP TABLE bench_usage_copy")
    print(f"psql \\copy baseline: {baseline:.2f} s")

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE renewals_monthlyusage")
        cursor.execute("VACUUM ANALYZE renewals_monthlyusage")
    ImportJob.objects.all().delete()

    def timed_import(label: str) -> tuple[float, float, ImportJob]:
        upload = SimpleUploadedFile(path.name, path.read_bytes(), "text/csv")
        started = time.perf_counter()
        job = imports.import_upload(user=admin, kind="usage", upload=upload)
        check = time.perf_counter() - started
        assert job.status == "ready", (job.failure_text, job.errors[:3])
        started = time.perf_counter()
        job = imports.import_commit(user=admin, job=job)
        commit = time.perf_counter() - started
        assert job.status == "done", job.failure_text
        print(
            f"{label}: check {check:.2f} s ({check / baseline:.1f}x), commit {commit:.2f} s "
            f"({commit / baseline:.1f}x), summary { ({k: job.summary[k] for k in ('created', 'updated', 'unchanged')}) }"
        )
        return check, commit, job

    _check, commit, _job = timed_import("import (new rows)")
    assert MonthlyUsage.objects.count() == args.rows
    timed_import("re-import (nothing changes)")
    print(f"ratio commit / \\copy: {commit / baseline:.2f} (target <= 2)")

    # A second baseline: what writing the rows alone costs, without reading, typing or checking
    # the file. The same rows, already typed (subscription and module ids resolved, months as
    # dates), in the order the import inserts them, \copy'd into a table created LIKE
    # renewals_monthlyusage INCLUDING ALL: same columns, defaults, check constraints and indexes
    # (LIKE copies no foreign keys).
    typed = out / f"usage-{args.rows}-typed.csv"
    columns = "subscription_id, module_id, month, active_users, tasks_created, tasks_completed"
    subprocess.run(
        [*command, "-c", f"\\copy (SELECT {columns} FROM renewals_monthlyusage "
         f"ORDER BY subscription_id, module_id, month) TO '{typed}' WITH (FORMAT csv)"],
        check=True, env=env,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_usage_typed")
        cursor.execute("CREATE TABLE bench_usage_typed (LIKE renewals_monthlyusage INCLUDING ALL)")
    started = time.perf_counter()
    subprocess.run(
        [*command, "-c", f"\\copy bench_usage_typed ({columns}) FROM '{typed}' WITH (FORMAT csv)"],
        check=True, env=env,
    )  # fmt: skip
    typed_baseline = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_usage_typed")
        assert cursor.fetchone()[0] == args.rows
        cursor.execute("DROP TABLE bench_usage_typed")
    print(
        f"second baseline, typed rows \\copy'd into a table LIKE renewals_monthlyusage "
        f"INCLUDING ALL (same columns, constraints, indexes; no foreign keys): "
        f"{typed_baseline:.2f} s ({typed_baseline / baseline:.1f}x the file's \\copy); "
        f"ratio commit / typed \\copy: {commit / typed_baseline:.2f}"
    )
    typed.unlink()
    path.unlink()


if __name__ == "__main__":
    main()
