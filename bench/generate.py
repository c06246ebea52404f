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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django, timed  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--departments", type=int, default=8)
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.departments < 1 or args.people < 0:
        parser.error("--departments must be at least 1 and --people at least 0")
    setup_django()
    with timed(f"org: {args.departments} departments, {args.people} people"):
        generate_org(departments=args.departments, people=args.people, seed=args.seed)


if __name__ == "__main__":
    main()
