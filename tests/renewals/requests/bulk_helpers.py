"""What the bulk actions' tests (test_bulk_*.py) share: the bulk addresses, a client per user,
submitted requests, the outcome of each row (the funded department is conftest.py's)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.test import Client
from django.urls import reverse

from org.models import User
from renewals.requests import services
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest
from tests.conftest import Cast
from tests.factories import SubscriptionFactory

APPROVE = reverse("renewals:approvals-bulk")
SUBSCRIPTIONS = reverse("renewals:subscriptions-bulk")
SEATS = reverse("renewals:seats-bulk")


def client_for(user: User, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def submitted(cast: Cast, amount: str = "1000", *, by: User | None = None) -> RenewalRequest:
    """A submitted request of department A (below 50,000 CNY: one step, the head's), on a
    subscription of its own (one open request per subscription)."""
    user = by or cast.software_admin
    subscription = SubscriptionFactory.create(department=cast.dept_a)
    request = services.request_create(subscription=subscription, user=user)
    assert request.chosen_quote is not None
    services.quote_save(
        request=request,
        user=user,
        quote=request.chosen_quote,
        data={"seats": 1, "unit_price": Decimal(amount), "term_months": 12},
    )
    services.request_submit(request=request, user=user)
    request.refresh_from_db()
    return request


def pending_step(request: RenewalRequest) -> ApprovalStep:
    return request.steps.get(status=ApprovalStep.Status.PENDING)


def outcomes(response: Any) -> dict[int, str]:
    """pk → outcome of each row of the response's result list."""
    text = response.content.decode()
    found: dict[int, str] = {}
    for chunk in text.split('data-testid="bulk-row"')[1:]:
        outcome = chunk.split('data-outcome="', 1)[1].split('"', 1)[0]
        pk = int(chunk.split('data-pk="', 1)[1].split('"', 1)[0])
        found[pk] = outcome
    return found
