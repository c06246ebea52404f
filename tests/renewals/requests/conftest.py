"""What the renewal loop's tests share: a funded department, a request opened or submitted at
an amount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from budgets import services as budget_services
from org.models import User
from renewals.requests import services
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast

YEAR = 2027  # the factory's subscriptions end on 2026-12-31: the new term starts in 2027


@pytest.fixture
def funded(cast: Cast) -> Cast:
    """Department A has 1,000,000 CNY for 2027 (15% reserve)."""
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    return cast


def open_request(cast: Cast, amount: Decimal | str, *, user: User | None = None) -> RenewalRequest:
    """A draft for subscription A whose chosen quote costs exactly ``amount`` CNY for the term."""
    request = services.request_create(
        subscription=cast.subscription_a, user=user or cast.software_admin
    )
    assert request.chosen_quote is not None
    services.quote_save(
        request=request,
        user=user or cast.software_admin,
        quote=request.chosen_quote,
        data={"seats": 1, "unit_price": Decimal(amount), "term_months": 12},
    )
    request.refresh_from_db()
    return request


def submitted(cast: Cast, amount: Decimal | str) -> RenewalRequest:
    request = open_request(cast, amount)
    services.request_submit(request=request, user=cast.software_admin)
    request.refresh_from_db()
    return request


def roles_of(request: RenewalRequest) -> list[str]:
    return list(
        request.steps.filter(round=request.round)
        .order_by("position")
        .values_list("role", flat=True)
    )
