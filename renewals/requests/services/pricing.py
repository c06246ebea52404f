"""Prices and rates of the renewal loop: a quote's rate from the rates table, and the factors that
carry a price to another currency and billing period. Read-only, except that ``quote_rate`` sets
the quote's (unsaved) rate fields and may lock the rate's row for the caller's transaction.

Conversions use recorded rates only (the rate on the chosen quote for its currency, else the
rates table); when one is missing the action is refused, never guessed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from renewals.inventory.models import BillingCycle, CurrencyRate, Subscription
from renewals.inventory.money import current_rate, rate_row
from renewals.requests.models.quotes import Quote


def quote_rate(quote: Quote, *, on: dt.date | None = None, lock: bool = False) -> None:
    """Set the quote's rate from the rates table (kept by finance): 1 for the base currency,
    else the table's latest rate of its currency on ``on`` (today) and that row's date. Never
    from the requester (a form, the API or a script): with no recorded rate the quote is refused
    (translated) and the caller's transaction writes nothing. With ``lock`` (inside the saving
    transaction) the rate's row stays locked until the quote commits (see _locked_rate_row)."""
    if quote.currency == settings.BASE_CURRENCY:
        quote.rate_to_base, quote.rate_valid_from = Decimal(1), None
        return
    row = _locked_rate_row(quote.currency, on) if lock else rate_row(quote.currency, on)
    if row is None:
        raise ValidationError(
            _(
                "No exchange rate for %(currency)s is recorded in the rates table, so the quote "
                "cannot be converted to %(base)s. Finance must add the rate first."
            )
            % {"currency": quote.currency, "base": settings.BASE_CURRENCY},
            code="no_rate",
        )
    quote.rate_to_base, quote.rate_valid_from = row.rate_to_base, row.valid_from


def _locked_rate_row(currency: str, on: dt.date | None) -> CurrencyRate | None:
    """The rate in force, its row locked FOR NO KEY UPDATE. Race: finance correcting or deleting
    the rate (renewals.rates.services locks it FOR UPDATE, then checks no quote records it) while a quote
    takes it; whoever locks second sees the other's committed work. A row changed or deleted
    while we waited is looked up again."""
    for _attempt in range(3):
        row = rate_row(currency, on)
        if row is None:
            return None
        same = {"currency": row.currency, "valid_from": row.valid_from}
        locked = (
            CurrencyRate.objects.select_for_update(no_key=True)
            .filter(pk=row.pk, rate_to_base=row.rate_to_base, **same)
            .first()
        )
        if locked is not None:
            return locked
    return None


# Set by quote_rate from the rates table, never from what a caller sends.
RATE_FIELDS = ("rate_to_base", "rate_valid_from")


def recorded_rate(currency: str, quote: Quote | None = None) -> Decimal:
    """The recorded rate of ``currency`` to the base currency: the chosen quote's own for its
    currency, else the rates table's latest. Refused (translated) when none is recorded."""
    if currency == settings.BASE_CURRENCY:
        return Decimal(1)
    if quote is not None and quote.currency == currency and quote.rate_to_base:
        return quote.rate_to_base
    rate = current_rate(currency)
    if rate is None:
        raise ValidationError(
            _(
                "No exchange rate for %(currency)s is recorded, so its prices cannot be "
                "converted. Add the rate to the rates table first."
            )
            % {"currency": currency},
            code="no_rate",
        )
    return rate


def conversion(from_currency: str, to_currency: str, quote: Quote | None = None) -> Decimal:
    """What one unit of ``from_currency`` is worth in ``to_currency`` (through the base)."""
    if from_currency == to_currency:
        return Decimal(1)
    return recorded_rate(from_currency, quote) / recorded_rate(to_currency, quote)


def periods_per_year(cycle: str, *, months: int | None = None, days: int | None = None) -> Decimal:
    """Billing periods in a year (selectors.money.PERIODS_SQL's rule): a multi-year price covers
    its whole term (``months`` for a quote, ``days`` for a subscription's term)."""
    if cycle == BillingCycle.MONTHLY:
        return Decimal(12)
    if cycle == BillingCycle.QUARTERLY:
        return Decimal(4)
    if cycle == BillingCycle.MULTI_YEAR:
        if days:
            return Decimal(365) / max(days, 1)
        return Decimal(12) / (months or 12)
    return Decimal(1)


def subscription_periods(subscription: Subscription) -> Decimal:
    days = (subscription.term_end - subscription.term_start).days
    return periods_per_year(subscription.billing_cycle, days=days)
