"""Clients for the REST API (/api/v1/) tests: a fresh token per user, JSON posts and patches."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from org import services as org_services
from org.models import User


def token_for(user: User) -> str:
    return org_services.api_token_create(user=user)


def api(
    user: User | None = None, *, token: str | None = None, language: str = "", accept: str = ""
) -> Client:
    """A client that sends the user's token (a fresh one unless given), no session."""
    headers = {}
    if language:
        headers["Accept-Language"] = language
    if accept:
        headers["Accept"] = accept
    if user is not None and token is None:
        token = token_for(user)
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    return Client(headers=headers)


def post(client: Client, url: str, data: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def patch(client: Client, url: str, data: Any) -> Any:
    return client.patch(url, json.dumps(data), content_type="application/json")
