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

from django.utils import timezone

from renewals.models import Subscription, SubscriptionTerm
from renewals.selectors.money import current_rate


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
