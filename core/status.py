"""Statuses as coloured badges: one mapping from a status to a Bootstrap badge colour for the
pages of every app (subscriptions, requests, approval steps, risks, contracts, deliveries,
imports, briefings, campaigns, suggestions). The status's text is always inside the badge, so a
screen reader (and a colour-blind reader) gets it; the colour only repeats it.

``{% load status %}{% status_badge object %}`` in templates, ``badge_html(kind, value, label)``
for rows written in Python. ``kind`` is the model's ``_meta.model_name``.
"""

from __future__ import annotations

import html
from typing import Any

# The colour of a status value wherever it appears...
DEFAULT = {
    "active": "success",
    "renewing": "info",
    "expired": "danger",
    "cancelled": "secondary",
    "draft": "secondary",
    "submitted": "primary",
    "in_approval": "primary",
    "returned": "warning",
    "approved": "success",
    "rejected": "danger",
    "executed": "success",
    "waiting": "light",
    "pending": "warning",
    "superseded": "secondary",
    "sending": "info",
    "sent": "success",
    "failed": "danger",
    "skipped": "secondary",
    "stopped": "secondary",
    "queued": "secondary",
    "ready": "success",
    "validating": "info",
    "invalid": "danger",
    "committing": "info",
    "done": "success",
    "accepted": "info",
    "declined": "secondary",
    "realised": "success",
    "open": "primary",
    "closed": "secondary",
    "mitigating": "warning",
    "proposed": "info",
    "granted": "success",
    "escalated": "warning",
    "withdrawn": "secondary",
}
# ...unless the kind of object gives the value another meaning.
BY_KIND: dict[str, dict[str, str]] = {
    "risk": {"open": "danger", "accepted": "secondary"},
    "importjob": {"ready": "primary"},
    "approvalstep": {"pending": "primary"},
    "suggestion": {"submitted": "warning", "accepted": "primary"},
    "seatrequest": {"open": "warning", "escalated": "info"},
}


def badge_class(kind: str, value: str) -> str:
    """'text-bg-success' etc. (light badges get a border, or they vanish on white)."""
    style = BY_KIND.get(kind, {}).get(value) or DEFAULT.get(value, "secondary")
    return f"text-bg-{style}" + (" border" if style == "light" else "")


def badge_html(kind: str, value: str, label: Any) -> str:
    """The badge as HTML; ``label`` (the status's display text) is escaped here."""
    return (
        f'<span class="badge {badge_class(kind, value)}" data-status="{html.escape(value)}">'
        f"{html.escape(str(label))}</span>"
    )


__all__ = ["BY_KIND", "DEFAULT", "badge_class", "badge_html"]
