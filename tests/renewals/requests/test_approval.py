"""Tiered approval: the amount picks the tier, the budget adds finance, who may sign which step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from budgets.models import LedgerEntry
from budgets.selectors import balance
from org.roles import Role
from org.services import user_set_roles
from renewals.inventory.models import CurrencyRate
from renewals.requests import services
from renewals.requests.models.approvals import ApprovalStep, ApprovalTier
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.renewals.requests.conftest import YEAR, open_request, roles_of, submitted


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """These tests read refusals in the default language (zh-hans). A page test that ran before
    them in this process may have left English active in the thread (LocaleMiddleware activates
    a request's language and nothing resets it afterwards), so they say which one they read."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


# --- tiers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "roles"),
    [
        ("49999.99", ["department_head"]),
        ("50000.00", ["department_head", "finance"]),
        ("50000.01", ["department_head", "finance"]),
    ],
)
def test_the_amount_picks_the_tier_at_its_edges(
    funded: Cast, amount: str, roles: list[str]
) -> None:
    request = submitted(funded, amount)
    assert request.amount_base == Decimal(amount)
    assert roles_of(request) == roles
    assert request.status == RenewalRequest.Status.SUBMITTED
    first = request.steps.get(position=1)
    assert first.status == ApprovalStep.Status.PENDING


def test_submitting_freezes_the_amount_in_cny_at_the_quotes_rate(funded: Cast) -> None:
    CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("7.1"), valid_from=dt.date(2026, 1, 1)
    )
    request = open_request(funded, "100")
    services.quote_save(
        request=request,
        user=funded.software_admin,
        quote=request.chosen_quote,
        data={"currency": "USD", "seats": 10},
    )
    services.request_submit(request=request, user=funded.software_admin)
    request.refresh_from_db()
    assert (request.amount, request.currency, request.amount_base) == (
        Decimal("1000.00"),
        "USD",
        Decimal("7100.00"),
    )
    # A later rate change does not move the frozen amount.
    CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("9"), valid_from=dt.date(2026, 2, 1)
    )
    request.refresh_from_db()
    assert request.amount_base == Decimal("7100.00")


def test_over_budget_adds_a_finance_step_below_the_tier(cast: Cast) -> None:
    # Budget A holds 100 CNY: 20,000 does not fit.
    request = submitted(cast, "20000")
    assert roles_of(request) == ["department_head", "finance"]
    assert request.steps.get(role="finance").over_budget
    assert request.budget_fit == "does_not_fit"


def test_over_budget_can_be_refused_by_setting(cast: Cast, settings: object) -> None:
    settings.APPROVAL_OVER_BUDGET = "refuse"  # type: ignore[attr-defined]
    request = open_request(cast, "20000")
    with pytest.raises(ValidationError, match="预算"):
        services.request_submit(request=request, user=cast.software_admin)
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.DRAFT and not request.steps.exists()


def test_tiers_may_not_overlap(cast: Cast) -> None:
    from renewals.requests.services.tiers import tier_save

    with pytest.raises(ValidationError):
        tier_save(
            tier=ApprovalTier(
                name="x",
                min_amount=Decimal("40000"),
                max_amount=Decimal("60000"),
                roles=["finance"],
            )
        )


# --- decisions --------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["100", "49999.99", "50000.00", "900000"])
def test_nobody_approves_their_own_request(funded: Cast, amount: str) -> None:
    # The head of A opens the request themselves: they may not sign its head step.
    request = open_request(funded, amount, user=funded.head_a)
    services.request_submit(request=request, user=funded.head_a)
    with pytest.raises(services.DecisionRefused) as refused:
        services.step_decide(request=request, user=funded.head_a, decision="approve")
    assert refused.value.code == "own_request"
    assert request.steps.get(position=1).status == ApprovalStep.Status.PENDING


def test_one_person_holding_head_and_finance_cannot_sign_both_steps(funded: Cast) -> None:
    user_set_roles(user=funded.head_a, roles=[Role.DEPARTMENT_HEAD, Role.FINANCE])
    request = submitted(funded, "60000")
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    with pytest.raises(services.DecisionRefused) as refused:
        services.step_decide(request=request, user=funded.head_a, decision="approve")
    assert refused.value.code == "signed_earlier"
    services.step_decide(request=request, user=funded.finance, decision="approve")
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.APPROVED


def test_finance_cannot_sign_before_the_head(funded: Cast) -> None:
    request = submitted(funded, "60000")
    with pytest.raises(services.DecisionRefused) as refused:
        services.step_decide(request=request, user=funded.finance, decision="approve")
    assert refused.value.code == "not_your_step"


def test_the_head_of_another_department_cannot_sign(funded: Cast) -> None:
    request = submitted(funded, "100")
    with pytest.raises(services.DecisionRefused):
        services.step_decide(request=request, user=funded.head_b, decision="approve")


def test_final_approval_commits_the_budget_once(funded: Cast) -> None:
    request = submitted(funded, "60000")
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.IN_APPROVAL
    assert not LedgerEntry.objects.filter(reference=request.budget_reference).exists()
    services.step_decide(request=request, user=funded.finance, decision="approve", comment="ok")
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.APPROVED
    entry = LedgerEntry.objects.get(reference=request.budget_reference, kind="commitment")
    assert entry.amount == Decimal("60000.00") and entry.budget.year == YEAR
    with pytest.raises(services.DecisionRefused) as refused:
        services.step_decide(request=request, user=funded.finance, decision="approve")
    assert refused.value.code == "already_decided"


def test_reject_and_return_need_a_comment(funded: Cast) -> None:
    request = submitted(funded, "100")
    with pytest.raises(services.DecisionRefused) as refused:
        services.step_decide(request=request, user=funded.head_a, decision="reject")
    assert refused.value.code == "comment_required"


def test_returned_request_is_changed_and_resubmitted_in_a_new_round(funded: Cast) -> None:
    request = submitted(funded, "60000")
    services.step_decide(request=request, user=funded.head_a, decision="return", comment="少买点")
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.RETURNED
    services.request_update(request=request, user=funded.software_admin, data={"proposed_seats": 8})
    services.request_submit(request=request, user=funded.software_admin)
    request.refresh_from_db()
    assert request.round == 2 and request.status == RenewalRequest.Status.SUBMITTED
    assert request.steps.filter(round=1, status="returned").count() == 1
    assert request.steps.get(round=2, position=1).status == ApprovalStep.Status.PENDING


def test_changing_the_quote_after_an_approval_invalidates_it(funded: Cast) -> None:
    request = submitted(funded, "60000")
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    services.quote_save(
        request=request,
        user=funded.software_admin,
        quote=request.chosen_quote,
        data={"unit_price": Decimal("40000")},
    )
    request.refresh_from_db()
    assert request.round == 2 and request.amount_base == Decimal("40000.00")
    assert request.steps.get(round=1, position=1).status == ApprovalStep.Status.SUPERSEDED
    # Re-routed by the new amount: the head alone now, and they must sign again.
    assert roles_of(request) == ["department_head"]
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    request.refresh_from_db()
    assert request.status == RenewalRequest.Status.APPROVED


def test_choosing_another_quote_during_approval_reroutes(funded: Cast) -> None:
    request = submitted(funded, "100")
    other = services.quote_save(
        request=request,
        user=funded.software_admin,
        data={
            "vendor_name": "ClickUp",
            "product": "ClickUp",
            "seats": 10,
            "unit_price": Decimal("500"),
        },
    )
    assert request.steps.filter(round=1, status="pending").exists()  # adding a quote is harmless
    services.quote_choose(request=request, user=funded.software_admin, quote=other)
    request.refresh_from_db()
    assert request.round == 2 and request.amount_base == Decimal("5000.00")


def test_reject_releases_nothing_and_cancel_releases_the_commitment(funded: Cast) -> None:
    request = submitted(funded, "1000")
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    before = balance(funded.budget_a)
    assert before.committed == Decimal("1000.00")
    services.request_cancel(request=request, user=funded.software_admin, reason="换供应商")
    after = balance(funded.budget_a)
    assert after.committed == 0 and after.available == before.available + Decimal("1000.00")


def test_a_second_open_request_for_the_same_subscription_is_refused(funded: Cast) -> None:
    open_request(funded, "100")
    with pytest.raises(ValidationError, match="进行中"):
        services.request_create(subscription=funded.subscription_a, user=funded.it_admin)


def test_people_outside_the_department_cannot_open_a_request(cast: Cast) -> None:
    for user in (cast.head_b, cast.auditor, cast.finance):
        with pytest.raises(PermissionDenied):
            services.request_create(subscription=cast.subscription_a, user=user)
