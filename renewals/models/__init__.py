"""Renewals models, split by concern; import them from here."""

from renewals.models.alerts import (
    AlertDelivery,
    AlertKind,
    CalendarFeed,
    ChatChannel,
    Notification,
)
from renewals.models.imports import ImportJob
from renewals.models.subscriptions import (
    CurrencyRate,
    Module,
    Subscription,
    SubscriptionTerm,
    Vendor,
)
from renewals.models.usage import MonthlyUsage, Seat

__all__ = [
    "AlertDelivery",
    "AlertKind",
    "CalendarFeed",
    "ChatChannel",
    "Notification",
    "CurrencyRate",
    "ImportJob",
    "Module",
    "MonthlyUsage",
    "Seat",
    "Subscription",
    "SubscriptionTerm",
    "Vendor",
]
