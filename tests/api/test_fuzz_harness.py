"""The fuzzing harness can fail: it reports a server error and an undocumented body, the leak
check sees another department's objects, the state of department A notices a change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from schemathesis.generation import GenerationMode

from org import services as org_services
from renewals.inventory.models import Subscription
from renewals.requests.models.requests import RenewalRequest
from tests.api.fuzzing import World, department_a_state, fuzz, leaks
from tests.conftest import Cast

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
    from renewals.api.vendors import VendorRecordSerializer

    monkeypatch.setattr(VendorRecordSerializer, "to_representation", lambda self, v: {"id": "x"})
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
