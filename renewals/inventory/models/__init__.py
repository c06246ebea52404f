"""What the company pays for: vendors, subscriptions, their modules and past terms, and the
exchange rates their prices are converted with. Code imports them from here
(``from renewals.inventory.models import Subscription``); each lives in a module of this package:
``rates`` (CurrencyRate), ``vendors`` (Vendor), ``subscriptions`` (Subscription, its billing
cycles and search pieces), ``terms`` (Module, SubscriptionTerm)."""

from renewals.inventory.models.rates import CURRENCY_PATTERN, CurrencyRate
from renewals.inventory.models.subscriptions import (
    CENT,
    LIVE_STATUSES,
    LIVE_STATUSES_SQL,
    SEARCH_SEPARATOR,
    BillingCycle,
    Subscription,
    grams,
    product_name,
    query_grams,
)
from renewals.inventory.models.terms import Module, SubscriptionTerm
from renewals.inventory.models.vendors import Vendor

__all__ = [
    "CENT",
    "CURRENCY_PATTERN",
    "LIVE_STATUSES",
    "LIVE_STATUSES_SQL",
    "SEARCH_SEPARATOR",
    "BillingCycle",
    "CurrencyRate",
    "Module",
    "Subscription",
    "SubscriptionTerm",
    "Vendor",
    "grams",
    "product_name",
    "query_grams",
]
