"""What the new-purchase tests share: an employee who is a person of department A, people to
give seats to, a live tool of the same product in department B and one of the same category."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.test import Client

from budgets import services as budget_services
from org.models import Person, User
from renewals.inventory.models import Subscription
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.services.intake import new_purchase_create
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import PersonFactory, SubscriptionFactory, VendorFactory

START = dt.date(2027, 1, 1)


@dataclass
class Intake:
    cast: Cast
    me: Person  # the employee's own person (department A)
    alice: Person
    bob: Person
    leaver: Person
    jira_b: Subscription  # the same product, live in department B
    asana_b: Subscription  # the same category, live in department B


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def build(cast: Cast) -> Intake:
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    me = cast.person_a
    me.user = cast.employee
    me.save()
    alice = PersonFactory.create(department=cast.dept_a, name="Alice", employee_no="E100")
    bob = PersonFactory.create(department=cast.dept_a, name="Bob", email="Bob@Example.test")
    leaver = PersonFactory.create(
        department=cast.dept_a, name="Lee", status="left", left_on=dt.date(2026, 3, 1)
    )
    atlassian = VendorFactory.create(name="Atlassian")
    jira_b = SubscriptionFactory.create(
        department=cast.dept_b, vendor=atlassian, product="Jira Software", category="project",
        seats_purchased=20,
    )  # fmt: skip
    for person in PersonFactory.create_batch(5, department=cast.dept_b):
        Seat.objects.create(subscription=jira_b, person=person, assigned_on=dt.date(2026, 1, 1))
    asana_b = SubscriptionFactory.create(
        department=cast.dept_b, vendor=VendorFactory.create(name="Asana"), product="Asana",
        category="project",
    )  # fmt: skip
    return Intake(cast, me, alice, bob, leaver, jira_b, asana_b)


def fields(intake: Intake, **over: Any) -> dict[str, Any]:
    """The service's arguments for "Jira Software for department A"."""
    return {
        "department": intake.cast.dept_a,
        "vendor_name": "atlassian",
        "product": "jira software",
        "edition": "Standard",
        "category": "project",
        "seats": 5,
        "modules": ["Advanced Roadmaps"],
        "billing_cycle": "annual",
        "term_start": START,
        "term_months": 12,
        "unit_price": Decimal("600.00"),
        "currency": "CNY",
        "justification": "测试团队需要缺陷跟踪",
        "people": ["E100", "bob@example.test"],
    } | over


def create(intake: Intake, user: User | None = None, **over: Any) -> RenewalRequest:
    return new_purchase_create(user=user or intake.cast.employee, **fields(intake, **over))


def form_data(intake: Intake, **over: Any) -> dict[str, Any]:
    """The intake page's POST for the same purchase."""
    return {
        "department": intake.cast.dept_a.pk,
        "vendor": "",
        "vendor_name": "Atlassian",
        "product": "Jira Software",
        "edition": "Standard",
        "category": "project",
        "seats": "5",
        "modules": "Advanced Roadmaps",
        "billing_cycle": "annual",
        "term_start": START.isoformat(),
        "term_months": "12",
        "unit_price": "600.00",
        "currency": "CNY",
        "justification": "测试团队需要缺陷跟踪",
        "people": "E100\nbob@example.test",
    } | over
