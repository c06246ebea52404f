"""What recording an executed renewal writes besides the request: the subscription's modules at
their new prices, prices converted when the currency changes, and the ending term archived with
what was paid for it. request_execute (services.requests) calls these inside its transaction.

Conversions use recorded rates only (the rate on the chosen quote for its currency, else the
rates table); when one is missing the execution is refused, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from budgets.money import cents
from renewals.inventory.models import BillingCycle, Module, Subscription, SubscriptionTerm
from renewals.inventory.money import current_rate
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest


@dataclass(frozen=True)
class ModuleLine:
    """A module as chosen for the new term. ``unit_price`` is in the new currency; None keeps
    the module's current price (converted when the currency changes). ``seats`` None: every
    seat."""

    name: str
    unit_price: Decimal | None = None
    seats: int | None = None


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


def converted(amount: Decimal | None, factor: Decimal) -> Decimal | None:
    return None if amount is None else cents(amount * factor)


def set_modules(
    subscription: Subscription, lines: Sequence[ModuleLine | str], factor: Decimal
) -> None:
    """Modules listed are kept or added at their new price and seats; the others are dropped by
    licensing them to no seat (their usage history stays). Every price not given is converted
    by ``factor`` (the currency and billing-period change; 1 when neither changed). A bare name
    keeps price and seats."""
    wanted: dict[str, ModuleLine | None] = {}
    for item in lines:
        name = (item if isinstance(item, str) else item.name).strip()[:80]
        if name:
            wanted[name] = None if isinstance(item, str) else item
    existing = {m.name: m for m in subscription.modules.all()}
    for name, line in wanted.items():
        module = existing.get(name) or Module(subscription=subscription, name=name)
        if line is not None and line.unit_price is not None:
            module.unit_price = line.unit_price
        else:
            module.unit_price = converted(module.unit_price, factor)
        if line is not None:
            module.licensed_seats = line.seats
        elif module.licensed_seats == 0:
            module.licensed_seats = None
        module.full_clean()
        module.save()
    for name, module in existing.items():
        if name in wanted:
            continue
        module.licensed_seats = 0
        module.unit_price = converted(module.unit_price, factor)
        module.save(update_fields=["licensed_seats", "unit_price"])


def archive_term(subscription: Subscription) -> None:
    """Keep the term that ends in the history, with what was paid for it: the execution that
    started it (recorded with its term start; older ones by their proposed start)."""
    paid = term_payment(subscription)
    SubscriptionTerm.objects.get_or_create(
        subscription=subscription,
        term_start=subscription.term_start,
        defaults={
            "term_end": subscription.term_end,
            "seats": subscription.seats_purchased,
            "unit_price": subscription.unit_price,
            "currency": subscription.currency,
            "actual_amount": paid.actual_amount if paid else None,
            "actual_currency": paid.actual_currency if paid else "",
            "rate_to_base": (paid.actual_amount_base / paid.actual_amount)
            if paid and paid.actual_amount and paid.actual_amount_base is not None
            else (current_rate(subscription.currency) or Decimal(1)),
            "order_ref": paid.order_ref if paid else "",
            "fapiao_no": paid.fapiao_no if paid else "",
            "renewed_at": timezone.now(),
            "description": f"{subscription.display_name} {subscription.edition}"[:255].strip(),
        },
    )


def term_payment(subscription: Subscription) -> RenewalRequest | None:
    """The executed request that paid for the subscription's current term, if any."""
    return (
        RenewalRequest.objects.filter(
            Q(executed_term_start=subscription.term_start)
            | Q(executed_term_start__isnull=True, proposed_term_start=subscription.term_start),
            subscription=subscription,
            status=RenewalRequest.Status.EXECUTED,
        )
        .order_by("-executed_at")
        .first()
    )
