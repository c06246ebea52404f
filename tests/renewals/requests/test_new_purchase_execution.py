"""Executing a new purchase (#18 part 5): the proposed subscription becomes active with the term
bought, its modules and the named people's seats, the actual is booked; refused whole when a
seat cannot be given. And a proposed subscription counts nowhere as inventory."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from budgets.models import LedgerEntry
from renewals.alerts.models import AlertDelivery
from renewals.alerts.services import alerts_sweep
from renewals.execution import services as execution
from renewals.inventory.models import Subscription, SubscriptionTerm
from renewals.inventory.services import ModuleLine
from renewals.notify.calendar import events
from renewals.reports.selectors import kpis
from renewals.requests import services
from renewals.requests.models.requests import RenewalRequest
from renewals.risks.models import Risk
from renewals.risks.services import risks_refresh
from renewals.suggestions.selectors import suggestable_subscriptions
from tests.conftest import Cast
from tests.renewals.requests.intake_helpers import START, Intake, build, client_for, create

pytestmark = pytest.mark.django_db


@pytest.fixture
def intake(cast: Cast) -> Intake:
    return build(cast)


def approved(intake: Intake, **over: Any) -> RenewalRequest:
    request = create(intake, **over)
    services.request_submit(request=request, user=intake.cast.employee)
    services.step_decide(request=request, user=intake.cast.head_a, decision="approve")
    request.refresh_from_db()
    assert request.status == "approved"
    return request


def execute(intake: Intake, request: RenewalRequest, **over: Any) -> RenewalRequest:
    user = over.pop("user", intake.cast.it_admin)
    args: dict[str, Any] = {
        "order_ref": "PO-1",
        "fapiao_no": "FP-1",
        "actual_amount": Decimal("2900.00"),
        "actual_currency": "CNY",
        "term_start": START,
        "term_end": dt.date(2027, 12, 31),
        "seats": 5,
        "edition": "Standard",
        "modules": [ModuleLine(name="Advanced Roadmaps")],
        "unit_price": Decimal("580.00"),
        "currency": "CNY",
        "billing_cycle": "annual",
    } | over
    return execution.request_execute(request=request, user=user, **args)


def test_execution_makes_the_subscription_live_with_modules_seats_and_the_actual(
    intake: Intake,
) -> None:
    request = approved(intake)
    execute(intake, request)
    sub = Subscription.objects.get(pk=request.subscription_id)
    assert sub.status == "active" and sub.archived_at is None
    assert (sub.term_start, sub.term_end) == (START, dt.date(2027, 12, 31))
    assert sub.unit_price == Decimal("580.00") and sub.seats_purchased == 5
    assert list(sub.modules.values_list("name", flat=True)) == ["Advanced Roadmaps"]
    holders = set(sub.seats.filter(revoked_on__isnull=True).values_list("person_id", flat=True))
    assert holders == {intake.alice.pk, intake.bob.pk}
    # A first term: nothing went to the term history.
    assert not SubscriptionTerm.objects.filter(subscription=sub).exists()
    request.refresh_from_db()
    assert request.status == "executed" and request.actual_amount_base == Decimal("2900.00")
    kinds = set(
        LedgerEntry.objects.filter(reference=request.budget_reference).values_list(
            "kind", flat=True
        )
    )
    assert "commitment" in kinds and len(kinds) > 1


def test_the_execution_page_starts_from_the_wished_term(intake: Intake) -> None:
    request = approved(intake)
    page = client_for(intake.cast.it_admin).get(
        reverse("renewals:request-execute", args=[request.pk])
    )
    assert page.status_code == 200
    assert page.context["form"].initial["term_start"] == START
    assert [r["name"] for r in page.context["modules"].initial] == ["Advanced Roadmaps"]


def test_more_people_than_seats_refuses_the_whole_execution(intake: Intake) -> None:
    request = approved(intake)
    with pytest.raises(ValidationError, match="2"):
        execute(intake, request, seats=1)
    sub = Subscription.objects.get(pk=request.subscription_id)
    assert sub.status == "proposed" and not sub.seats.exists()
    request.refresh_from_db()
    assert request.status == "approved"


def test_a_person_who_left_since_refuses_the_execution(intake: Intake) -> None:
    request = approved(intake)
    intake.bob.status, intake.bob.left_on = "left", dt.date(2026, 12, 1)
    intake.bob.save()
    with pytest.raises(ValidationError, match="Bob"):
        execute(intake, request)
    assert Subscription.objects.get(pk=request.subscription_id).status == "proposed"


def test_finance_executes_a_new_purchase_with_its_seats(intake: Intake) -> None:
    """Finance records executions for every department: the approved seats are assigned
    although finance manages no department's seats (the execution checked who may execute)."""
    cast = intake.cast
    request = approved(intake)
    execute(intake, request, user=cast.finance)
    sub = Subscription.objects.get(pk=request.subscription_id)
    assert sub.status == "active"
    assert set(sub.seats.values_list("person__name", flat=True)) == {
        p.name for p in request.proposed_people.all()
    }


def test_a_proposed_subscription_is_no_inventory(intake: Intake) -> None:
    cast = intake.cast
    # Wished to start long ago, so its term has "ended" and is "due": still counted nowhere.
    request = create(intake, term_start=dt.date(2025, 1, 1), people=[])
    sub = request.subscription
    it = client_for(cast.it_admin)
    listed = it.get(reverse("renewals:subscription-list"))
    assert sub.ref not in listed.content.decode()
    exported = it.get(reverse("renewals:subscription-list"), {"_export": "csv"})
    assert sub.ref not in exported.content.decode()
    asked = it.get(reverse("renewals:subscription-list"), {"status": "proposed"})
    assert sub.ref in asked.content.decode()
    api = APIClient()
    api.force_authenticate(cast.it_admin)
    refs = [r["ref"] for r in api.get("/api/v1/subscriptions/").json()["results"]]
    assert sub.ref not in refs
    refs = [r["ref"] for r in api.get("/api/v1/subscriptions/?status=proposed").json()["results"]]
    assert refs == [sub.ref]
    found = events(user=cast.it_admin, start=dt.date(2025, 1, 1), end=dt.date(2026, 1, 31))
    assert all(e.subscription.pk != sub.pk for e in found)
    assert sub.pk not in kpis.lapsed_subscriptions(cast.it_admin, dt.date(2026, 6, 1)).values_list(
        "pk", flat=True
    )
    assert kpis.lapsed_count(None, dt.date(2026, 6, 1)) == 0
    alerts_sweep(today=dt.date(2025, 12, 1))
    assert not AlertDelivery.objects.filter(subscription=sub).exists()
    risks_refresh(today=dt.date(2026, 6, 1))
    assert not Risk.objects.filter(subscription=sub).exists()
    assert not suggestable_subscriptions(cast.it_admin).filter(pk=sub.pk).exists()
