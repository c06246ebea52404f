"""Concurrency: parallel clicks, racing approvers and budget, decided once in the database."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from budgets import services as budget_services
from budgets.models import LedgerEntry
from budgets.selectors import balance
from org.roles import Role
from renewals.inventory.models import Subscription
from renewals.notify.models import Notification
from renewals.requests import services
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast, make_user
from tests.renewals.requests.conftest import submitted

# --- concurrency ------------------------------------------------------------------------------


def _in_threads(count: int, work: object) -> list[object]:
    barrier = threading.Barrier(count)

    def run(i: int) -> object:
        try:
            barrier.wait()
            return work(i)  # type: ignore[operator]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.django_db(transaction=True)
def test_50_parallel_approve_clicks_make_one_decision(funded: Cast) -> None:
    request = submitted(funded, "1000")
    step = request.steps.get()
    clients = []
    for _ in range(50):
        client = Client()
        client.force_login(funded.head_a)
        clients.append(client)
    url = reverse("renewals:request-decide", args=[request.pk])
    mail.outbox.clear()
    Notification.objects.all().delete()

    def click(i: int) -> int:
        response = clients[i].post(url, {"decision": "approve", "step": step.pk})
        return response.status_code

    statuses = _in_threads(50, click)
    assert statuses.count(302) == 50  # every click lands back on the page …
    step.refresh_from_db()
    assert step.status == "approved"
    assert LedgerEntry.objects.filter(reference=request.budget_reference).count() == 1
    # … one decision: one notice to the requester (in-app), one e-mail.
    assert Notification.objects.filter(user=funded.software_admin).count() == 1
    assert len([m for m in mail.outbox if funded.software_admin.email in m.to]) == 1
    assert request.events.filter(kind="approved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_approve_racing_reject_exactly_one_wins(funded: Cast) -> None:
    second_head = make_user("head_a2", Role.DEPARTMENT_HEAD)
    funded.dept_a.heads.add(second_head)
    deciders = [(funded.head_a, "approve"), (second_head, "reject")]
    for attempt in range(5):
        request = submitted(funded, "1000")

        def decide(i: int, request: RenewalRequest = request) -> str:
            user, decision = deciders[i]
            try:
                services.step_decide(request=request, user=user, decision=decision, comment="c")
            except services.DecisionRefused as exc:
                return str(exc.code)
            return decision

        results = sorted(_in_threads(2, decide))  # type: ignore[type-var]
        assert results in (["already_decided", "approve"], ["already_decided", "reject"])
        request.refresh_from_db()
        winner = "approve" if "approve" in results else "reject"
        assert request.status == ("approved" if winner == "approve" else "rejected")
        committed = LedgerEntry.objects.filter(reference=request.budget_reference).count()
        assert committed == (1 if winner == "approve" else 0)
        if request.status == "approved":
            services.request_cancel(
                request=request, user=funded.software_admin, reason=f"{attempt}"
            )


@pytest.mark.django_db(transaction=True)
def test_two_requests_that_fit_alone_but_not_together_are_never_both_committed(cast: Cast) -> None:
    # 10,000 allocated, 0% reserve: 6,000 fits, two of them do not.
    budget = cast.budget_a
    budget.reserve_percent = Decimal("0")
    budget.save()
    budget_services.budget_allocate(
        budget=budget, amount=Decimal("9900"), user=cast.finance, memo="m"
    )  # 100 + 9,900
    second = make_user("swadmin_a2", Role.SOFTWARE_ADMIN)
    cast.dept_a.software_admins.add(second)
    other = Subscription.objects.create(
        ref="A-2", vendor=cast.subscription_a.vendor, product="Other", department=cast.dept_a,
        seats_purchased=1, unit_price=Decimal("1"), term_start=dt.date(2026, 1, 1),
        term_end=dt.date(2026, 12, 31),
    )  # fmt: skip
    first = submitted(cast, "6000")
    other_request = services.request_create(subscription=other, user=second)
    services.quote_save(
        request=other_request, user=second, quote=other_request.chosen_quote,
        data={"unit_price": Decimal("6000")},
    )  # fmt: skip
    services.request_submit(request=other_request, user=second)
    requests = [first, other_request]

    def approve(i: int) -> str:
        try:
            services.step_decide(request=requests[i], user=cast.head_a, decision="approve")
        except services.DecisionRefused as exc:
            return str(exc.code)
        return "approved"

    results = sorted(_in_threads(2, approve))  # type: ignore[type-var]
    assert results == ["approved", "budget"]
    assert balance(budget).committed == Decimal("6000.00")
    assert balance(budget).available >= 0
    statuses = sorted(RenewalRequest.objects.values_list("status", flat=True))
    assert statuses == ["approved", "submitted"]  # the refused one still waits for budget
