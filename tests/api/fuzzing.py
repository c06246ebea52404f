"""The harness of the API fuzzing tests (test_fuzz.py, test_fuzz_harness.py): the schema
schemathesis reads, what department A holds, the generated calls with real ids swapped in,
and the leak check."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from django.db import transaction
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
from org.models import Department, Person
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import Module, Subscription, Vendor
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest
from renewals.seats.models import SeatRequest
from renewals.usage.models import MonthlyUsage, Seat
from tests.conftest import Cast

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


# --- the data the fuzzer meets ---------------------------------------------------------------


@dataclass
class World:
    """Objects of departments A and B, by kind; every kind is also an id the fuzzer may use."""

    a: dict[str, set[int]] = field(default_factory=dict)
    b: dict[str, set[int]] = field(default_factory=dict)

    def ids(self, kind: str) -> list[int]:
        return sorted(self.a.get(kind, set()) | self.b.get(kind, set()))


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
        "seat_request": SeatRequest.objects.filter(subscription__department__in=departments),
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
    "modules": "module",
    "subscriptions": "subscription",
    "seats": "seat",
    "usage": "usage",
    "requests": "request",
    "deliveries": "delivery",
    "contracts": "contract",
    "documents": "document",
    "budgets": "budget",
    "ledger": "ledger",
    "seat-requests": "seat_request",
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
