"""A SCIM source, a token for it, and a client speaking SCIM to /scim/v2/ through Django's test
client (CSRF checks on: the endpoint must not need a CSRF token)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from django.http import HttpResponse
from django.test import Client
from django.test.client import ClientHandler

from integrations.models import DirectoryLink, DirectorySource
from integrations.scim.tokens import scim_source, token_create
from org.models import Person

BASE = "/scim/v2"
SCIM_JSON = "application/scim+json"


@pytest.fixture
def source(db: None) -> DirectorySource:
    return scim_source()


@pytest.fixture
def token(source: DirectorySource) -> str:
    return token_create(source=source, name="Entra ID")[1]


@dataclass
class Scim:
    client: Client
    token: str

    def __call__(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                 token: str | None = None, headers: dict[str, str] | None = None,
                 content_type: str = SCIM_JSON) -> Any:  # fmt: skip
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        auth = self.token if token is None else token
        return self.client.generic(
            method, f"{BASE}/{path.lstrip('/')}", data, content_type=content_type,
            headers={**({"Authorization": f"Bearer {auth}"} if auth else {}), **(headers or {})},
        )  # fmt: skip


@pytest.fixture
def scim(token: str) -> Scim:
    return Scim(Client(enforce_csrf_checks=True), token)


def counts() -> tuple[int, int, list[tuple[Any, ...]]]:
    """People, links, and every person's state: what "nothing changed" compares."""
    people = list(Person.objects.order_by("pk").values_list(
        "pk", "name", "email", "mobile", "status", "left_on", "department_id", "manager_id",
        "employee_no"))  # fmt: skip
    return Person.objects.count(), DirectoryLink.objects.count(), people


def wsgi_app() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """Django as a WSGI application for scim2-client, in the test's transaction: Django's test
    client handler, which keeps the test's database connection open between requests."""
    handler = ClientHandler(enforce_csrf_checks=True)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = cast(HttpResponse, handler(environ))
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]

    return app
