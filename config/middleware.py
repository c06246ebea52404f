"""Middleware of our own."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import Resolver404, resolve
from pghistory.middleware import HistoryMiddleware

from core.audit import MASK, looks_secret_name, mask_url
from org.security import client_ip


def audit_path(request: HttpRequest) -> str:
    """The path as the audit trail records it: a URL argument named like a secret (a calendar
    feed's token, a callback's key) is masked; a path no view answers is masked like a webhook
    URL (token-like segments)."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return str(mask_url(request.path))
    path = request.path
    for name, value in match.kwargs.items():
        if looks_secret_name(name) and str(value):
            path = path.replace(str(value), MASK)
    return path


class AuditMiddleware(HistoryMiddleware):
    """pghistory's context (the signed-in user, also when DRF authenticates a token later, and
    the URL, with secrets in it masked), plus the method and the client address."""

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        return {
            **super().get_context(request),
            "url": audit_path(request),
            "method": request.method,
            "ip": client_ip(request),
        }
