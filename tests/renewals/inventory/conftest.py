"""What the subscription form tests share: a signed-in client, a valid form's data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from org.models import User
from renewals.inventory.forms.subscriptions import initial_of, sign_seen
from renewals.inventory.models import Subscription
from renewals.inventory.services.subscriptions import subscription_snapshot


def client_for(user: User | None) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    if user is not None:
        client.force_login(user)
    return client


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None:
        return ""
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def edit_data(
    subscription: Subscription, fields: tuple[str, ...], **changes: Any
) -> dict[str, Any]:
    """The edit form as the page shows it (its version and snapshot), with ``changes``."""
    subscription.refresh_from_db()
    initial = initial_of(subscription)
    data = {name: _text(initial[name]) for name in fields}
    data = {k: v for k, v in data.items() if v != ""}
    data["version"] = str(subscription.version)
    data["seen"] = sign_seen(subscription_snapshot(subscription))
    data.update({k: _text(v) for k, v in changes.items()})
    return data


def new_data(vendor_id: int, department_id: int, **changes: Any) -> dict[str, Any]:
    """A valid "add subscription" form."""
    data = {
        "ref": "NEW-1", "vendor": str(vendor_id), "product": "Figma Organization",
        "edition": "Org", "category": "design", "department": str(department_id),
        "seats_purchased": "12", "unit_price": "540.00", "currency": "CNY",
        "billing_cycle": "annual", "term_start": "2026-07-01", "term_end": "2027-06-30",
        "notice_period_days": "30", "alert_thresholds": "60, 30, 7", "tags": "设计, SaaS",
        "notes": "采购单 PO-77",
    }  # fmt: skip
    data.update({k: _text(v) for k, v in changes.items()})
    return data
