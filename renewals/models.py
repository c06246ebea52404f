"""Every model of the renewals app, for Django to find: each lives in its feature package
(``renewals/<feature>/models.py``); code imports a model from its feature, not from here."""

from renewals.alerts.models import AlertDelivery, AlertKind
from renewals.cleanup.models import CleanupCampaign, CleanupItem, LeaverNotice
from renewals.imports.models import ImportJob
from renewals.inventory.models import (
    CurrencyRate,
    Module,
    Subscription,
    SubscriptionTerm,
    Vendor,
)
from renewals.notify.models import CalendarFeed, ChatChannel, Notification
from renewals.reports.models import Briefing
from renewals.requests.models.approvals import ApprovalStep, ApprovalTier
from renewals.requests.models.notices import RequestNotice
from renewals.requests.models.quotes import Quote, QuoteModule
from renewals.requests.models.requests import Assessment, Purpose, RenewalRequest, RequestEvent
from renewals.risks.models import Risk, RiskCategory, RiskReview
from renewals.seats.models import SeatRequest
from renewals.suggestions.models import Suggestion
from renewals.usage.models import MonthlyUsage, Seat

__all__ = [
    "Briefing",
    "CleanupCampaign",
    "CleanupItem",
    "LeaverNotice",
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
    "SeatRequest",
    "Subscription",
    "SubscriptionTerm",
    "Vendor",
]
