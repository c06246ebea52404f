#!/usr/bin/env python
"""Approval inbox and request list at 10,000 requests; the assessment PDF with 5 quotes.

    .venv/bin/python bench/bench_requests.py [--requests 10000] [--repeat 15]

Prints the median latency of the request list (filtered too), the approval inbox and a request
page (in-process Django test client), each as a ratio to a trivial signed-in page measured in the
same run (target <= 3x), their query counts at 10 and at N requests (must not differ), and the
median time to render the needs-assessment PDF of a request with 5 quotes and 12 months of usage
through its view (target <= 2 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402

# Request i gets STAGES[i % 5]: a mix like a real year's.
STAGES = ["submitted", "in_approval", "approved", "executed", "draft"]


def make_requests(count: int) -> None:
    """One request per subscription (bulk rows; the services are measured elsewhere)."""
    from django.db import connection

    from org.models import User
    from renewals.inventory.models import Subscription
    from renewals.requests.models.approvals import ApprovalStep
    from renewals.requests.models.requests import RenewalRequest

    requester = User.objects.get(username="bench-swadmin")
    subs = list(Subscription.objects.order_by("pk")[:count])
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i, sub in enumerate(subs):
        stage = STAGES[i % len(STAGES)]
        amount = Decimal(sub.seats_purchased) * sub.unit_price
        frozen = stage != "draft"
        rows.append(
            RenewalRequest(
                subscription=sub, department_id=sub.department_id, requested_by=requester,
                purpose="keep", justification="bench", proposed_seats=sub.seats_purchased,
                proposed_term_start=sub.term_end + dt.timedelta(days=1),
                proposed_term_end=sub.term_end + dt.timedelta(days=366), status=stage,
                amount=amount if frozen else None, amount_base=amount if frozen else None,
                round=1 if frozen else 0, fiscal_year=sub.term_end.year + 1,
                submitted_at=now if frozen else None,
                actual_amount=amount if stage == "executed" else None,
                actual_amount_base=amount if stage == "executed" else None,
                actual_currency="CNY" if stage == "executed" else "",
            )
        )  # fmt: skip
    RenewalRequest.objects.bulk_create(rows, batch_size=5000)
    steps = []
    for i, request in enumerate(rows):
        since = now - dt.timedelta(minutes=i)
        if request.status == "submitted":
            steps += [
                ApprovalStep(request=request, round=1, position=1, role="department_head", status="pending", pending_since=since),
                ApprovalStep(request=request, round=1, position=2, role="finance", status="waiting"),
            ]  # fmt: skip
        elif request.status == "in_approval":
            steps += [
                ApprovalStep(request=request, round=1, position=1, role="department_head",
                             status="approved", decided_by=requester, decided_at=now),
                ApprovalStep(request=request, round=1, position=2, role="finance", status="pending",
                             pending_since=since),
            ]  # fmt: skip
    ApprovalStep.objects.bulk_create(steps, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.generate import generate_inventory, generate_org
    from org import services
    from renewals.requests.models.requests import RenewalRequest
    from renewals.requests.selectors.requests import usage_evidence
    from renewals.requests.services import QUOTE_FIELDS  # noqa: F401 - the services load
    from renewals.requests.services.tiers import tiers_ensure_defaults

    settings.ALLOWED_HOSTS = ["testserver"]
    tiers_ensure_defaults()

    def users() -> tuple[Client, Client]:
        it, _ = services.user_upsert(username="bench-it", display_name="IT", roles=["it_admin"])
        fin, _ = services.user_upsert(username="bench-fin", display_name="财务", roles=["finance"])
        services.user_upsert(username="bench-swadmin", display_name="管理员", roles=["it_admin"])
        clients = []
        for user in (it, fin):
            client = Client()
            client.force_login(user)
            clients.append(client)
        return clients[0], clients[1]

    def pages() -> dict[str, tuple[str, str]]:
        busiest = RenewalRequest.objects.filter(status="in_approval").order_by("pk").first()
        assert busiest is not None
        return {
            "trivial (password page)": ("it", "/accounts/password/"),
            "request list": ("it", "/requests/"),
            "request list, filtered + sorted": ("it", "/requests/?status=in_approval&sort=-amount_base"),
            "approval inbox (finance)": ("fin", "/approvals/"),
            "request page": ("it", busiest.get_absolute_url()),
        }  # fmt: skip

    def query_counts(clients: dict[str, Client]) -> dict[str, int]:
        counts = {}
        for name, (who, url) in pages().items():
            clients[who].get(url)
            with CaptureQueriesContext(connection) as ctx:
                assert clients[who].get(url).status_code == 200, url
            counts[name] = len(ctx.captured_queries)
        return counts

    generate_org(departments=8, people=2000, seed=1)
    it, fin = users()
    clients = {"it": it, "fin": fin}
    generate_inventory(subscriptions=10, usage_rows=10 * 2 * 12, seats_per_subscription=5, seed=1)
    make_requests(10)
    small = query_counts(clients)

    started = time.perf_counter()
    generate_inventory(
        subscriptions=args.requests,
        usage_rows=args.requests * 2 * 12,
        seats_per_subscription=5,
        seed=1,
    )
    make_requests(args.requests)
    print(
        f"data: {args.requests} requests over {args.requests} subscriptions, "
        f"{args.requests * 24} usage rows ({time.perf_counter() - started:.1f} s to generate)"
    )
    large = query_counts(clients)

    medians = {}
    for name, (who, url) in pages().items():
        for _ in range(3):
            clients[who].get(url)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = clients[who].get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        medians[name] = statistics.median(times)
    base = medians["trivial (password page)"]
    for name, median in medians.items():
        print(
            f"{name:34s} median {median * 1000:7.1f} ms  ratio {median / base:5.2f}  "
            f"queries {small[name]} at 10 / {large[name]} at {args.requests}"
        )
    worst = max(m / base for n, m in medians.items() if n != "trivial (password page)")
    print(
        f"worst ratio to the trivial page: {worst:.2f} (target <= 3); "
        f"query counts equal: {small == large}"
    )

    # The PDF: a request with 5 quotes (incumbent + 4 alternatives) and 12 months of usage.
    request = RenewalRequest.objects.filter(status="in_approval").order_by("pk").first()
    assert request is not None
    request.evidence = usage_evidence(request.subscription, today=dt.date(2026, 11, 26))
    request.save(update_fields=["evidence"])
    request.quotes.all().delete()
    for n, (vendor, price) in enumerate(
        [
            ("Incumbent", "100"),
            ("Asana", "170"),
            ("ClickUp", "84"),
            ("Monday", "120"),
            ("禅道", "50"),
        ]
    ):
        request.quotes.create(
            vendor_name=vendor, product=f"{vendor} 项目管理", seats=20 + n, unit_price=Decimal(price),
            billing_cycle="monthly", term_months=12, price_increase_cap_percent=Decimal("5"),
            is_incumbent=n == 0,
        )  # fmt: skip
    url = f"/requests/{request.pk}/report.pdf"
    started = time.perf_counter()
    first = it.get(url)
    print(
        f"PDF first render (builds the CJK font if missing): {time.perf_counter() - started:.2f} s"
    )
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    times = []
    for _ in range(5):
        started = time.perf_counter()
        response = it.get(url)
        times.append(time.perf_counter() - started)
    months = len(request.evidence["months"])
    print(
        f"assessment PDF, 5 quotes, {months} months of usage: median {statistics.median(times):.2f} s "
        f"({len(response.content) // 1024} KiB; target <= 2 s)"
    )


if __name__ == "__main__":
    main()
