"""Property-based fuzzing of the REST API (/api/v1/) with schemathesis, against our own OpenAPI
schema (generated in-process by drf-spectacular) and through the WSGI application itself (no
server, no network), with a token for each role.

For every operation and every role: no 5xx, every status code, content type and body documented
by the schema; for department B's head, no department-A object in any answer; for those who may
not change department A (head B, finance, auditor, employee), department A's data unchanged.
Generated ids are often swapped for real ones of both departments (else nearly every detail call
would be a 404 on a random id and the scoping would go untested).

Bounded for CI: a fixed number of examples per operation and mode, derandomised (the same cases
on every run), no shrinking, no example database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from budgets.models import Budget, LedgerEntry
from contracts.models import Contract, ContractDocument
from contracts.services import contract_save, document_upload
from org import services as org_services
from org.models import Department, Person, User
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import Module, Subscription, Vendor
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.services.requests import request_create, request_submit
from renewals.usage.models import MonthlyUsage, Seat
from tests.conftest import Cast
from tests.factories import ModuleFactory, PersonFactory, SubscriptionFactory, VendorFactory
from tests.helpers import TINY_PDF

ROLES = ["it_admin", "finance", "head_a", "head_b", "software_admin", "auditor", "employee"]
# Roles that may not change anything of department A (through the API or otherwise).
OUTSIDERS_OF_A = {"head_b", "finance", "auditor", "employee"}
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Free text of department A's objects: none of it may reach head B, whatever the answer.
A_MARKERS = ["Zq-A-vendor", "Zq-A-product", "Zq-A-person", "Zq-A-justify", "Zq-A-counterparty"]


def openapi_schema() -> dict[str, Any]:
    """The schema /api/v1/schema/ serves, as JSON data."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


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


# --- the data the fuzzer meets ---------------------------------------------------------------


@dataclass
class World:
    """Objects of departments A and B, by kind; every kind is also an id the fuzzer may use."""

    a: dict[str, set[int]] = field(default_factory=dict)
    b: dict[str, set[int]] = field(default_factory=dict)

    def ids(self, kind: str) -> list[int]:
        return sorted(self.a.get(kind, set()) | self.b.get(kind, set()))


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


def department_a_state(cast: Cast) -> dict[str, list[dict[str, Any]]]:
    """Every row of department A (and its sub-department) the API could touch."""
    departments = [cast.dept_a.pk, cast.dept_a_child.pk]
    queries: dict[str, Any] = {
        "department": Department.objects.filter(pk__in=departments),
        "person": Person.objects.filter(department__in=departments),
        "vendor": Vendor.objects.filter(subscriptions__department__in=departments),
        "subscription": Subscription.objects.filter(department__in=departments),
        "module": Module.objects.filter(subscription__department__in=departments),
        "seat": Seat.objects.filter(subscription__department__in=departments),
        "usage": MonthlyUsage.objects.filter(subscription__department__in=departments),
        "request": RenewalRequest.objects.filter(department__in=departments),
        "quote": Quote.objects.filter(request__department__in=departments),
        "step": ApprovalStep.objects.filter(request__department__in=departments),
        "contract": Contract.objects.filter(subscription__department__in=departments),
        "document": ContractDocument.objects.filter(
            contract__subscription__department__in=departments
        ).defer("text"),
        "delivery": AlertDelivery.objects.filter(subscription__department__in=departments),
        "budget": Budget.objects.filter(department__in=departments),
        "ledger": LedgerEntry.objects.filter(budget__department__in=departments),
    }
    return {name: list(q.order_by("pk").values()) for name, q in queries.items()}


# --- the harness -----------------------------------------------------------------------------

# Which kind of object an id-carrying field names, wherever it appears in a body.
REFERENCE_FIELDS = {
    "department": "department",
    "parent": "department",
    "person": "person",
    "vendor": "vendor",
    "subscription": "subscription",
    "budget": "budget",
    "contract": "contract",
    "renewal_request": "request",
}
# Which kind of object a path's "id" and its list's results are.
PATH_KINDS = {
    "departments": "department",
    "people": "person",
    "vendors": "vendor",
    "subscriptions": "subscription",
    "seats": "seat",
    "usage": "usage",
    "requests": "request",
    "deliveries": "delivery",
    "contracts": "contract",
    "documents": "document",
    "budgets": "budget",
    "ledger": "ledger",
}
NESTED_KINDS = {"modules": "module", "pending_steps": "step", "documents": "document"}


@dataclass
class Exchange:
    label: str
    status: int
    body: Any


@dataclass
class FuzzResult:
    failures: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    calls: int = 0


def _swap_ids(case: Any, choose: Callable[[str], int | None]) -> None:
    """Point some of the generated ids (path, filters, body) at real objects of their kind, of
    either department."""
    resource = case.operation.path.split("/api/v1/")[-1].split("/")[0]
    if "id" in (case.path_parameters or {}) and resource in PATH_KINDS:
        if (picked := choose(PATH_KINDS[resource])) is not None:
            case.path_parameters["id"] = picked
    targets = [case.query] if isinstance(case.query, dict) else []
    if isinstance(case.body, dict):
        targets.append(case.body)
        rows = case.body.get("rows")
        targets += [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
    for target in targets:
        for name in [n for n in target if n in REFERENCE_FIELDS]:
            if (picked := choose(REFERENCE_FIELDS[name])) is not None:
                target[name] = picked


SETTINGS = hypothesis.settings(
    derandomize=True,  # the same cases on every run
    database=None,
    deadline=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # no shrinking
    suppress_health_check=list(hypothesis.HealthCheck),
    report_multiple_bugs=False,
)


def _fuzz_operation(
    operation: Any, mode: GenerationMode, count: int, app: Any, token: str, world: World,
    result: FuzzResult,
) -> None:  # fmt: skip
    headers = {"Authorization": f"Token {token}"}
    strategy = operation.as_strategy(generation_mode=mode, headers=headers)

    @hypothesis.settings(SETTINGS, max_examples=count)
    @hypothesis.given(case=strategy, data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        def choose(kind: str) -> int | None:
            ids = world.ids(kind)
            if not ids or not data.draw(st.integers(0, 3)):
                return None  # a quarter keep the generated value
            return data.draw(st.sampled_from(ids))

        if mode is GenerationMode.POSITIVE:  # a swap could undo what makes a case negative
            _swap_ids(case, choose)
        case.headers = {**(case.headers or {}), **headers}
        # A savepoint per call, as each request is its own transaction in production: one
        # database error (a 500, reported) does not abort the test's transaction for the rest.
        with transaction.atomic():
            response = case.call(app=app)
        result.calls += 1
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        result.exchanges.append(Exchange(operation.label, response.status_code, body))
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as exc:  # recorded, and the run goes on
            for failure in exc.exceptions:
                result.failures.append(
                    f"{operation.label} [{mode.value}] {failure.title} "
                    f"({response.status_code}): {failure.message.strip()}\n"
                    f"  {case.as_curl_command()}\n  {response.text[:300]}"
                )

    run()


def fuzz(
    schema: Any,
    app: Any,
    token: str,
    world: World,
    *,
    operations: Callable[[Any], bool] = lambda op: True,
    examples: dict[GenerationMode, int] = EXAMPLES,
) -> FuzzResult:
    """Run every operation's generated cases with ``token``; collect failed checks (not raised,
    so one run reports them all) and every answer."""
    result = FuzzResult()
    for outcome in schema.get_all_operations():
        operation = outcome.ok()
        if operations(operation):
            for mode, count in examples.items():
                _fuzz_operation(operation, mode, count, app, token, world, result)
    return result


def _walk(value: Any, kind: str | None) -> Iterator[tuple[str, int]]:
    """(kind, id) of every object in an answer: the object's own id and the ids it refers to."""
    if isinstance(value, list):
        for item in value:
            yield from _walk(item, kind)
    elif isinstance(value, dict):
        if kind and isinstance(value.get("id"), int):
            yield kind, value["id"]
        for name, item in value.items():
            if name in REFERENCE_FIELDS and isinstance(item, int):
                yield REFERENCE_FIELDS[name], item
            elif name == "results":
                yield from _walk(item, kind)
            elif name in NESTED_KINDS:
                yield from _walk(item, NESTED_KINDS[name])
            elif isinstance(item, dict | list) and name != "id":
                yield from _walk(item, None)


def leaks(exchanges: list[Exchange], hidden: dict[str, set[int]]) -> list[str]:
    """Objects of ``hidden`` found in successful answers, and A's text in any answer."""
    found = []
    for exchange in exchanges:
        text = json.dumps(exchange.body, ensure_ascii=False)
        found += [f"{exchange.label}: {m}" for m in A_MARKERS if m in text]
        if not 200 <= exchange.status < 300:
            continue
        resource = exchange.label.split("/api/v1/")[-1].split("/")[0]
        for kind, pk in _walk(exchange.body, PATH_KINDS.get(resource)):
            if pk in hidden.get(kind, set()):
                found.append(f"{exchange.label}: {kind} {pk}")
    return found


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_api_survives_fuzzing_as_each_role(
    role: str, cast: Cast, world: World, api_schema: Any, wsgi_app: WSGIHandler
) -> None:
    user: User = getattr(cast, role)
    token = org_services.api_token_create(user=user)
    before = department_a_state(cast)
    started = time.monotonic()

    result = fuzz(api_schema, wsgi_app, token, world)

    elapsed = time.monotonic() - started
    assert result.calls > 300, result.calls  # every operation was really exercised
    if result.failures:
        pytest.fail(f"{len(result.failures)} failed checks:\n\n" + "\n\n".join(result.failures))
    if role in OUTSIDERS_OF_A:
        assert department_a_state(cast) == before
    if role == "head_b":
        assert not leaks(result.exchanges, world.a)
        # ... and head B really saw their own department's objects through the same walk.
        assert leaks(result.exchanges, world.b)
    print(f"{role}: {result.calls} calls in {elapsed:.1f}s")


# --- the harness can fail ----------------------------------------------------------------------

FEW = {GenerationMode.POSITIVE: 3}


def _only(label: str) -> Callable[[Any], bool]:
    return lambda operation: operation.label == label


def test_the_harness_reports_a_server_error(
    cast: Cast, world: World, api_schema: Any, wsgi_app: WSGIHandler, monkeypatch: Any
) -> None:
    from renewals.api import VendorViewSet

    def broken(self: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(VendorViewSet, "get_queryset", broken)
    token = org_services.api_token_create(user=cast.it_admin)
    result = fuzz(api_schema, wsgi_app, token, world, operations=_only("GET /api/v1/vendors/"), examples=FEW)  # fmt: skip
    assert result.calls == 3
    assert {e.status for e in result.exchanges} == {500}
    assert any("Server error (500)" in f for f in result.failures)


def test_the_harness_reports_an_undocumented_body(
    cast: Cast, world: World, api_schema: Any, wsgi_app: WSGIHandler, monkeypatch: Any
) -> None:
    from renewals.api import VendorSerializer

    monkeypatch.setattr(VendorSerializer, "to_representation", lambda self, v: {"id": "x"})
    token = org_services.api_token_create(user=cast.it_admin)
    result = fuzz(api_schema, wsgi_app, token, world, operations=_only("GET /api/v1/vendors/"), examples=FEW)  # fmt: skip
    assert any("Response violates schema" in f for f in result.failures), result.failures


def test_the_leak_check_sees_another_departments_objects(
    cast: Cast, world: World, api_schema: Any, wsgi_app: WSGIHandler, monkeypatch: Any
) -> None:
    from renewals.api import SubscriptionViewSet

    monkeypatch.setattr(SubscriptionViewSet, "get_queryset", lambda self: Subscription.objects.all())  # fmt: skip
    token = org_services.api_token_create(user=cast.head_b)
    result = fuzz(api_schema, wsgi_app, token, world, operations=_only("GET /api/v1/subscriptions/"), examples=FEW)  # fmt: skip
    found = leaks(result.exchanges, world.a)
    assert any("Zq-A-product" in f for f in found) and any("subscription" in f for f in found)


def test_the_state_of_department_a_notices_a_change(cast: Cast, world: World) -> None:
    before = department_a_state(cast)
    RenewalRequest.objects.filter(department=cast.dept_a).update(justification="changed")
    assert department_a_state(cast) != before
