#!/usr/bin/env python
"""Monthly usage briefing PDF for a department with 200 subscriptions and 12 months of usage.

    .venv/bin/python bench/bench_briefing.py [--subscriptions 200] [--repeat 5]

Builds (once; a rerun replaces it) a department with ``--subscriptions`` running subscriptions,
two modules each, 8 seat holders each (some idle, some departed) and 12 months of usage for every
subscription and module, plus a budget. Then prints, as medians over ``--repeat`` runs: the
figures' time and query count, the PDF render time (WeasyPrint, charts included; wall clock and
the process's CPU time), the whole worker step (figures + PDF + stored file + row), the PDF's size and pages, and the peak memory
(Python allocations by tracemalloc, and the process's peak RSS). Target: render <= 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import resource
import statistics
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402

CODE = "bench-brief"


def build(count: int, today: dt.date) -> int:
    """The department and its data; returns its pk."""
    from django.db import transaction

    from budgets import services as budget_services
    from org.models import Department, Person, User
    from renewals.inventory.models import Module, Subscription, Vendor
    from renewals.reports.models import Briefing
    from renewals.usage.models import MonthlyUsage, Seat
    from renewals.usage.selectors import add_months, month_start

    with transaction.atomic():
        department, _ = Department.objects.get_or_create(
            code=CODE, defaults={"name": "基准测试部 Bench"}
        )
        Briefing.objects.filter(department=department).delete()
        Subscription.objects.filter(department=department).delete()  # seats, usage cascade
        Person.objects.filter(department=department).delete()
        vendors = [Vendor.objects.get_or_create(name=f"基准厂商 {i}")[0] for i in range(20)]
        subs = Subscription.objects.bulk_create(
            Subscription(
                ref=f"BB-{i:04d}", vendor=vendors[i % 20], product=f"产品 Product {i}",
                department=department, seats_purchased=10 + i % 40,
                unit_price=Decimal(100 + (i * 37) % 2000), currency="CNY",
                billing_cycle="annual", term_start=today - dt.timedelta(days=200 + i % 300),
                term_end=today + dt.timedelta(days=1 + (i * 7) % 500),
                auto_renew=i % 3 == 0,
            )
            for i in range(count)
        )  # fmt: skip
        modules = Module.objects.bulk_create(
            Module(
                subscription=s, name=f"模块 {k}", unit_price=Decimal(20 * (k + 1)),
                licensed_seats=10,
            )
            for s in subs
            for k in range(2)
        )  # fmt: skip
        people = Person.objects.bulk_create(
            Person(
                employee_no=f"BB{i:06d}", name=f"基准员工{i}", department=department,
                status="left" if i % 25 == 0 else "active",
                left_on=today - dt.timedelta(days=30) if i % 25 == 0 else None,
            )
            for i in range(count * 8)
        )  # fmt: skip
        Seat.objects.bulk_create(
            Seat(
                subscription=s, person=people[n * 8 + k], assigned_on=today - dt.timedelta(days=400),
                last_active_on=today - dt.timedelta(days=5 if k % 4 else 120),
            )
            for n, s in enumerate(subs)
            for k in range(8)
        )  # fmt: skip
        current = month_start(today)
        months = [add_months(current, -i) for i in range(12, 0, -1)]
        rows = []
        for n, s in enumerate(subs):
            for m, month in enumerate(months):
                rows.append(
                    MonthlyUsage(
                        subscription=s, month=month, active_users=(n + m) % s.seats_purchased,
                        tasks_completed=(n * m) % 300 if n % 2 else None,
                    )
                )  # fmt: skip
                for module in modules[2 * n : 2 * n + 2]:
                    rows.append(
                        MonthlyUsage(
                            subscription=s, module=module, month=month, active_users=(n + m) % 4
                        )
                    )
        MonthlyUsage.objects.bulk_create(rows, batch_size=5000)
        budget = budget_services.budget_for(
            department=department, year=add_months(current, -1).year
        )
        if not budget.entries.exists():
            finance = User.objects.filter(is_superuser=True).first() or User.objects.create(
                username="bench-finance", is_superuser=True
            )
            budget_services.budget_allocate(
                budget=budget, amount=Decimal("5000000"), user=finance, memo="基准预算"
            )
    print(
        f"data: {count} subscriptions, {len(modules)} modules, {len(people)} seats, "
        f"{len(rows)} usage rows",
        flush=True,
    )
    return department.pk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    setup_django()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone, translation
    from pypdf import PdfReader

    from core.pdf import font_path, render_pdf
    from org.models import Department
    from renewals.reports.models import Briefing
    from renewals.reports.selectors.briefings import briefing_figures
    from renewals.reports.services import briefings
    from renewals.usage.selectors import add_months, month_start

    today = timezone.localdate()
    month = add_months(month_start(today), -1)
    department = Department.objects.get(pk=build(args.subscriptions, today))
    font_path()  # built once per machine; not part of a render

    figures_s, render_s, render_cpu, worker_s, queries = [], [], [], [], []
    pdf = b""
    for run in range(args.repeat + 1):  # the first run warms caches and is not counted
        with translation.override("zh-hans"):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                figures = briefing_figures(department, month, today=today)
                figures_t = time.perf_counter() - started
            started, cpu = time.perf_counter(), time.process_time()
            pdf = render_pdf(briefings.PDF_TEMPLATE, briefings.briefing_context(figures, pdf=True))
            render_t, cpu_t = time.perf_counter() - started, time.process_time() - cpu
        Briefing.objects.filter(department=department).delete()
        briefing = briefings.briefing_request(
            user=None, department=department, month=month, language="zh-hans", enqueue=False
        )
        started = time.perf_counter()
        done = briefings.briefing_render(briefing_id=briefing.pk, today=today)
        worker_t = time.perf_counter() - started
        assert done is not None and done.status == "ready", done and done.error
        if run:
            figures_s.append(figures_t)
            render_s.append(render_t)
            render_cpu.append(cpu_t)
            worker_s.append(worker_t)
            queries.append(len(captured))
    # Memory in a separate run: tracemalloc slows Python down several times over.
    Briefing.objects.filter(department=department).delete()
    briefing = briefings.briefing_request(
        user=None, department=department, month=month, language="zh-hans", enqueue=False
    )
    tracemalloc.start()
    briefings.briefing_render(briefing_id=briefing.pk, today=today)
    peak_python = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"figures: {statistics.median(figures_s) * 1000:.0f} ms, {max(queries)} queries")
    print(
        f"rows: {len(figures['subscriptions'])} subscriptions, {len(figures['modules'])} modules, "
        f"{len(figures['recommendations'])} recommendations, {len(figures['departed'])} departed"
    )
    print(
        f"PDF render (figures -> bytes): median {statistics.median(render_s):.2f} s, "
        f"max {max(render_s):.2f} s (target <= 2 s); CPU time median "
        f"{statistics.median(render_cpu):.2f} s (what a loaded machine stretches)"
    )
    print(f"worker step (figures + PDF + file + row): median {statistics.median(worker_s):.2f} s")
    print(f"PDF: {len(pdf) / 1024:.0f} KiB, {pages} pages")
    print(f"peak memory: {peak_python / 2**20:.1f} MiB Python (tracemalloc), {rss_mb:.0f} MiB RSS")


if __name__ == "__main__":
    main()
