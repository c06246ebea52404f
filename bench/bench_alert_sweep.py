#!/usr/bin/env python
"""The daily alert sweep over 100,000 subscriptions of which 10% are due today.

    .venv/bin/python bench/bench_alert_sweep.py [--subscriptions 100000]

Prints the sweep's wall time and query count (sending excluded), then the same for a second
run on the same day (which must add nothing), and the query count at 1,000 subscriptions to
show it does not grow. Target: <= 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscriptions", type=int, default=100_000)
    args = parser.parse_args()
    setup_django()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.generate import generate_inventory, generate_org
    from org import services
    from org.models import Department
    from renewals.alerts import services as alerts
    from renewals.alerts.models import AlertDelivery
    from renewals.inventory.models import Subscription

    today = dt.date(2026, 11, 26)

    def prepare(count: int) -> None:
        generate_org(departments=8, people=200, seed=1)
        generate_inventory(subscriptions=count, usage_rows=0, seats_per_subscription=0, seed=1)
        admin, _ = services.user_upsert(
            username="bench-it", display_name="Bench IT", roles=["it_admin"]
        )
        for i, department in enumerate(Department.objects.all()):
            user, _ = services.user_upsert(
                username=f"bench-sw{i}", display_name=f"SW {i}", roles=["software_admin"]
            )
            department.software_admins.add(user)
        # 10% due today: spread over the 60/30/7-day thresholds; the rest far away.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE renewals_subscription SET auto_renew = false, status = 'active', "
                "term_end = CASE WHEN id %% 10 = 0 THEN %s::date + (ARRAY[60, 30, 7])[1 + (id / 10) %% 3] "
                "ELSE %s::date + 200 END, term_start = %s::date - 200",
                [today, today, today],
            )
            cursor.execute("TRUNCATE renewals_alertdelivery")
            cursor.execute("ANALYZE")

    def sweep(label: str) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = alerts.alerts_sweep(today=today)
            elapsed = time.perf_counter() - started
        print(
            f"{label}: {elapsed:.2f} s, {len(queries.captured_queries)} queries, {result.pending} deliveries recorded"
        )
        return elapsed, len(queries.captured_queries)

    prepare(1000)
    _, small = sweep("1,000 subscriptions")
    prepare(args.subscriptions)
    due = Subscription.objects.filter(term_end__lte=today + dt.timedelta(days=60)).count()
    print(f"{args.subscriptions} subscriptions, {due} due today")
    elapsed, large = sweep(f"{args.subscriptions:,} subscriptions")
    sweep("second run, same day")
    print(
        f"deliveries recorded: {AlertDelivery.objects.count()}; query count {small} at 1,000 / {large} at {args.subscriptions:,}"
    )
    print(f"sweep time {elapsed:.2f} s (target <= 2 s)")


if __name__ == "__main__":
    main()
