"""Fixtures of the API fuzzing tests: the schemathesis schema, the WSGI application inside the
test's transaction, and the objects of departments A and B the fuzzer meets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from budgets.models import Budget, LedgerEntry
from contracts.services import contract_save, document_upload
from org.models import Department, Person
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import Subscription
from renewals.requests.services import request_create, request_submit
from renewals.seats.services import seat_request_create
from renewals.usage.models import MonthlyUsage, Seat
from tests.api.fuzzing import World, openapi_schema
from tests.conftest import Cast
from tests.factories import ModuleFactory, PersonFactory, SubscriptionFactory, VendorFactory
from tests.helpers import TINY_PDF


@pytest.fixture(scope="module")
def api_schema(django_db_setup: None) -> Any:
    config = schemathesis.Config()
    schema = schemathesis.openapi.from_dict(openapi_schema(), config=config)
    schema.config.generation.update(
        with_security_parameters=False,  # the token is ours, one per role
        allow_x00=True,
        deterministic=True,
    )
    return schema


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """The project's WSGI application, inside the test's transaction: like Django's test client,
    requests do not close the connection (that would end the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


PDF = TINY_PDF


def _department_objects(
    cast: Cast, department: Department, person: Person, subscription: Subscription, tag: str
) -> dict[str, set[int]]:
    module = ModuleFactory.create(subscription=subscription, name=f"{tag} Gantt")
    seat = Seat.objects.create(
        subscription=subscription, person=person, assigned_on=date(2026, 1, 1), account=f"{tag}@x"
    )
    usage = MonthlyUsage.objects.create(
        subscription=subscription, module=module, month=date(2026, 9, 1), active_users=4
    )
    head = cast.head_a if tag == "A" else cast.head_b
    draft = request_create(subscription=subscription, user=head, justification=f"Zq-{tag}-justify")
    other = SubscriptionFactory.create(
        department=department, vendor=subscription.vendor, product=f"Zq-{tag}-product 2"
    )
    submitted = request_create(subscription=other, user=cast.it_admin)
    submitted = request_submit(request=submitted, user=cast.it_admin)
    contract = contract_save(
        user=cast.it_admin,
        subscription=subscription,
        data={
            "number": f"{tag}-C-1",
            "counterparty": f"Zq-{tag}-counterparty",
            "valid_from": date(2027, 1, 1),
            "valid_to": date(2027, 12, 31),
            "total_value": 1000,
        },
    )
    document = document_upload(
        contract=contract,
        user=cast.it_admin,
        kind="main",
        upload=SimpleUploadedFile(f"{tag}.pdf", PDF + tag.encode(), "application/pdf"),
    )
    delivery = AlertDelivery.objects.create(
        subscription=subscription, term_end=subscription.term_end, kind="term_end",
        threshold=30, due_on=date(2026, 12, 1), channel="in_app", recipient=head,
    )  # fmt: skip
    free = SubscriptionFactory.create(  # no request under way: one can be opened
        department=department, vendor=subscription.vendor, product=f"Zq-{tag}-product 3"
    )
    budget = Budget.objects.get_or_create(department=department, year=2027)[0]
    entry = LedgerEntry.objects.create(budget=budget, kind="allocation", amount=500, memo=tag)
    seat_request = seat_request_create(
        user=cast.it_admin, subscription=free, reason=f"Zq-{tag}-seat",
        person=PersonFactory.create(department=department),
    )  # fmt: skip
    return {
        "department": {department.pk},
        "person": {person.pk},
        "vendor": {subscription.vendor_id},
        "subscription": {subscription.pk, other.pk, free.pk},
        "module": {module.pk},
        "seat": {seat.pk},
        "usage": {usage.pk},
        "request": {draft.pk, submitted.pk},
        "step": set(submitted.steps.values_list("pk", flat=True)),
        "contract": {contract.pk},
        "document": {document.pk},
        "delivery": {delivery.pk},
        "budget": {budget.pk},
        "ledger": {entry.pk},
        "seat_request": {seat_request.pk},
    }


@pytest.fixture
def world(cast: Cast) -> World:
    vendor_a = VendorFactory.create(name="Zq-A-vendor")
    sub_a = cast.subscription_a
    sub_a.vendor = vendor_a
    sub_a.product = "Zq-A-product"
    sub_a.save()
    person_a = cast.person_a
    person_a.name = "Zq-A-person"
    person_a.save()
    a = _department_objects(cast, cast.dept_a, person_a, sub_a, "A")
    a["department"].add(cast.dept_a_child.pk)
    a["person"].add(PersonFactory.create(department=cast.dept_a_child).pk)
    a["budget"].add(cast.budget_a.pk)
    a["ledger"].add(cast.ledger_entry.pk)
    vendor_b = VendorFactory.create(name="Vendor of B")
    sub_b = SubscriptionFactory.create(department=cast.dept_b, vendor=vendor_b, ref="B-1")
    person_b = PersonFactory.create(department=cast.dept_b)
    b = _department_objects(cast, cast.dept_b, person_b, sub_b, "B")
    return World(a=a, b=b)
