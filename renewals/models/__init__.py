"""Renewals models, split by concern; import them from here."""

from renewals.models.alerts import (
    AlertDelivery,
    AlertKind,
    CalendarFeed,
    ChatChannel,
    Notification,
)
from renewals.models.approvals import ApprovalStep, ApprovalTier
from renewals.models.imports import ImportJob
from renewals.models.notices import RequestNotice
from renewals.models.reports import (
    Briefing,
    CleanupCampaign,
    CleanupItem,
    Risk,
    RiskCategory,
    RiskReview,
    Suggestion,
)
from renewals.models.requests import (
    Assessment,
    Purpose,
    Quote,
    QuoteModule,
    RenewalRequest,
    RequestEvent,
)
from renewals.models.subscriptions import (
    CurrencyRate,
    Module,
    Subscription,
    SubscriptionTerm,
    Vendor,
)
from renewals.models.usage import MonthlyUsage, Seat

__all__ = [
    "Briefing",
    "CleanupCampaign",
    "CleanupItem",
    "Risk",
    "RiskCategory",
    "RiskReview",
    "Suggestion",
    "ApprovalStep",
    "ApprovalTier",
    "Assessment",
    "Purpose",
    "Quote",
    "QuoteModule",
    "RenewalRequest",
    "RequestEvent",
    "RequestNotice",
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
