"""django-q2 entry points of the risk register (schedules in config/schedules.py)."""

from __future__ import annotations


def refresh_risks() -> str:
    """Daily: raise the risks whose condition holds, close those whose condition is gone."""
    from renewals.services.risks import risks_refresh

    result = risks_refresh()
    return f"{result.raised} raised, {result.closed} closed, {result.open} conditions hold"


def remind_risk_reviews() -> str:
    """Quarterly: tell each owner, once, that risks of theirs are due for review."""
    from renewals.services.risks import risks_remind_owners

    return f"{risks_remind_owners()} owners reminded"
