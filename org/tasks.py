"""django-q2 entry points of the org app."""

from __future__ import annotations

from django.utils import timezone


def heartbeat() -> str:
    """Runs every minute so /healthz can tell when the worker cluster last did something."""
    return timezone.now().isoformat()
