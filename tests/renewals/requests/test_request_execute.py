"""Execution: the subscription moves to its new term, who may execute, a decision not to renew."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from budgets import services as budget_services
from budgets.models import LedgerEntry
from budgets.selectors import balance
from renewals.alerts.models import AlertDelivery
from renewals.execution import services as execution_services
from renewals.inventory.models import Subscription, SubscriptionTerm
from renewals.notify.models import Notification
from renewals.requests import services
from renewals.requests.models.requests import Purpose
from tests.conftest import Cast
from tests.factories import PersonFactory, SeatFactory
from tests.renewals.requests.conftest import roles_of, submitted

# --- execution --------------------------------------------------------------------------------


def test_execution_moves_the_subscription_to_its_new_term(
    funded: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    holder = PersonFactory.create(department=funded.dept_a, email="holder@example.test")
    SeatFactory.create(subscription=funded.subscription_a, person=holder)
    user_holder = PersonFactory.create(department=funded.dept_a, user=funded.employee)
    SeatFactory.create(subscription=funded.subscription_a, person=user_holder)
    pending_alert = AlertDelivery.objects.create(
        subscription=funded.subscription_a, term_end=dt.date(2026, 12, 31), kind="term_end",
        threshold=7, due_on=dt.date(2026, 12, 24), channel="in_app", recipient=funded.it_admin,
    )  # fmt: skip
    request = submitted(funded, "9000")
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        execution_services.request_execute(
            request=request, user=funded.finance, order_ref="PO-2027-001", fapiao_no="FP-88",
            actual_amount=Decimal("8800.00"), actual_currency="CNY",
            term_start=dt.date(2027, 1, 1), term_end=dt.date(2027, 12, 31), seats=12,
            edition="Enterprise", modules=["Gantt"],
        )  # fmt: skip
    subscription = Subscription.objects.get(pk=funded.subscription_a.pk)
    assert (subscription.term_start, subscription.term_end) == (
        dt.date(2027, 1, 1),
        dt.date(2027, 12, 31),
    )
    assert subscription.seats_purchased == 12 and subscription.edition == "Enterprise"
    assert list(subscription.modules.values_list("name", flat=True)) == ["Gantt"]
    old = SubscriptionTerm.objects.get(subscription=subscription)
    assert (old.term_start, old.term_end, old.seats) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
        10,
    )
    # The on-time renewal rate reads when the renewal was recorded.
    assert old.renewed_at is not None and old.renewed_at <= timezone.now()
    entries = LedgerEntry.objects.filter(reference=request.budget_reference)
    assert sorted(entries.values_list("kind", flat=True)) == [
        "actual",
        "commitment",
        "commitment_release",
    ]
    # The commitment is released in its budget (the new term's year); the actual is booked in
    # the budget of the year it is paid in (BUDGET_ACTUALS_YEAR=payment; tests/budgets/
    # test_actuals_year.py covers both settings).
    assert balance(funded.budget_a).committed == 0
    paid_in = budget_services.budget_for(
        department=funded.dept_a, year=budget_services.local_today().year
    )
    assert balance(paid_in).actual == Decimal("8800.00")
    pending_alert.refresh_from_db()
    assert pending_alert.status == AlertDelivery.Status.STOPPED
    request.refresh_from_db()
    assert request.status == "executed" and request.holders_notified_at is not None
    # Every holder told: the one with an account in-app and by e-mail, the other by e-mail.
    assert Notification.objects.filter(
        user=funded.employee, title__contains=funded.subscription_a.product
    ).exists()
    told = {address for m in mail.outbox for address in m.to}
    assert {"holder@example.test", funded.employee.email} <= told
    # Telling them again (a retried task) sends nothing more.
    count = len(mail.outbox)
    assert execution_services.seat_holders_notify(request_id=request.pk) == 0
    assert len(mail.outbox) == count


def test_only_it_or_finance_execute_and_only_approved_requests(funded: Cast) -> None:
    request = submitted(funded, "100")
    kwargs = dict(
        order_ref="PO", fapiao_no="", actual_amount=Decimal("100"), actual_currency="CNY",
        term_start=dt.date(2027, 1, 1), term_end=dt.date(2027, 12, 31),
        seats=1, edition="", modules=[],
    )  # fmt: skip
    with pytest.raises(ValidationError, match="已批准"):
        execution_services.request_execute(request=request, user=funded.finance, **kwargs)  # type: ignore[arg-type]
    services.step_decide(request=request, user=funded.head_a, decision="approve")
    with pytest.raises(PermissionDenied):
        execution_services.request_execute(request=request, user=funded.head_a, **kwargs)  # type: ignore[arg-type]


def test_a_decision_not_to_renew_ends_the_subscription_at_its_term_end(
    funded: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    funded.subscription_a.auto_renew = True
    funded.subscription_a.owner = funded.software_admin
    funded.subscription_a.save()
    request = services.request_create(
        subscription=funded.subscription_a, user=funded.it_admin, purpose=Purpose.CANCEL,
        justification="没人用",
    )  # fmt: skip
    services.request_submit(request=request, user=funded.it_admin)
    request.refresh_from_db()
    assert request.amount_base == 0 and roles_of(request) == ["department_head"]
    with django_capture_on_commit_callbacks(execute=True):
        services.step_decide(request=request, user=funded.head_a, decision="approve")
    subscription = Subscription.objects.get(pk=funded.subscription_a.pk)
    assert subscription.ends_at_term_end
    assert not LedgerEntry.objects.filter(reference=request.budget_reference).exists()
    # The owner is reminded of the cancellation deadline.
    reminder = Notification.objects.get(user=funded.software_admin)
    assert str(subscription.cancellation_deadline) in reminder.body
    # After the term end, the daily task expires it; no "expired without renewal" alert.
    from renewals.alerts.services import alerts_sweep

    assert execution_services.subscriptions_expire_ended(today=dt.date(2027, 1, 1)) == 1
    alerts_sweep(today=dt.date(2027, 1, 1))
    assert not AlertDelivery.objects.filter(kind="expired").exists()
    assert Subscription.objects.get(pk=subscription.pk).status == "expired"
