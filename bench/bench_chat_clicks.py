#!/usr/bin/env python
"""An approval card click (issue #21) against a web inbox decision, in the same run.

    .venv/bin/python bench/bench_chat_clicks.py [--clicks 200] [--warmup 5]

Builds, through the real services, ``3 × (clicks + warmup + 2)`` renewal requests above
50,000 CNY (department head, then finance), each submitted with its head step pending and the
head's Feishu card made by ``ChatOutlet.asked`` and marked as sent (a message id; its to-do
opened). No platform is called: deciding only *queues* the card's update. Then, request by
request and in turn (the order rotating each round, so that a machine whose load changes slows
each kind alike), ``--clicks`` times each:
  A. the click: ``integrations.chat.clicks.handle`` with an already verified Feishu ``Click``,
     i.e. from the verified click to the committed decision with the card's update (and its
     to-do's close) queued;
  B. the baseline: the web inbox decision, a signed-in head's POST to ``renewals:request-decide``
     (in-process Django test client; a plain form POST answered by a redirect, or with
     ``--htmx`` as the inbox page's HTMX form sends it, answered by the row's result);
  C. the whole callback: an encrypted and signed Feishu callback POSTed to ``chat_callback``
     (decryption, signature, token checks, then A, then the answer's card JSON).
Prints the median and p95 of each, the ratios A/B and C/B (target: A <= 2x B, median and p95),
the query count of one of each before and after the timed rounds (must be equal), and a last
line saying whether the target is met. The data are rebuilt on every run.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402

FEISHU_SECRETS = {
    "app_secret": "bench-app-secret",
    "verification_token": "bench-token",
    "encrypt_key": "bench-encrypt-key",
}
HEAD_ID = "head-bench"  # the head's Feishu user_id
AMOUNT = Decimal("60000")  # the quote's unit price: above 50,000 CNY, head then finance
KINDS = ("click", "web", "callback")
LABELS = {
    "click": "A. card click (clicks.handle)",
    "web": "B. web inbox decision (POST)",
    "callback": "C. Feishu callback (POST, whole)",
}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"[load {one:.2f} {five:.2f} {fifteen:.2f}]"


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[94]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--htmx",
        action="store_true",
        help="B as the inbox page's HTMX form posts it (from=inbox: the row's result rendered)",
    )
    args = parser.parse_args()
    setup_django()

    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django_q.models import OrmQ

    from bench.generate import generate_inventory, generate_org
    from budgets import services as budget_services
    from integrations.chat import cards as chat_cards
    from integrations.chat import clicks
    from integrations.chat.cards import ChatOutlet
    from integrations.chat.models import ChatApp, ChatCard, ChatClick, ChatIdentity, ChatJob
    from integrations.chat.platform import Click
    from org import services as org_services
    from org.models import Department
    from org.roles import Role
    from renewals.inventory.models import Subscription
    from renewals.requests import services
    from renewals.requests.models.approvals import ApprovalStep
    from renewals.requests.models.requests import RenewalRequest
    from renewals.requests.services.tiers import tiers_ensure_defaults
    from tests.fakes import feishu_chat

    settings.ALLOWED_HOSTS = ["testserver"]
    logging.getLogger("django-q").setLevel(logging.WARNING)  # no "Enqueued" lines
    per_kind = args.clicks + args.warmup + 2  # warm-up, a probe before, the timed, a probe after
    total = per_kind * len(KINDS)

    # --- data ---------------------------------------------------------------------------------
    started = time.perf_counter()
    ChatApp.objects.all().delete()  # cards, jobs, clicks and mappings of an earlier run
    OrmQ.objects.all().delete()  # the tasks earlier runs queued (no cluster runs here)
    generate_org(departments=4, people=200, seed=1)
    generate_inventory(
        subscriptions=total, usage_rows=total * 2 * 12, seats_per_subscription=5, seed=1
    )
    tiers_ensure_defaults()
    head, _ = org_services.user_upsert(
        username="bench-head", display_name="王磊", roles=[Role.DEPARTMENT_HEAD]
    )
    swadmin, _ = org_services.user_upsert(
        username="bench-swadmin", display_name="软件管理员", roles=[Role.SOFTWARE_ADMIN]
    )
    finance, _ = org_services.user_upsert(
        username="bench-finance", display_name="财务", roles=[Role.FINANCE]
    )
    for department in Department.objects.all():
        department.heads.add(head)
        department.software_admins.add(swadmin)
        for year in (2026, 2027, 2028):
            budget = budget_services.budget_for(department=department, year=year)
            budget_services.budget_allocate(
                budget=budget, amount=Decimal("1000000000"), user=finance, memo="bench"
            )
    app = ChatApp(
        name="Bench 飞书", kind="feishu", base_url="https://open.feishu.invalid",
        config={"app_id": "cli_bench"},
    )  # fmt: skip
    app.set_secrets(FEISHU_SECRETS)
    app.save()
    ChatIdentity.objects.create(
        app=app, user=head, platform_id=HEAD_ID,
        other_ids={"open_id": f"ou_{HEAD_ID}", "union_id": f"on_{HEAD_ID}"},
    )  # fmt: skip
    outlet = ChatOutlet()
    requests: list[RenewalRequest] = []
    for subscription in Subscription.objects.order_by("pk"):
        request = services.request_create(subscription=subscription, user=swadmin)
        assert request.chosen_quote is not None
        services.quote_save(
            request=request, user=swadmin, quote=request.chosen_quote,
            data={"seats": 1, "unit_price": AMOUNT, "term_months": 12},
        )  # fmt: skip
        request = services.request_submit(request=request, user=swadmin)
        step = request.steps.get(status=ApprovalStep.Status.PENDING)
        assert step.role == Role.DEPARTMENT_HEAD, step.role
        assert outlet.asked(step, [head.pk]) == 1
        requests.append(request)
    # The cards went out and their to-dos were opened (no platform is called in this run).
    cards = ChatCard.objects.filter(app=app)
    cards.update(
        message_id=Concat(Value("om_bench_"), Cast("pk", CharField())),
        todo_id=Concat(Value("todo_bench_"), Cast("pk", CharField())),
    )
    ChatJob.objects.filter(card__app=app).update(status=ChatJob.Status.DONE)
    assert len(requests) == total
    steps_of = {r.pk: r.steps.get(status=ApprovalStep.Status.PENDING) for r in requests}
    card_of = {c.request_id: c for c in cards}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    first = requests[0]
    assert first.amount_base is not None
    print(
        f"data: {total} submitted requests of {first.amount_base:,} CNY (head, then finance), "
        f"each with the head's Feishu card ({time.perf_counter() - started:.1f} s to build); "
        f"CONN_MAX_AGE {connection.settings_dict['CONN_MAX_AGE']} {load()}",
        flush=True,
    )

    # --- the three ways to decide ---------------------------------------------------------------
    web = Client()
    web.force_login(head)
    platform = Client()
    callback_url = reverse("integrations:chat-callback", args=[app.pk])

    # When the decision has committed and its on-commit work (the notice task enqueued) is done: a marker queued after ``settle``'s, in the deciding transaction.
    real_settle = chat_cards.settle
    committed: list[float] = []

    def settle_marked(request_id: int, *, kick: bool = True) -> int:
        changed = real_settle(request_id, kick=kick)
        transaction.on_commit(lambda: committed.append(time.perf_counter()))
        return changed

    chat_cards.settle = settle_marked
    to_commit: list[float] = []

    def prepared_click(request: RenewalRequest) -> Callable[[], None]:
        card = card_of[request.pk]
        verified = Click(
            event_id=uuid.uuid4().hex, user_ids=(HEAD_ID, f"ou_{HEAD_ID}", f"on_{HEAD_ID}"),
            message_id=card.message_id, action="approve", value={"c": card.pk, "n": card.nonce},
        )  # fmt: skip

        def run() -> None:
            start = time.perf_counter()
            answer = clicks.handle(app, verified)
            to_commit.append(committed[-1] - start)
            assert answer.ok and answer.outcome == "decided", answer

        return run

    def decide_on_web(request: RenewalRequest) -> None:
        url = reverse("renewals:request-decide", args=[request.pk])
        data = {"decision": "approve", "step": steps_of[request.pk].pk}
        if args.htmx:
            data |= {"from": "inbox", "comment": ""}
            response = web.post(url, data, headers={"HX-Request": "true"})
            assert response.status_code == 200, response.status_code
        else:
            response = web.post(url, data)
            assert response.status_code == 302, response.status_code

    # Building the callback (encryption, signing) is the platform's work, not ours: done before
    # the clock starts, so that C times our side only.
    def prepared_callback(request: RenewalRequest) -> Callable[[], None]:
        card = card_of[request.pk]
        payload = feishu_chat.card_action(
            {"c": card.pk, "n": card.nonce, "a": "approve"},
            token=FEISHU_SECRETS["verification_token"], message_id=card.message_id,
            user_id=HEAD_ID, open_id=f"ou_{HEAD_ID}", union_id=f"on_{HEAD_ID}",
            app_id=app.config["app_id"],
        )  # fmt: skip
        body, headers = feishu_chat.callback(payload, FEISHU_SECRETS["encrypt_key"])

        def run() -> None:
            response = platform.post(
                callback_url, body, content_type="application/json", headers=headers
            )
            assert response.status_code == 200, (response.status_code, response.content)
            assert response.json()["toast"]["type"] == "success", response.json()

        return run

    def prepared(kind: str, request: RenewalRequest) -> Callable[[], None]:
        if kind == "click":
            return prepared_click(request)
        if kind == "web":
            return lambda: decide_on_web(request)
        return prepared_callback(request)

    pools = {kind: requests[i * per_kind : (i + 1) * per_kind] for i, kind in enumerate(KINDS)}
    queue = {kind: iter(pool) for kind, pool in pools.items()}

    def queries(kind: str) -> int:
        run = prepared(kind, next(queue[kind]))
        with CaptureQueriesContext(connection) as ctx:
            run()
        return len(ctx.captured_queries)

    for _round in range(args.warmup):
        for kind in KINDS:
            prepared(kind, next(queue[kind]))()
    before = {kind: queries(kind) for kind in KINDS}

    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for round_ in range(args.clicks):
        shift = round_ % len(KINDS)
        for kind in KINDS[shift:] + KINDS[:shift]:
            run = prepared(kind, next(queue[kind]))
            start = time.perf_counter()
            run()
            times[kind].append(time.perf_counter() - start)
    after = {kind: queries(kind) for kind in KINDS}

    # --- what was decided and queued ------------------------------------------------------------
    for kind, pool in pools.items():
        decided = ApprovalStep.objects.filter(
            pk__in=[steps_of[r.pk].pk for r in pool],
            status=ApprovalStep.Status.APPROVED,
            decided_by=head,
            via="" if kind == "web" else ChatApp.Kind.FEISHU,
        ).count()
        assert decided == per_kind, (kind, decided)
        updates = ChatJob.objects.filter(
            card__request__in=pool, action=ChatJob.Action.UPDATE, status=ChatJob.Status.PENDING
        ).count()
        closes = ChatJob.objects.filter(
            card__request__in=pool, action=ChatJob.Action.TODO_CLOSE, status=ChatJob.Status.PENDING
        ).count()
        # The web decision settles its cards later, in the request's notice task (not run here).
        assert (updates, closes) == ((0, 0) if kind == "web" else (per_kind, per_kind)), kind
        print(
            f"{kind:9s} {decided} head steps approved (via {kind != 'web' and 'feishu' or 'web'}), "
            f"{updates} card updates and {closes} to-do closes queued (pending)"
        )
    clicks_seen = ChatClick.objects.filter(app=app, outcome="decided").count()
    assert clicks_seen == 2 * per_kind, clicks_seen

    # --- figures --------------------------------------------------------------------------------
    figures = {kind: (statistics.median(t), p95(t)) for kind, t in times.items()}
    base_median, base_p95 = figures["web"]
    print(f"{args.clicks} decisions of each, interleaved {load()}")
    print(f"{'':34}{'median':>10}{'p95':>10}{'ratio median':>14}{'ratio p95':>11}  queries")
    for kind in KINDS:
        median, high = figures[kind]
        print(
            f"{LABELS[kind]:34}{median * 1000:>7.1f} ms{high * 1000:>7.1f} ms"
            f"{median / base_median:>13.2f}x{high / base_p95:>10.2f}x  "
            f"{before[kind]} before / {after[kind]} after"
        )
    timed_commits = to_commit[-args.clicks - 1 : -1]  # the timed rounds' (not the probes')
    commit_median, commit_p95 = statistics.median(timed_commits), p95(timed_commits)
    print(
        f"{'A to the commit (update queued)':34}{commit_median * 1000:>7.1f} ms"
        f"{commit_p95 * 1000:>7.1f} ms{commit_median / base_median:>13.2f}x"
        f"{commit_p95 / base_p95:>10.2f}x  (part of A: the decision committed, its tasks queued)"
    )
    assert before == after, "query counts differ with the data's size"
    click_median, click_p95 = figures["click"]
    ratio_median, ratio_p95 = click_median / base_median, click_p95 / base_p95
    met = ratio_median <= 2 and ratio_p95 <= 2
    print(
        f"click / web decision: median {ratio_median:.2f}x, p95 {ratio_p95:.2f}x "
        f"(target <= 2x: {'met' if met else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
