#!/usr/bin/env python
"""The budget overview for 200 departments with 1,000,000 ledger entries.

    .venv/bin/python bench/bench_budget_overview.py [--departments 200] [--entries 1000000]

Prints the overview's median latency against a trivial signed-in page (target <= 3x) and its query
count with 10 and with 200 departments (which must not differ).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--departments", type=int, default=200)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.generate import generate_org
    from budgets.models import Budget
    from org import services

    settings.ALLOWED_HOSTS = ["testserver"]
    year = 2026

    def prepare(departments: int, entries: int) -> None:
        generate_org(departments=departments, people=0, seed=1)  # also empties the budgets
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO budgets_budget (department_id, year, reserve_percent, created_at) SELECT id, %s, 15, now() FROM org_department",
                [year],
            )
            # Entries spread over the budgets: allocations, commitments, releases, actuals.
            cursor.execute("SELECT min(id), count(*) FROM budgets_budget")
            first, count = cursor.fetchone()
            cursor.execute(
                "INSERT INTO budgets_ledgerentry (budget_id, kind, category, amount, original_currency, memo, reference, created_at) "
                "SELECT b.id, (ARRAY['allocation','commitment','commitment_release','actual'])[1 + g %% 4], '', "
                "(1 + g %% 1000)::numeric, '', 'bench', CASE WHEN g %% 4 IN (1, 2, 3) THEN 'r:' || g ELSE '' END, now() "
                "FROM generate_series(1, %s) g JOIN budgets_budget b ON b.id = %s + g %% %s",
                [entries, first, count],
            )
            cursor.execute("ANALYZE")

    user, _ = services.user_upsert(
        username="bench-finance", display_name="Bench Finance", roles=["finance"]
    )
    client = Client()

    def counts() -> dict[str, int]:
        client.force_login(user)
        out = {}
        for name, url in (
            ("trivial", "/accounts/password/"),
            ("overview", f"/budgets/?year={year}"),
        ):
            client.get(url)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            out[name] = len(ctx.captured_queries)
        return out

    prepare(10, 1000)
    small = counts()
    started = time.perf_counter()
    prepare(args.departments, args.entries)
    print(
        f"data: {args.departments} departments, {Budget.objects.count()} budgets, {args.entries} entries ({time.perf_counter() - started:.1f} s)"
    )
    large = counts()
    medians = {}
    for name, url in (("trivial", "/accounts/password/"), ("overview", f"/budgets/?year={year}")):
        for _ in range(3):
            client.get(url)
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            client.get(url)
            samples.append(time.perf_counter() - started)
        medians[name] = statistics.median(samples)
    ratio = medians["overview"] / medians["trivial"]
    print(f"trivial page median {medians['trivial'] * 1000:.1f} ms")
    print(
        f"budget overview median {medians['overview'] * 1000:.1f} ms, ratio {ratio:.2f} (target <= 3)"
    )
    print(
        f"queries: {small['overview']} at 10 departments / {large['overview']} at {args.departments}"
    )


if __name__ == "__main__":
    main()
