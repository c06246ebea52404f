"""The REST API (/api/v1/): mass-assignment safety and the renewal workflow through the same
services as the pages (open, submit, decide; never one's own request; broken and parallel
decisions)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from budgets import services as budget_services
from renewals.requests import services as request_services
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest
from tests.api.helpers import api, patch, post, token_for
from tests.conftest import Cast
from tests.factories import SubscriptionFactory


def test_a_request_opened_through_the_api_ignores_workflow_fields(cast: Cast) -> None:
    client = api(cast.software_admin)
    response = post(
        client,
        reverse("api:request-list"),
        {
            "subscription": cast.subscription_a.pk,
            "purpose": "seats",
            "justification": "<script>alert(1)</script> 增加 2 个席位",
            "proposed_seats": 12,
            # Everything below belongs to the workflow and must be ignored.
            "status": "approved",
            "amount": "1.00",
            "amount_base": "1.00",
            "department": cast.dept_b.pk,
            "requested_by": cast.head_a.pk,
            "round": 9,
            "submitted_at": "2020-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    request = RenewalRequest.objects.get(pk=body["id"])
    assert request.status == "draft" and body["status"] == "draft"
    assert request.amount is None and request.round == 0
    assert request.department_id == cast.dept_a.pk
    assert request.requested_by_id == cast.software_admin.pk
    assert request.proposed_seats == 12 and request.purpose == "seats"
    assert request.justification.startswith("<script>")  # stored as text, escaped on pages
    # The department of an existing request cannot be changed either; its subscription neither.
    other = SubscriptionFactory.create(department=cast.dept_a)
    changed = patch(
        client,
        reverse("api:request-detail", args=[request.pk]),
        {"department": cast.dept_b.pk, "subscription": other.pk, "proposed_seats": 11},
    )
    assert changed.status_code == 400
    request.refresh_from_db()
    assert request.proposed_seats == 12 and request.subscription_id == cast.subscription_a.pk
    changed = patch(
        client,
        reverse("api:request-detail", args=[request.pk]),
        {"department": cast.dept_b.pk, "status": "approved", "proposed_seats": 11},
    )
    assert changed.status_code == 200
    request.refresh_from_db()
    assert (request.proposed_seats, request.department_id, request.status) == (
        11,
        cast.dept_a.pk,
        "draft",
    )


def test_a_request_for_another_departments_subscription_is_refused(cast: Cast) -> None:
    subscription_b = SubscriptionFactory.create(department=cast.dept_b)
    response = post(
        api(cast.head_a), reverse("api:request-list"), {"subscription": subscription_b.pk}
    )
    assert response.status_code == 400
    assert not RenewalRequest.objects.filter(subscription=subscription_b).exists()
    # Finance sees it but may not open requests (IT and the department do).
    response = post(
        api(cast.finance), reverse("api:request-list"), {"subscription": cast.subscription_a.pk}
    )
    assert response.status_code == 403
    assert not RenewalRequest.objects.exists()


def _funded(cast: Cast) -> None:
    budget = budget_services.budget_for(department=cast.dept_a, year=2027)
    budget_services.budget_allocate(
        budget=budget, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )


def test_open_submit_and_decide_through_the_api(cast: Cast) -> None:
    _funded(cast)
    requester = api(cast.software_admin)
    opened = post(requester, reverse("api:request-list"), {"subscription": cast.subscription_a.pk})
    assert opened.status_code == 201, opened.content
    pk = opened.json()["id"]
    submitted = post(requester, reverse("api:request-submit", args=[pk]), {})
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["status"] in ("submitted", "in_approval")
    assert Decimal(body["amount_base"]) == Decimal("10000.00")  # 10 seats × 1,000 CNY a year
    step = body["pending_steps"][0]
    assert step["role"] == "department_head"
    # Submitting again is refused with the service's message, translated.
    again = post(
        api(cast.software_admin, language="en"),
        reverse("api:request-submit", args=[pk]),
        {},
    )
    assert again.status_code == 400
    assert "Only a draft or a returned request can be submitted." in again.json()["detail"]
    zh = post(
        api(cast.software_admin, language="zh-hans"),
        reverse("api:request-submit", args=[pk]),
        {},
    )
    assert zh.status_code == 400 and "Only a draft" not in zh.content.decode()
    # Head B cannot even see it; head A approves.
    decide = reverse("api:request-decide", args=[pk])
    assert post(api(cast.head_b), decide, {"decision": "approve"}).status_code == 404
    approved = post(api(cast.head_a), decide, {"decision": "approve", "step": step["id"]})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    # A second click is told it was already decided.
    late = post(api(cast.head_a), decide, {"decision": "approve", "step": step["id"]})
    assert late.status_code == 409
    assert late.json()["code"] == "already_decided"


def test_nobody_approves_their_own_request_through_the_api(cast: Cast) -> None:
    _funded(cast)
    client = api(cast.head_a)
    pk = post(client, reverse("api:request-list"), {"subscription": cast.subscription_a.pk}).json()[
        "id"
    ]
    assert post(client, reverse("api:request-submit", args=[pk]), {}).status_code == 200
    refused = post(client, reverse("api:request-decide", args=[pk]), {"decision": "approve"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "own_request"
    assert ApprovalStep.objects.get(request_id=pk).status == "pending"


def test_broken_decisions_are_refused(cast: Cast) -> None:
    _funded(cast)
    request = request_services.request_create(
        subscription=cast.subscription_a, user=cast.software_admin
    )
    request_services.request_submit(request=request, user=cast.software_admin)
    url = reverse("api:request-decide", args=[request.pk])
    client = api(cast.head_a)
    for data in (
        {"decision": "approve!!"},
        {},
        {"decision": "approve", "step": "1e400"},
        {"decision": "approve", "step": 10**30},
        {"decision": "approve", "comment": "x" * 5001},
    ):
        assert post(client, url, data).status_code == 400, data
    assert client.post(url, "{not json", content_type="application/json").status_code == 400
    assert client.post(url, {"decision": "approve"}).status_code == 415  # forms are not read
    assert client.get(url).status_code == 405
    assert ApprovalStep.objects.get(request=request).status == "pending"


@pytest.mark.django_db(transaction=True)
def test_parallel_api_approvals_make_one_decision(cast: Cast) -> None:
    _funded(cast)
    request = request_services.request_create(
        subscription=cast.subscription_a, user=cast.software_admin
    )
    request_services.request_submit(request=request, user=cast.software_admin)
    step = request.steps.get(status="pending")
    secret = token_for(cast.head_a)
    url = reverse("api:request-decide", args=[request.pk])
    count = 12
    barrier = threading.Barrier(count)

    def click(i: int) -> int:
        try:
            barrier.wait()
            client = api(token=secret)
            decision = "approve" if i % 2 else "reject"
            data = {"decision": decision, "step": step.pk, "comment": "并发"}
            return int(post(client, url, data).status_code)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        codes = list(pool.map(click, range(count)))
    assert codes.count(200) == 1, codes
    assert set(codes) <= {200, 409}, codes
    step.refresh_from_db()
    assert step.status in ("approved", "rejected")
    assert ApprovalStep.objects.filter(request=request).exclude(status="pending").count() == 1
