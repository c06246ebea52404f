#!/usr/bin/env python
"""The KPI dashboard (home page) at 10,000 subscriptions.

    BENCH_DATABASE=renewaldesk_bench_kpi .venv/bin/python bench/bench_dashboard.py \
        [--subscriptions 10000] [--repeat 15]

Data: generated departments and people, N subscriptions with seats, one priced module and 12
months of usage each (1,000,000 usage rows at 10,000 would be 2 x 12 x 10,000 = 240,000 here;
pass --usage-rows to change), and a previous term per subscription whose renewal was recorded
(every 17th late, every 5th cheaper), so every figure of the dashboard has rows to aggregate.

Prints the dashboard's median latency for an IT admin (every department) and for a department
head, each as a ratio to a trivial signed-in page measured in the same run (target <= 3x), and
the query counts with 10 and with N subscriptions (which must not differ). The figures are kept
KPI_CACHE_SECONDS (60 s) per scope; the "cache cold" line recomputes them on every request
(what the first visitor after expiry waits).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402


def add_history() -> None:
    """A previous term for every subscription, recorded as renewed (bulk, COPY)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE renewals_subscriptionterm")
        cursor.execute(
            """
            INSERT INTO renewals_subscriptionterm (subscription_id, term_start, term_end, seats,
                unit_price, currency, rate_to_base, order_ref, description, note, renewed_at)
            SELECT s.id, s.term_start - 365, s.term_start - 1,
                   s.seats_purchased + CASE WHEN s.id % 5 = 0 THEN 2 ELSE 0 END,
                   s.unit_price, s.currency, 1, '', '', '',
                   ((s.term_start - 1 + CASE WHEN s.id % 17 = 0 THEN 4 ELSE -7 END)
                       + time '10:00') AT TIME ZONE 'Asia/Shanghai'
            FROM renewals_subscription s
            """
        )
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--usage-rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.generate import generate_inventory, generate_org
    from org import services
    from org.models import Department

    settings.ALLOWED_HOSTS = ["testserver"]
    generate_org(departments=8, people=2000, seed=1)
    it, _ = services.user_upsert(username="bench-it", display_name="IT", roles=["it_admin"])
    head, _ = services.user_upsert(
        username="bench-head", display_name="部门负责人", roles=["department_head"]
    )
    department = Department.objects.order_by("pk").first()
    assert department is not None
    department.heads.add(head)

    class ColdClient(Client):
        """Empties the cache before each request: the figures are recomputed every time."""

        def get(self, *args: Any, **kwargs: Any) -> Any:
            cache.clear()
            return super().get(*args, **kwargs)

    clients: dict[str, Client] = {}
    for name, user, cls in (
        ("it", it, Client),
        ("head", head, Client),
        ("it-cold", it, ColdClient),
    ):
        client = cls()
        client.force_login(user)
        clients[name] = client
    pages = {
        "trivial (password page)": ("it", "/accounts/password/"),
        "dashboard, IT admin (all)": ("it", "/"),
        "dashboard, department head": ("head", "/"),
        "dashboard, IT admin, figures recomputed (cache cold)": ("it-cold", "/"),
    }

    def query_counts() -> dict[str, int]:
        counts = {}
        for name, (who, url) in pages.items():
            clients[who].get(url)
            with CaptureQueriesContext(connection) as ctx:
                assert clients[who].get(url).status_code == 200, url
            counts[name] = len(ctx.captured_queries)
        return counts

    generate_inventory(subscriptions=10, usage_rows=10 * 2 * 12, seats_per_subscription=5, seed=1)
    add_history()
    small = query_counts()
    started = time.perf_counter()
    usage_rows = args.usage_rows or args.subscriptions * 2 * 12
    generate_inventory(
        subscriptions=args.subscriptions,
        usage_rows=usage_rows,
        seats_per_subscription=5,
        seed=1,
    )
    add_history()
    print(
        f"data: {args.subscriptions} subscriptions, {usage_rows} usage rows, "
        f"{args.subscriptions} past terms ({time.perf_counter() - started:.1f} s to generate)"
    )
    large = query_counts()
    # Pages requested in turn (one request each per round, three warm-up rounds), so a change
    # of load during the run slows every page alike.
    # The cold page empties the cache, so it is timed in its own rounds (with the trivial page,
    # for its ratio) after the others.
    warm = {n: p for n, p in pages.items() if "cold" not in n}
    cold = {n: p for n, p in pages.items() if "cold" in n or n.startswith("trivial")}
    times: dict[str, list[float]] = {name: [] for name in pages}
    cold_trivial: list[float] = []
    for group, rounds in ((warm, args.repeat + 3), (cold, args.repeat + 3)):
        for round_ in range(rounds):
            for name, (who, url) in group.items():
                started = time.perf_counter()
                response = clients[who].get(url)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200
                if round_ >= 3:
                    (cold_trivial if group is cold and name in warm else times[name]).append(
                        elapsed
                    )
    medians = {name: statistics.median(samples) for name, samples in times.items()}
    cold_base = statistics.median(cold_trivial)
    base = medians["trivial (password page)"]
    for name, median in medians.items():
        ratio = median / (cold_base if "cold" in name else base)
        print(
            f"{name:30s} median {median * 1000:7.1f} ms  ratio {ratio:5.2f}  "
            f"queries {small[name]} at 10 / {large[name]} at {args.subscriptions}"
        )
    warm_ratio = max(
        m / base for n, m in medians.items() if n.startswith("dashboard") and "cold" not in n
    )
    cold_ratio = max(m / cold_base for n, m in medians.items() if "cold" in n)
    print(
        f"worst ratio to the trivial page: {warm_ratio:.2f} with the figures cached (target <= 3), "
        f"{cold_ratio:.2f} when they are recomputed; query counts equal: {small == large}; "
        f"measured {time.strftime('%Y-%m-%d %H:%M')}"
    )


if __name__ == "__main__":
    main()
