#!/usr/bin/env python
"""The KPI dashboard (home page) at 10,000 subscriptions.

    BENCH_DATABASE=renewaldesk_bench_kpi .venv/bin/python bench/bench_dashboard.py \
        [--subscriptions 10000] [--repeat 15]

Data: generated departments and people, N subscriptions with seats, one priced module and 12
months of usage each (1,000,000 usage rows at 10,000 would be 2 x 12 x 10,000 = 240,000 here;
pass --usage-rows to change), and a previous term per subscription whose renewal was recorded
(every 17th late, every 5th cheaper), so every figure of the dashboard has rows to aggregate.

Prints the dashboard's median latency, each as a ratio to a trivial signed-in page measured in
the same rounds (target <= 3x), and the query counts with 10 and with N subscriptions (which must
not differ), for the three ways a view finds the figures (renewals.reports.services.kpi_store,
the KPI store):

- warm: the scope's figures are stored and recent (IT admin: every department; a head);
- stale: stored but older than KPI_CACHE_SECONDS; served as they are while one refresh is
  queued for the django-q2 worker (the ORM broker here; no worker runs, the queued tasks are
  deleted at the end);
- cold: nothing stored for the scope (its very first view): computed in the request.

The cache is the settings' default without REDIS_URL: the database cache (a table in the
benchmark database, created here like `dev.py start` does), so its reads and writes are in the
timings and the query counts.
"""

from __future__ import annotations

import argparse
import logging
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

    import dataclasses
    import datetime as dt

    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from django_q.models import OrmQ

    from bench.generate import generate_inventory, generate_org
    from org import services
    from org.models import Department
    from renewals.reports.selectors import kpis
    from renewals.reports.services import kpi_store

    call_command("createcachetable", verbosity=0)  # bench.common migrates only
    settings.ALLOWED_HOSTS = ["testserver"]
    logging.getLogger("django-q").setLevel(logging.WARNING)  # "Enqueued" for every stale view
    # Long enough that no stored figures turn stale by themselves during a run.
    settings.KPI_CACHE_SECONDS = 600
    generate_org(departments=8, people=2000, seed=1)
    it, _ = services.user_upsert(username="bench-it", display_name="IT", roles=["it_admin"])
    head, _ = services.user_upsert(
        username="bench-head", display_name="部门负责人", roles=["department_head"]
    )
    department = Department.objects.order_by("pk").first()
    assert department is not None
    department.heads.add(head)
    it_scope = kpis.scope(it)

    def nothing() -> None:
        return None

    def cold() -> None:
        cache.clear()

    def stale() -> None:
        """The IT admin's stored figures made older than KPI_CACHE_SECONDS, no refresh under
        way: the view serves them and queues one refresh."""
        key = kpi_store.stored_key(it_scope)
        board = cache.get(key)
        if board is None:
            board = kpis.dashboard_for(it_scope, timezone.localdate())
        old = timezone.now() - dt.timedelta(seconds=settings.KPI_CACHE_SECONDS + 5)
        cache.set(key, dataclasses.replace(board, computed_at=old), kpi_store.STORED_SECONDS)
        cache.delete(kpi_store.guard_key(it_scope))

    clients: dict[str, Client] = {}
    for name, user in (("it", it), ("head", head)):
        client = Client()
        client.force_login(user)
        clients[name] = client
    trivial = ("it", "/accounts/password/", nothing)
    # Groups timed in their own rounds, each with the trivial page for its ratio (a stale or
    # cold request changes what the next request of the same scope finds).
    groups: dict[str, dict[str, tuple[str, str, Any]]] = {
        "warm": {
            "trivial (password page)": trivial,
            "dashboard, IT admin (all), stored": ("it", "/", nothing),
            "dashboard, department head, stored": ("head", "/", nothing),
        },
        "stale": {
            "trivial (password page)": trivial,
            "dashboard, IT admin, stale, refresh queued": ("it", "/", stale),
        },
        "cold": {
            "trivial (password page)": trivial,
            "dashboard, IT admin, nothing stored": ("it", "/", cold),
        },
    }

    def request(who: str, url: str, prepare: Any) -> float:
        prepare()
        started = time.perf_counter()
        response = clients[who].get(url)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, url
        return elapsed

    def query_counts() -> dict[str, int]:
        counts = {}
        for group in groups.values():
            for name, (who, url, prepare) in group.items():
                request(who, url, prepare)
                prepare()
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
    cache.clear()
    print(
        f"data: {args.subscriptions} subscriptions, {usage_rows} usage rows, "
        f"{args.subscriptions} past terms ({time.perf_counter() - started:.1f} s to generate)"
    )
    large = query_counts()
    ratios: dict[str, float] = {}
    for title, group in groups.items():
        # Pages requested in turn (one request each per round, three warm-up rounds), so a
        # change of load during the run slows every page alike.
        times: dict[str, list[float]] = {name: [] for name in group}
        for round_ in range(args.repeat + 3):
            for name, (who, url, prepare) in group.items():
                elapsed = request(who, url, prepare)
                if round_ >= 3:
                    times[name].append(elapsed)
        medians = {name: statistics.median(samples) for name, samples in times.items()}
        base = medians["trivial (password page)"]
        for name, median in medians.items():
            ratios[name] = median / base
            print(
                f"{title:5s} {name:44s} median {median * 1000:7.1f} ms  ratio {ratios[name]:5.2f}"
                f"  queries {small[name]} at 10 / {large[name]} at {args.subscriptions}"
            )
    OrmQ.objects.all().delete()  # the refreshes queued above (no worker runs here)
    worst = {
        title: max(ratios[n] for n in group if n.startswith("dashboard"))
        for title, group in groups.items()
    }
    print(
        f"worst ratio to the trivial page: stored {worst['warm']:.2f}, stale (served while "
        f"refreshing) {worst['stale']:.2f} (target <= 3 for both), nothing stored "
        f"{worst['cold']:.2f}; query counts equal: {small == large}; "
        f"measured {time.strftime('%Y-%m-%d %H:%M')}"
    )


if __name__ == "__main__":
    main()
