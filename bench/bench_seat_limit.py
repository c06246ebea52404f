#!/usr/bin/env python
"""What the purchased-seat limit (statement triggers of migration renewals 0019) costs.

    .venv/bin/python bench/bench_seat_limit.py [--subscriptions 10000] [--seats 20]

Prints, each measured with the limit's triggers on and then off in the same run (the baseline:
the same statement into the same indexed table, the two seat-limit triggers disabled):
  1. one INSERT … SELECT of ``subscriptions × seats`` seats (an import's or a bulk-assign's shape);
  2. re-activating all of them in one UPDATE (a restore);
  3. ``seat_assign`` one seat at a time, 500 times (the page's and the API's path; median ms).
and the ratios on/off. Target: the set-based writes within 1.5x, one assignment within 2x.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402

TRIGGERS = ("renewals_seat_limit_insert", "renewals_seat_limit_update")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--seats", type=int, default=20)
    args = parser.parse_args()
    setup_django()

    from django.db import connection, transaction

    from bench.generate import generate_inventory, generate_org
    from org.models import Person, User
    from renewals.inventory.models import Subscription
    from renewals.usage.models import Seat
    from renewals.usage.services import seat_assign

    generate_org(departments=8, people=max(2000, args.seats * 2), seed=1)
    generate_inventory(
        subscriptions=args.subscriptions, usage_rows=0, seats_per_subscription=0, seed=1
    )
    Subscription.objects.update(seats_purchased=args.seats + 5)
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_superuser": True})
    from org import services as org_services

    org_services.user_set_roles(user=admin, roles=["it_admin"])
    people = list(Person.objects.filter(status="active").values_list("pk", flat=True)[: args.seats])
    total = args.subscriptions * args.seats

    def triggers(enabled: bool) -> None:
        with connection.cursor() as cursor:
            for name in TRIGGERS:
                state = "ENABLE" if enabled else "DISABLE"
                cursor.execute(f"ALTER TABLE renewals_seat {state} TRIGGER {name}")

    def set_based() -> tuple[float, float]:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE renewals_seat_modules, renewals_seat CASCADE")
            start = time.perf_counter()
            with transaction.atomic():
                cursor.execute(
                    "INSERT INTO renewals_seat (subscription_id, person_id, account, "
                    "assigned_on, revoke_reason) SELECT s.id, p, '', DATE '2026-01-01', '' "
                    "FROM renewals_subscription s, unnest(%s::bigint[]) AS p",
                    [people],
                )
            insert = time.perf_counter() - start
            cursor.execute("UPDATE renewals_seat SET revoked_on = DATE '2026-06-01'")
            start = time.perf_counter()
            with transaction.atomic():
                cursor.execute("UPDATE renewals_seat SET revoked_on = NULL")
            update = time.perf_counter() - start
        return insert, update

    def one_by_one() -> float:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE renewals_seat_modules, renewals_seat CASCADE")
        subs = list(Subscription.objects.order_by("pk")[:500])
        person_objs = list(Person.objects.filter(pk__in=people[:1]))
        times = []
        for sub in subs:
            start = time.perf_counter()
            seat_assign(user=admin, subscription=sub, person=person_objs[0])
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    results: dict[str, dict[str, float]] = {}
    for label, enabled in (("limit off (baseline)", False), ("limit on", True)):
        triggers(enabled)
        insert, update = set_based()
        results[label] = {"insert": insert, "update": update, "assign_ms": one_by_one()}
    triggers(True)
    assert Seat.objects.count() == 500
    base, on = results["limit off (baseline)"], results["limit on"]
    print(f"seats: {total:,} ({args.subscriptions:,} subscriptions × {args.seats})")
    print(f"{'':24}{'INSERT (s)':>12}{'UPDATE (s)':>12}{'seat_assign (ms)':>18}")
    for label, row in results.items():
        print(f"{label:24}{row['insert']:>12.2f}{row['update']:>12.2f}{row['assign_ms']:>18.2f}")
    print(
        f"{'ratio on/off':24}{on['insert'] / base['insert']:>11.2f}x"
        f"{on['update'] / base['update']:>11.2f}x{on['assign_ms'] / base['assign_ms']:>17.2f}x"
    )


if __name__ == "__main__":
    main()
