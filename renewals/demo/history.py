"""Demo: a year of renewal history behind the KPI dashboard's on-time rate and savings.

Every demo subscription whose current term has started was renewed from a previous one-year
term. Most renewals were recorded days before the old term ended; a few (every 17th) a few days
late; every 5th renewal bought two seats fewer than the term before (a realised saving). The
subscriptions the demo leaves expired are the lapsed ones. Idempotent: terms are found by their
start date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from budgets import services as budget_services
from renewals.inventory.models import Subscription, SubscriptionTerm
from renewals.inventory.money import current_rate
from renewals.inventory.selectors import with_figures


@dataclass(frozen=True)
class History:
    renewals: int
    late: int
    cheaper: int


def seed_history(*, today: dt.date | None = None) -> History:
    today = today or timezone.localdate()
    renewals = late = cheaper = 0
    subscriptions = Subscription.objects.filter(term_start__lte=today).order_by("ref")
    for index, sub in enumerate(subscriptions, start=1):
        end = sub.term_start - dt.timedelta(days=1)
        start = end - dt.timedelta(days=364)
        is_late = index % 17 == 0
        is_cheaper = index % 5 == 0
        recorded = end + dt.timedelta(days=4 if is_late else -(5 + index % 20))
        _term, created = SubscriptionTerm.objects.get_or_create(
            subscription=sub,
            term_start=start,
            defaults={
                "term_end": end,
                "seats": sub.seats_purchased + (2 if is_cheaper else 0),
                "unit_price": sub.unit_price,
                "currency": sub.currency,
                "rate_to_base": current_rate(sub.currency) or Decimal(1),
                "description": f"{sub.display_name} {sub.edition}".strip()[:255],
                "renewed_at": timezone.make_aware(dt.datetime.combine(recorded, dt.time(10))),
            },
        )
        renewals += 1
        late += is_late
        cheaper += is_cheaper
    return History(renewals, late, cheaper)


def book_history_actuals(*, user: Any) -> int:
    """Book what each renewal of the history paid for the current term as an actual in its
    department's budget (of the year it was paid), through budgets.services so balances and the
    per-kind totals stay consistent. Idempotent by reference (the previous term's row)."""
    figures = {s.pk: s for s in with_figures(Subscription.objects.all())}
    booked = 0
    terms = SubscriptionTerm.objects.filter(renewed_at__isnull=False).select_related(
        "subscription__vendor", "subscription__department"
    )
    for term in terms.order_by("subscription__ref", "term_start"):
        sub = figures.get(term.subscription_id)
        if sub is None or not sub.annual_cost or term.renewed_at is None:
            continue
        years = max(1, round((sub.term_end - sub.term_start).days / 365))
        paid_on = timezone.localtime(term.renewed_at).date()
        budget_services.budget_book_actual(
            department=sub.department,
            year=paid_on.year,
            paid_on=paid_on,  # the payment's year, whatever BUDGET_ACTUALS_YEAR says
            amount=sub.annual_cost * years,
            reference=f"renewals.SubscriptionTerm:{term.pk}",
            user=user,
            memo=f"{sub.display_name} 续费 {sub.term_start:%Y-%m-%d}–{sub.term_end:%Y-%m-%d}",
        )
        booked += 1
    return booked
