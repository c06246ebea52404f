"""Middleware of our own."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from pghistory.middleware import HistoryMiddleware

from org.security import client_ip


class AuditMiddleware(HistoryMiddleware):
    """pghistory's context (the signed-in user, also when DRF authenticates a token later, and
    the URL), plus the method and the client address."""

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        return {
            **super().get_context(request),
            "method": request.method,
            "ip": client_ip(request),
        }
