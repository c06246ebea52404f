#!/usr/bin/env python
"""The navbar's global search at 10,000 subscriptions.

    BENCH_DATABASE=renewaldesk_bench_search .venv/bin/python bench/bench_search.py \
        [--subscriptions 10000] [--contracts 10000] [--requests 2000] [--repeat 15]

Data (bench/generate.py, bench_contracts.generate, bench_requests.make_requests): 8 departments,
2,000 people, N subscriptions with 3 seats each, contracts with extracted text and renewal
requests. Each search runs five grouped queries (subscriptions, vendors, people, contracts,
requests), each scoped to the user like its list page.

Prints the median latency of searches by an IT admin (everything) and a department head (their
department), each as a ratio to a trivial signed-in page measured in the same rounds (target
<= 3x), and the query counts with 10 subscriptions and with N (which must not differ).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import interleaved_medians, setup_django  # noqa: E402

TRIVIAL = "trivial (password page)"


def build(*, subscriptions: int, contracts: int, requests: int) -> str:
    """The data set; returns a word about 1% of the contracts contain."""
    from bench.bench_contracts import generate as generate_contracts
    from bench.bench_requests import make_requests
    from bench.generate import generate_inventory, generate_org
    from org import services
    from org.models import Department

    generate_org(departments=8, people=2000, seed=1)
    users = {
        username: services.user_upsert(username=username, display_name=username, roles=[role])[0]
        for username, role in (
            ("bench-it", "it_admin"),
            ("bench-head", "department_head"),
            ("bench-swadmin", "software_admin"),
        )
    }
    first = Department.objects.order_by("pk").first()
    assert first is not None
    first.heads.add(users["bench-head"])
    first.software_admins.add(users["bench-swadmin"])
    generate_inventory(
        subscriptions=subscriptions,
        usage_rows=subscriptions * 2,
        seats_per_subscription=3,
        seed=1,
    )
    rare = generate_contracts(contracts)
    make_requests(requests)
    return rare


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from org.models import User

    settings.ALLOWED_HOSTS = ["testserver"]

    def clients() -> dict[str, Client]:
        out = {}
        for who in ("it", "head"):
            client = Client()
            client.force_login(User.objects.get(username=f"bench-{who}"))
            out[who] = client
        return out

    def pages(rare: str) -> dict[str, tuple[str, str]]:
        terms = {
            "Jira (English, ~1 in 18 subscriptions)": "Jira",
            "飞书 (Chinese, ~1 in 18)": "飞书",
            "#1234 (one subscription)": "#1234",
            f"{rare} (a contract word, ~1%)": rare,
            "王 (a common surname: many people)": "王",
            "nothing matches": "zzqx",
        }
        out = {TRIVIAL: ("it", "/accounts/password/")}
        for who in ("it", "head"):
            for label, term in terms.items():
                # "by" (ignored by the page) keeps the two users' addresses apart.
                out[f"{who:4s} {label}"] = (who, f"/search/?q={quote(term)}&by={who}")
        return out

    def query_counts(rare: str) -> dict[str, int]:
        counted = {}
        by_who = clients()
        for name, (who, url) in pages(rare).items():
            by_who[who].get(url)
            with CaptureQueriesContext(connection) as ctx:
                assert by_who[who].get(url).status_code == 200
            counted[name] = len(ctx.captured_queries)
        return counted

    small = query_counts(build(subscriptions=10, contracts=10, requests=10))
    rare = build(subscriptions=args.subscriptions, contracts=args.contracts, requests=args.requests)
    # The generators' bulk writes leave dead rows (the modules' cost trigger updates every
    # subscription once): vacuum now, so autovacuum does not start during the timed rounds.
    with connection.cursor() as cursor:
        for table in (
            "renewals_vendor", "renewals_subscription", "org_person", "org_department",
            "contracts_contract", "renewals_renewalrequest", "renewals_approvalstep",
        ):  # fmt: skip
            cursor.execute(f"VACUUM ANALYZE {table}")
    large = query_counts(rare)
    print(
        f"data: {args.subscriptions} subscriptions, 2000 people, {args.contracts} contracts, "
        f"{args.requests} requests"
    )

    by_who = clients()
    urls = pages(rare)

    class Router:
        """interleaved_medians asks one client; each page goes to its user's."""

        def get(self, url: str) -> object:
            return by_who["head" if url.endswith("by=head") else "it"].get(url)

    medians = interleaved_medians(Router(), {n: u for n, (_w, u) in urls.items()}, args.repeat)
    base = medians[TRIVIAL]
    for name, median in medians.items():
        print(
            f"{name:50s} median {median * 1000:7.1f} ms  ratio {median / base:5.2f}  "
            f"queries {small[name]} at 10 / {large[name]} at {args.subscriptions}"
        )
    worst = max(m / base for n, m in medians.items() if n != TRIVIAL)
    print(f"worst ratio to the trivial page: {worst:.2f} (target <= 3)")
    assert all(small[n] == large[n] for n in small), "query counts differ with the data's size"


if __name__ == "__main__":
    main()
