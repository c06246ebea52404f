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

import time
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler

from org import services as org_services
from org.models import User
from tests.api.fuzzing import World, department_a_state, fuzz, leaks
from tests.conftest import Cast

ROLES = ["it_admin", "finance", "head_a", "head_b", "software_admin", "auditor", "employee"]
# Roles that may not change anything of department A (through the API or otherwise).
OUTSIDERS_OF_A = {"head_b", "finance", "auditor", "employee"}


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
