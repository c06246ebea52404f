"""Writes of the inventory that other features ask for: a subscription's roll-over to its next term.

``subscription_roll_over`` is what recording an executed renewal (renewals.execution.
services) writes to the inventory, inside the caller's transaction: the ending term archived with
what was paid for it, the subscription moved to the new term, its modules at their new prices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from budgets.money import cents
from renewals.inventory.models import Module, Subscription, SubscriptionTerm
from renewals.inventory.money import current_rate
from renewals.inventory.services.vendors import vendor_for_name


@dataclass(frozen=True)
class ModuleLine:
    """A module as chosen for the new term. ``unit_price`` is in the new currency; None keeps
    the module's current price (converted when the currency changes). ``seats`` None: every
    seat."""

    name: str
    unit_price: Decimal | None = None
    seats: int | None = None


@dataclass(frozen=True)
class NewTerm:
    """What the subscription becomes. ``vendor_name`` and ``product``: a switch to another
    vendor's product (None keeps the current ones)."""

    term_start: dt.date
    term_end: dt.date
    seats: int
    edition: str
    unit_price: Decimal
    currency: str
    billing_cycle: str
    vendor_name: str | None = None
    product: str | None = None


@dataclass(frozen=True)
class PaidTerm:
    """What was paid for the term that ends (the executed renewal that started it)."""

    actual_amount: Decimal | None
    actual_amount_base: Decimal | None
    actual_currency: str
    order_ref: str
    fapiao_no: str


def subscription_roll_over(
    *,
    subscription: Subscription,
    term: NewTerm,
    modules: Sequence[ModuleLine | str],
    factor: Decimal,
    paid: PaidTerm | None,
) -> None:
    """Move ``subscription`` (locked by the caller) to ``term``: the ending term goes to the
    history with ``paid``, the subscription takes the new term's price, currency, cycle, edition
    and seats, its modules are set (prices not given converted by ``factor``). A proposed
    subscription (an executed new purchase) starts its first term the same way, with no past
    term to archive. The caller's transaction undoes it all."""
    if subscription.status != Subscription.Status.PROPOSED:  # a new purchase has no past term
        archive_term(subscription, paid)
    if term.vendor_name is not None:
        subscription.vendor = vendor_for_name(term.vendor_name)
    if term.product is not None:
        subscription.product = term.product
    subscription.unit_price = term.unit_price
    subscription.currency = term.currency
    subscription.billing_cycle = term.billing_cycle
    subscription.term_start, subscription.term_end = term.term_start, term.term_end
    subscription.seats_purchased = term.seats
    subscription.edition = term.edition
    subscription.status = Subscription.Status.ACTIVE
    subscription.ends_at_term_end = False
    subscription.full_clean(exclude=["owner"])
    subscription.save()
    set_modules(subscription, modules, factor)


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


def archive_term(subscription: Subscription, paid: PaidTerm | None) -> None:
    """Keep the term that ends in the history, with what was paid for it: the execution that
    started it (renewals.requests.selectors.requests.term_payment finds it by its term start;
    older ones by their proposed start)."""
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
