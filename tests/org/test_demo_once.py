"""The demo is loaded once, only into an empty database, and a restart changes nothing (#15.4);
its roles are separate people and its budgets and contracts carry money (#15.5)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from budgets.models import Budget, LedgerEntry
from budgets.selectors import balances, balances_from_entries, total_mismatches
from contracts.models import Contract
from org.models import Department, User
from org.roles import Role, has_role, roles_of
from renewals.execution import services as execution_services
from renewals.inventory.models import Subscription, SubscriptionTerm
from renewals.requests import services
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.services import DecisionRefused
from renewals.usage.models import Seat

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = ("admin", "finance", "head_rd", "head_mkt", "swadmin_rd", "auditor", "employee")


def run(command: str) -> str:
    out = io.StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    """Rows of every table (the cache table is not a model)."""
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def subscription_state(sub: Subscription) -> dict[str, Any]:
    sub.refresh_from_db()
    return {
        "term": (sub.term_start, sub.term_end),
        "edition": sub.edition,
        "price": (sub.unit_price, sub.currency, sub.billing_cycle),
        "seats": sub.seats_purchased,
        "status": sub.status,
        "modules": sorted(sub.modules.values_list("name", "unit_price")),
        "holders": sorted(sub.seats.values_list("person__employee_no", "revoked_on")),
    }


def test_a_restart_keeps_an_executed_renewal_as_it_is() -> None:
    run("sync_schedules")  # start's steps before the demo, as on the first start
    run("seed_demo")
    request = RenewalRequest.objects.get(status="in_approval")  # the demo's upgrade to Enterprise
    finance = User.objects.get(username="finance")
    admin = User.objects.get(username="admin")
    services.step_decide(request=request, user=finance, decision="approve", comment="同意")
    sub = request.subscription
    old = subscription_state(sub)
    start = sub.term_end + dt.timedelta(days=1)
    execution_services.request_execute(
        request=request, user=admin, order_ref="PO-2027-001", fapiao_no="FP-0001",
        actual_amount=Decimal("64800"), actual_currency="CNY",
        term_start=start, term_end=start + dt.timedelta(days=364), seats=40,
        edition="Enterprise", modules=[],
    )  # fmt: skip
    executed = subscription_state(sub)
    assert executed != old and executed["edition"] == "Enterprise" and executed["seats"] == 40
    ledger = list(LedgerEntry.objects.order_by("pk").values_list("budget_id", "kind", "amount"))
    before = counts()

    # What `dev.py start` runs again on a restart (migrate has nothing to do).
    output = run("seed_demo")
    run("sync_schedules")
    run("createcachetable")

    assert subscription_state(sub) == executed
    request.refresh_from_db()
    assert request.status == "executed" and request.order_ref == "PO-2027-001"
    assert list(LedgerEntry.objects.order_by("pk").values_list("budget_id", "kind", "amount")) == (
        ledger
    )
    assert counts() == before
    assert "already loaded, nothing changed" in output


def test_a_database_with_its_own_data_is_left_alone() -> None:
    Department.objects.create(code="ops", name="运维部")
    output = run("seed_demo")
    assert "this database has data of its own" in output
    assert list(Department.objects.values_list("code", flat=True)) == ["ops"]
    assert not User.objects.exists() and not Subscription.objects.exists()


def test_a_user_of_their_own_is_data_of_their_own_too() -> None:
    User.objects.create_user(username="root", password="x-very-secret-1")
    assert "data of its own" in run("seed_demo")
    assert not Department.objects.exists()


def test_demo_roles_are_separate_people_and_the_money_is_booked() -> None:
    run("seed_demo")
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    assert set(users) == set(DEMO_USERNAMES)
    # The IT admin is only that: not a superuser, so not finance, a head or the auditor.
    admin = users["admin"]
    assert not admin.is_superuser and admin.is_staff
    assert roles_of(admin) == {Role.IT_ADMIN}
    assert not has_role(admin, Role.FINANCE, Role.AUDITOR, Role.DEPARTMENT_HEAD)
    expected = {
        "finance": {Role.FINANCE}, "head_rd": {Role.DEPARTMENT_HEAD},
        "head_mkt": {Role.DEPARTMENT_HEAD}, "swadmin_rd": {Role.SOFTWARE_ADMIN},
        "auditor": {Role.AUDITOR}, "employee": set(),
    }  # fmt: skip
    for username, roles in expected.items():
        user = users[username]
        assert roles_of(user) == roles, username
        assert not user.is_superuser and not user.is_staff, username
        # A display name, and the directory entry it belongs to.
        assert user.display_name and user.get_full_name() == user.display_name != username
        assert user.person.name
    # Finance's final approval is finance's: the IT admin cannot give it, finance can.
    request = RenewalRequest.objects.get(status="in_approval")
    step = request.steps.get(status="pending")
    assert step.role == Role.FINANCE
    with pytest.raises(DecisionRefused):
        services.step_decide(request=request, user=admin, decision="approve")
    services.step_decide(request=request, user=users["finance"], decision="approve")
    request.refresh_from_db()
    assert request.status == "approved"

    # The employee holds seats ("My software" has content), lately active.
    seats = Seat.objects.filter(person__user=users["employee"], revoked_on__isnull=True)
    assert seats.count() >= 3
    assert all(s.subscription.department.code == "sales" for s in seats)

    # The year of renewal history booked its actuals through the budget services: the kept
    # totals agree with the entries and this year's budgets show spend.
    actuals = LedgerEntry.objects.filter(kind="actual", reference__startswith="renewals.")
    assert actuals.count() >= 50
    ids = list(Budget.objects.values_list("pk", flat=True))
    assert balances(ids) == balances_from_entries(ids)
    assert total_mismatches() == []
    spent = actuals.aggregate(s=Sum("amount"))["s"]
    assert spent > Decimal("500000")
    assert sum((b.actual for b in balances(ids).values()), Decimal(0)) == spent
    # Each in the budget of the year it was paid (the renewal was recorded), not today's.
    paid = {
        f"renewals.SubscriptionTerm:{pk}": timezone.localtime(at).year
        for pk, at in SubscriptionTerm.objects.values_list("pk", "renewed_at")
        if at is not None
    }
    history = actuals.filter(reference__startswith="renewals.SubscriptionTerm:")
    booked = {e.reference: e.budget.year for e in history.select_related("budget")}
    assert booked and booked == {ref: paid[ref] for ref in booked}
    assert len(set(booked.values())) > 1  # the history spans the turn of the year

    # Contracts carry their value in their own currency.
    contracts = list(Contract.objects.all())
    assert len(contracts) >= 5
    assert all(c.total_value and c.total_value > 0 for c in contracts)
    assert {"CNY", "USD"} <= {c.currency for c in contracts}
    jira = next(c for c in contracts if c.number.startswith("ATL-"))
    sub = jira.subscription
    assert jira.currency == sub.currency == "USD"
    assert jira.total_value >= sub.seats_purchased * sub.unit_price * 12
