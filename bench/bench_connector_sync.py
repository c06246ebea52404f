#!/usr/bin/env python
"""A usage connector's sync (issue #20) against a real SCIM server, against httpx alone.

    .venv/bin/python bench/bench_connector_sync.py [--accounts 20000] [--repeat 3]

Starts scim2-server (tests/integrations/connectors/scim_server.py) on 127.0.0.1 and fills it
with ``--accounts`` users over its API (a third matched to people here by e-mail, a third by
employee number, the rest unknown), then prints, in one run:
  1. the baseline: a bare paginated fetch of the same accounts with httpx (GET /Users,
     startIndex/count, the page size the connector uses, JSON decoded), nothing else;
  2. the first sync into an empty connector (``sync_connector``): time and ratio to the fetch
     (target <= 2x), and its split: the reader (``scim.read``) and applying;
  3. a second, unchanged sync (target <= 1.2x the fetch);
  4. the queries of applying 1,000 and 10,000 accounts (new, then unchanged): fixed;
  5. revoking 500 accounts through the reclamation flow (``revocations_request``, then the
     worker's ``revocations_run``: claim, PATCH active:false, the seat given back): accounts per
     second, the ratio to 500 bare httpx PATCHes of other accounts, and the queries per account
     at 50 and at 500 (fixed).
Rounds interleave the fetch with the sync compared to it (medians of ``--repeat``); each figure
notes the machine's load.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402

PAGE = 500


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"[load {one:.2f} {five:.2f} {fifteen:.2f}]"


def show(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<46}{value:>12}  {note:<50}{load()}", flush=True)


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def ratio(a: float, b: float, target: float) -> str:
    verdict = "ok" if a / b <= target else "MISSED"
    return f"{a / b:.2f}x the fetch (target <= {target:g}x: {verdict})"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    from tests.integrations.connectors.scim_server import ScimServer

    server = ScimServer(token="bench-token").start()
    try:
        run(server, args.accounts, max(1, args.repeat))
    finally:
        server.stop()


def run(server: Any, accounts: int, repeat: int) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from bench.generate import allow_truncate
    from integrations.connectors import scim, sync
    from integrations.connectors.entries import ExternalAccount
    from integrations.connectors.kinds import KINDS
    from integrations.models import Connector
    from org.models import Department, Person
    from renewals.inventory.models import Subscription, Vendor
    from tests.integrations.connectors.scim_server import user

    print(f"usage connector: {accounts:,} accounts in scim2-server; {os.cpu_count()} CPUs; "
          f"medians of {repeat} interleaved rounds")  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        allow_truncate(cursor)
        cursor.execute(
            "TRUNCATE integrations_connector, integrations_account, renewals_seat, "
            "renewals_subscription, renewals_vendor, org_person, org_department RESTART "
            "IDENTITY CASCADE"
        )
    department = Department.objects.create(name="Bench", code="BENCH")
    third = accounts // 3
    Person.objects.bulk_create(
        [
            Person(
                name=f"P{i}",
                employee_no=f"E{i:06d}",
                email=f"p{i}@example.cn",
                department=department,
            )
            for i in range(2 * third)
        ],  # fmt: skip
        batch_size=5000,
    )
    vendor = Vendor.objects.create(name="Bench vendor")
    subscription = Subscription.objects.create(
        ref="BENCH-1", vendor=vendor, product="Tool", department=department,
        seats_purchased=accounts, unit_price=100, currency="CNY", billing_cycle="annual",
        term_start=dt.date(2026, 1, 1), term_end=dt.date(2026, 12, 31),
    )  # fmt: skip

    def body(i: int) -> dict[str, Any]:
        if i < third:
            return user(f"u{i}", email=f"p{i}@example.cn")
        if i < 2 * third:
            return user(f"u{i}", employee_no=f"E{i:06d}")
        return user(f"u{i}", email=f"guest{i}@gmail.com")

    elapsed, ids = timed(lambda: server.add(*(body(i) for i in range(accounts))))
    show("fill scim2-server over its API", secs(elapsed), f"{accounts:,} users")
    connector = Connector(name="Bench SCIM", kind="scim", base_url=server.url,
                          subscription=subscription, config={"page_size": PAGE})  # fmt: skip
    connector.set_secrets({"token": server.token})
    connector.save()

    def fetch() -> int:
        """The baseline: every page with httpx, JSON decoded, nothing else."""
        n, start = 0, 1
        with server.client() as http:
            while True:
                page = http.get("/Users", params={"startIndex": start, "count": PAGE}).json()
                found = page.get("Resources") or []
                n += len(found)
                start += len(found)
                if not found or start > page["totalResults"]:
                    return n

    assert fetch() == accounts
    fetches = [timed(fetch)[0] for _ in range(repeat)]
    baseline = statistics.median(fetches)
    print("baseline: httpx, GET /Users by pages of 500, JSON decoded")
    show("fetch (median)", secs(baseline), f"min {secs(min(fetches))}, max {secs(max(fetches))}")

    read_times: list[float] = []
    real_read = scim.read

    def timed_read(connector: Any) -> list[ExternalAccount]:
        elapsed, found = timed(lambda: real_read(connector))
        read_times.append(elapsed)
        return list(found)

    timed_kind = dataclasses.replace(KINDS[Connector.Kind.SCIM], read=timed_read)
    sync.kind_of = lambda _connector: timed_kind  # type: ignore[assignment]

    def do_sync() -> tuple[float, float, Any]:
        connector.refresh_from_db()
        elapsed, result = timed(lambda: sync.sync_connector(connector, trigger="command"))
        assert result is not None and result.status == "succeeded", result and result.error
        return elapsed, read_times[-1], result

    print("first sync into an empty connector (sync_connector)")
    dumped = timed(fetch)[0]
    first, first_read, result = do_sync()
    show("sync", secs(first), ratio(first, dumped, 2))
    show("  the reader (scim.read)", secs(first_read), f"{first_read / first:.0%}")
    show("  applying", secs(first - first_read), f"{(first - first_read) / first:.0%}")
    show("  the fetch just before", secs(dumped))
    print(f"  counts: {result.counts}")

    print("second sync, nothing changed")
    rounds, fetched = [], []
    for _round in range(repeat):
        fetched.append(timed(fetch)[0])
        rounds.append(do_sync())
    again = statistics.median(r[0] for r in rounds)
    again_read = statistics.median(r[1] for r in rounds)
    dumped = statistics.median(fetched)
    show("sync (median)", secs(again), ratio(again, dumped, 1.2))
    show("  the reader", secs(again_read), f"{again_read / again:.0%}")
    show("  applying", secs(again - again_read), f"{(again - again_read) / again:.0%}")
    show("  the fetch in the same rounds", secs(dumped))
    print(f"  counts: {rounds[-1][2].counts}")

    print("queries of apply_accounts (new accounts, then the same unchanged)")
    counts = []
    for n in (1_000, 10_000):
        probe = Connector(name=f"Probe {n}", kind="scim", base_url="https://x.example.cn/scim",
                          subscription=subscription)  # fmt: skip
        probe.set_secrets({"token": "t"})
        probe.save()
        # Alike at both sizes: every third matched to a person by e-mail, the rest unknown.
        rows = [ExternalAccount(f"p{n}-{i}", user_name=f"u{i}",
                                email=f"p{i % 900}@example.cn" if i % 3 == 0 else f"x{i}@gmail.com")
                for i in range(n)]  # fmt: skip
        now = dt.datetime.now(dt.UTC)
        with CaptureQueriesContext(connection) as new:
            sync.apply_accounts(probe, rows, now=now)
        with CaptureQueriesContext(connection) as same:
            sync.apply_accounts(probe, rows, now=now)
        counts.append((len(new), len(same)))
        probe.delete()
    show("new: at 1,000 / 10,000", f"{counts[0][0]} / {counts[1][0]}")
    show("unchanged: at 1,000 / 10,000", f"{counts[0][1]} / {counts[1][1]}")
    show("fixed whatever the number", str(counts[0] == counts[1]))

    print("revoking 500 accounts through the reclamation flow (request, worker, seat)")
    from unittest import mock

    import httpx

    from integrations.connectors import revoking
    from integrations.models import Account

    matched = list(
        Account.objects.filter(connector=connector, person__isnull=False, active=True)
        .order_by("pk")
        .values_list("pk", "external_id")
    )

    def bare_patches(batch: list[tuple[int, str]]) -> None:
        """The baseline: the same PATCH active:false with httpx alone, one after another."""
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": False}]}  # fmt: skip
        with httpx.Client(base_url=server.url,
                          headers={"Authorization": f"Bearer {server.token}"}) as client:  # fmt: skip
            for _pk, external_id in batch:
                client.patch(f"/Users/{external_id}", json=body).raise_for_status()

    def revoke(batch: list[tuple[int, str]]) -> tuple[float, int]:
        with mock.patch.object(revoking, "async_task"):  # the worker is this process
            revoking.revocations_request(connector=connector, account_ids=[pk for pk, _x in batch],
                                         user=None, reason="bench")  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            elapsed, done = timed(lambda: revoking.revocations_run(connector.pk))
        assert done.get("done") == len(batch), done
        return elapsed, len(queries)

    small, large = matched[:50], matched[50:550]
    base_elapsed, _ = timed(lambda: bare_patches(matched[550:1050]))
    _t, q_small = revoke(small)
    elapsed, q_large = revoke(large)
    show("500 accounts", secs(elapsed), f"{500 / elapsed:.0f} accounts/s")
    show(
        "bare httpx PATCH of 500 others", secs(base_elapsed), f"flow {elapsed / base_elapsed:.2f}x"
    )
    # Each account's queries: what 500 take beyond 50, per account, against 50's own count
    # less the run's fixed part (the claim that finds nothing left, at the end).
    marginal = (q_large - q_small) / 450
    show("queries at 50 / 500 accounts", f"{q_small} / {q_large}")
    show("queries per account", f"{marginal:.1f} (fixed: {(q_small - 50 * marginal):.0f} a run)")
    show("fixed per account", str(marginal.is_integer()))


if __name__ == "__main__":
    main()
