#!/usr/bin/env python
"""Deterministic data generator that every benchmark shares.

    .venv/bin/python bench/generate.py --departments 8 --people 20000 --seed 1

Writes into the benchmark database (see bench/common.py), replacing what a previous run wrote.
The same seed always gives the same rows. Later capabilities add their own sections here
(subscriptions, seats, usage) so that one command builds a whole data set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django, timed  # noqa: E402


def allow_truncate(cursor: Any) -> None:
    """The CASCADE below reaches the budget ledger and request trails, whose TRUNCATE guard
    (core.db_guards) this transaction lifts: the generator replaces the benchmark database's
    data on purpose."""
    from core.db_guards import ALLOW_SETTING

    cursor.execute(f"SET LOCAL {ALLOW_SETTING} = 'on'")


def generate_org(*, departments: int, people: int, seed: int) -> None:
    """``departments`` departments (a third of them sub-departments) and ``people`` people."""
    from django.db import connection, transaction

    from org import demo
    from org.models import Department, Person

    rng = random.Random(seed)  # noqa: S311 - benchmark data
    today = dt.date(2026, 11, 26)  # fixed, so that a seed always gives the same rows
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Deferred foreign-key checks of earlier writes in this transaction must run before
            # TRUNCATE may proceed.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            allow_truncate(cursor)
            cursor.execute(
                "TRUNCATE org_person, org_department_heads, "
                "org_department_software_admins, org_department RESTART IDENTITY CASCADE"
            )
        tops = max(1, departments - departments // 3)
        created: list[Department] = []
        for i in range(departments):
            parent = created[rng.randrange(tops)] if i >= tops else None
            dept = Department(code=f"b{i:03d}", name=f"部门{i:03d}", parent=parent)
            dept.save()
            created.append(dept)
        batch = []
        for i in range(people):
            left = rng.random() < 1 / 30
            batch.append(
                Person(
                    employee_no=f"B{i:07d}",
                    name=demo.person_name(rng),
                    email=f"b{i:07d}@{demo.EMAIL_DOMAIN}",
                    department=created[rng.randrange(departments)],
                    status=Person.Status.LEFT if left else Person.Status.ACTIVE,
                    left_on=today - dt.timedelta(days=rng.randint(1, 365)) if left else None,
                )
            )
        Person.objects.bulk_create(batch, batch_size=5000)


def generate_inventory(
    *, subscriptions: int, usage_rows: int, seats_per_subscription: int, seed: int
) -> None:
    """``subscriptions`` subscriptions over the generated departments, each with one priced
    module, seats for random people, and ``usage_rows`` monthly usage rows in total (whole
    subscription and module, going back as many months as needed). Bulk paths (COPY) only."""
    from django.db import connection, transaction

    from org.models import Department, Person
    from renewals.demo.inventory import CATALOGUE
    from renewals.inventory.models import Module, Subscription, Vendor

    rng = random.Random(seed)  # noqa: S311 - benchmark data
    today = dt.date(2026, 11, 26)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        allow_truncate(cursor)
        cursor.execute(
            "TRUNCATE renewals_monthlyusage, renewals_seat_modules, renewals_seat, renewals_module, "
            "renewals_subscriptionterm, renewals_subscription, renewals_vendor RESTART IDENTITY CASCADE"
        )
        departments = list(Department.objects.values_list("pk", flat=True))
        people = list(Person.objects.values_list("pk", "department_id"))
        vendors = {p.vendor: Vendor.objects.get_or_create(name=p.vendor)[0] for p in CATALOGUE}
        subs = []
        for i in range(subscriptions):
            product = CATALOGUE[i % len(CATALOGUE)]
            end = today + dt.timedelta(days=rng.randint(-30, 365))
            subs.append(
                Subscription(
                    ref=f"B-{i:06d}", vendor=vendors[product.vendor], product=f"{product.product} #{i}",
                    edition=product.edition, department_id=departments[i % len(departments)],
                    seats_purchased=rng.randint(5, 60), unit_price=product.unit_price,
                    currency="CNY", billing_cycle=product.billing, term_start=end - dt.timedelta(days=365),
                    term_end=end, auto_renew=rng.random() < 0.4, notice_period_days=30,
                )
            )  # fmt: skip
        Subscription.objects.bulk_create(subs, batch_size=5000)
        Module.objects.bulk_create(
            [Module(subscription=s, name="Gantt", unit_price="10.00") for s in subs],
            batch_size=5000,
        )
        modules = dict(Module.objects.values_list("subscription_id", "pk"))
        with cursor.copy(
            "COPY renewals_seat (subscription_id, person_id, account, assigned_on, last_active_on) FROM STDIN"
        ) as copy:
            for sub in subs:
                for person_id, _dept in rng.sample(
                    people, k=min(seats_per_subscription, len(people))
                ):
                    last = today - dt.timedelta(days=rng.randint(0, 200))
                    copy.write_row((sub.pk, person_id, "", today - dt.timedelta(days=400), last))
        months_needed = max(1, -(-usage_rows // (2 * max(subscriptions, 1))))
        written = 0
        with cursor.copy(
            "COPY renewals_monthlyusage (subscription_id, module_id, month, active_users) FROM STDIN"
        ) as copy:
            for back in range(1, months_needed + 1):
                index = today.year * 12 + today.month - 1 - back
                month = dt.date(index // 12, index % 12 + 1, 1)
                for sub in subs:
                    for module in (None, modules[sub.pk]):
                        if written >= usage_rows:
                            break
                        copy.write_row((sub.pk, module, month, rng.randint(0, sub.seats_purchased)))
                        written += 1
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--departments", type=int, default=8)
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--subscriptions", type=int, default=0)
    parser.add_argument("--usage-rows", type=int, default=0, help="monthly usage rows in total")
    parser.add_argument("--seats-per-subscription", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.departments < 1 or args.people < 0:
        parser.error("--departments must be at least 1 and --people at least 0")
    setup_django()
    with timed(f"org: {args.departments} departments, {args.people} people"):
        generate_org(departments=args.departments, people=args.people, seed=args.seed)
    if args.subscriptions:
        label = f"inventory: {args.subscriptions} subscriptions, {args.usage_rows} usage rows"
        with timed(label):
            generate_inventory(
                subscriptions=args.subscriptions,
                usage_rows=args.usage_rows,
                seats_per_subscription=args.seats_per_subscription,
                seed=args.seed,
            )


if __name__ == "__main__":
    main()
