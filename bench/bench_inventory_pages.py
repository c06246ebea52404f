#!/usr/bin/env python
"""Subscriptions list and subscription detail at 10,000 subscriptions / 1,000,000 usage rows.

    .venv/bin/python bench/bench_inventory_pages.py [--subscriptions 10000] [--usage-rows 1000000]

Prints the median latency of each page (in-process Django test client, signed in as an IT admin
who sees everything), its ratio to a trivial signed-in page measured in the same run (target
<= 3x), and the query count of each page at 10 and at N subscriptions (which must not differ).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import interleaved_medians, setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--usage-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.generate import generate_inventory, generate_org
    from org import services
    from renewals.inventory.models import Subscription

    settings.ALLOWED_HOSTS = ["testserver"]
    user, _ = services.user_upsert(username="bench-it", display_name="Bench IT", roles=["it_admin"])
    client = Client()
    client.force_login(user)

    def pages() -> dict[str, str]:
        busiest = Subscription.objects.order_by("-seats_purchased", "pk").first()
        assert busiest is not None
        return {
            "trivial (password page)": "/accounts/password/",
            "subscriptions list": "/subscriptions/",
            "subscriptions list, filtered + sorted": "/subscriptions/?renews_within=90&sort=-annual_cost",
            "subscription detail": f"/subscriptions/{busiest.pk}/",
        }

    def query_counts() -> dict[str, int]:
        counts = {}
        for name, url in pages().items():
            client.get(url)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts[name] = len(ctx.captured_queries)
        return counts

    generate_org(departments=8, people=2000, seed=1)
    services.user_upsert(username="bench-it", display_name="Bench IT", roles=["it_admin"])
    generate_inventory(subscriptions=10, usage_rows=10 * 2 * 12, seats_per_subscription=5, seed=1)
    small = query_counts()
    started = time.perf_counter()
    generate_inventory(
        subscriptions=args.subscriptions,
        usage_rows=args.usage_rows,
        seats_per_subscription=5,
        seed=1,
    )
    print(
        f"data: {args.subscriptions} subscriptions, {args.usage_rows} usage rows ({time.perf_counter() - started:.1f} s to generate)"
    )
    # Time the pages on a settled database (vacuumed and analysed, as autovacuum leaves it
    # shortly after a bulk load), so that autovacuum does not start on the new rows while the
    # pages are timed. The generator's module insert rewrites every subscription row once (the
    # modules-cost trigger).
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (
            "renewals_subscription", "renewals_module", "renewals_seat",
            "renewals_seat_modules", "renewals_monthlyusage",
        ):  # fmt: skip
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"vacuum analyze: {time.perf_counter() - started:.1f} s")
    large = query_counts()

    medians = interleaved_medians(client, pages(), args.repeat)
    base = medians["trivial (password page)"]
    for name, median in medians.items():
        print(
            f"{name:40s} median {median * 1000:7.1f} ms  ratio {median / base:5.2f}  "
            f"queries {small[name]} at 10 / {large[name]} at {args.subscriptions}"
        )
    worst = max(m / base for n, m in medians.items() if n != "trivial (password page)")
    print(
        f"worst ratio to the trivial page: {worst:.2f} (target <= 3); query counts equal: {small == large}"
    )


if __name__ == "__main__":
    main()
