"""The legal review step: added by the tier's rules when the request's contract has flagged
clauses, auto-renews or exceeds an amount; legal completes it from the clause checklist, one
comment per clause; every step rule holds; the needs-assessment PDF carries the checklist."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from pypdf import PdfReader

from budgets import services as budget_services
from contracts.models import ClauseComment, Contract
from renewals.requests import services
from renewals.requests.models.approvals import ApprovalStep, ApprovalTier
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.contracts.helpers import client_for
from tests.contracts.terms.samples import CHINESE
from tests.contracts.terms.test_suggestions import document_with_text
from tests.renewals.requests.conftest import open_request, roles_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(cast: Cast, contract: Contract) -> Contract:
    """Department A's contract, read from the Chinese sample: auto-renews, 60 days' notice,
    list price, vendor-only termination, no data return."""
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    document_with_text(contract, cast.it_admin, CHINESE)
    assert contract.findings.filter(status="open").count() == 4
    return contract


def rules(**values: Any) -> None:
    ApprovalTier.objects.update(**values)


def submit(cast: Cast, amount: str = "60000") -> RenewalRequest:
    # One request under way per subscription: the earlier ones of a test are cancelled.
    RenewalRequest.objects.update(status=RenewalRequest.Status.CANCELLED)
    request = open_request(cast, amount)
    services.request_submit(request=request, user=cast.software_admin)
    request.refresh_from_db()
    return request


def test_flagged_clauses_add_a_legal_step_before_finance(cast: Cast, flagged: Contract) -> None:
    rules(legal_if_flagged=True)
    request = submit(cast)
    assert roles_of(request) == ["department_head", "legal", "finance"]
    assert request.steps.get(role="legal").legal_review is True
    small = submit(cast, "1000")  # the department tier: legal signs last
    assert roles_of(small) == ["department_head", "legal"]


def test_no_rule_or_no_trap_means_no_legal_step(cast: Cast, flagged: Contract) -> None:
    assert roles_of(submit(cast)) == ["department_head", "finance"]  # rules off by default
    rules(legal_if_flagged=True)
    flagged.findings.update(status="resolved")
    assert roles_of(submit(cast)) == ["department_head", "finance"]


def test_auto_renewal_and_amount_rules(cast: Cast, flagged: Contract) -> None:
    rules(legal_if_auto_renews=True)
    assert "legal" in roles_of(submit(cast))
    rules(legal_if_auto_renews=False, legal_above=Decimal("100000"))
    assert "legal" not in roles_of(submit(cast, "60000"))
    assert "legal" in roles_of(submit(cast, "150000"))


def test_a_tier_may_name_legal_itself(cast: Cast, flagged: Contract) -> None:
    ApprovalTier.objects.filter(max_amount__isnull=True).update(
        roles=["department_head", "legal", "finance"], legal_if_flagged=True
    )
    assert roles_of(submit(cast)) == ["department_head", "legal", "finance"]


def legal_step(request: RenewalRequest) -> ApprovalStep:
    return request.steps.get(round=request.round, role="legal")


def head_approves(cast: Cast, request: RenewalRequest) -> None:
    services.step_decide(request=request, user=cast.head_a, decision="approve")


def test_legal_completes_the_review_from_the_checklist(cast: Cast, flagged: Contract) -> None:
    rules(legal_if_flagged=True)
    request = submit(cast)
    head_approves(cast, request)
    client = client_for(cast.legal)
    url = reverse("contracts:legal-review", args=[request.pk])
    page = client.get(url).content.decode()
    assert "六十日" in page and 'name="comment_renewal"' in page
    assert page.count('data-testid="flag"') == 4
    response = client.post(url, {
        "step": legal_step(request).pk, "decision": "approve",
        "comment_renewal": "60 日通知期偏长,已在日历设置提醒。", "comment_data_return": "请补充数据返还条款。",
    })  # fmt: skip
    assert response.status_code == 302 and response["Location"] == request.get_absolute_url()
    step = legal_step(request)
    assert step.status == "approved" and step.decided_by == cast.legal
    assert "数据返还" in step.comment
    assert set(ClauseComment.objects.values_list("clause", flat=True)) == {"renewal", "data_return"}
    assert request.steps.get(round=request.round, role="finance").status == "pending"
    again = client.get(url).content.decode()
    assert "请补充数据返还条款。" in again and 'name="comment_renewal"' not in again


def test_refusals_store_nothing(cast: Cast, flagged: Contract, english: Any) -> None:
    rules(legal_if_flagged=True)
    request = submit(cast)
    url = reverse("contracts:legal-review", args=[request.pk])
    step = legal_step(request)
    data = {"step": step.pk, "decision": "approve", "comment_price": "好"}
    # Not yet: the head has not signed, so the legal step is still waiting.
    client_for(cast.legal).post(url, data)
    head_approves(cast, request)
    # Not legal: finance, the auditor and the approving head are refused.
    for user in (cast.finance, cast.auditor, cast.head_a):
        client_for(user).post(url, data)
    # Returning without saying why, a made-up decision, another step's id.
    client_for(cast.legal).post(url, {"step": step.pk, "decision": "return", "comment_price": " "})
    client_for(cast.legal).post(url, {**data, "decision": "sign"})
    client_for(cast.legal).post(url, {**data, "step": request.steps.get(role="finance").pk})
    assert ClauseComment.objects.count() == 0
    assert legal_step(request).status == "pending"
    # Hostile: an oversized comment is cut to 2,000 characters, an unknown clause ignored.
    client_for(cast.legal).post(url, {**data, "comment_price": "长" * 50_000, "comment_x": "?"})
    assert [len(c.comment) for c in ClauseComment.objects.all()] == [2000]
    # Replayed: the step is decided, the same post is refused and stores nothing more.
    client_for(cast.legal).post(url, data)
    assert ClauseComment.objects.count() == 1


def test_legal_may_not_review_their_own_request(cast: Cast, flagged: Contract) -> None:
    from org import services as org_services

    org_services.user_set_roles(user=cast.software_admin, roles=["software_admin", "legal"])
    rules(legal_if_flagged=True)
    request = submit(cast)
    head_approves(cast, request)
    client_for(cast.software_admin).post(
        reverse("contracts:legal-review", args=[request.pk]),
        {"step": legal_step(request).pk, "decision": "approve"},
    )
    assert legal_step(request).status == "pending"


def test_the_assessment_pdf_has_the_clause_checklist(cast: Cast, flagged: Contract) -> None:
    request = submit(cast)
    response = client_for(cast.finance).get(reverse("renewals:request-pdf", args=[request.pk]))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "合同条款核对清单" in text or "Contract clause checklist" in text
    assert "六十日" in text
