"""SQL expressions for money: yearly cost of a subscription in the base currency.

All arithmetic stays in PostgreSQL ``numeric`` (Decimal in Python); nothing is a float.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    DecimalField,
    Expression,
    F,
    Func,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from renewals.inventory.models import CurrencyRate

MONEY = DecimalField(max_digits=18, decimal_places=2)
RATIO = DecimalField(max_digits=18, decimal_places=6)
CENT = Decimal("0.01")


def cents(amount: Decimal | None) -> Decimal | None:
    """Round to 2 places, half up (the rounding every amount shown or stored uses)."""
    return None if amount is None else amount.quantize(CENT, rounding=ROUND_HALF_UP)


# Billing periods per year of a cycle over a term's dates, as SQL text (raw queries use it too).
PERIODS_SQL = (
    "(CASE {cycle} WHEN 'monthly' THEN 12.0 WHEN 'quarterly' THEN 4.0 "
    "WHEN 'multi_year' THEN 365.0 / GREATEST({end} - {start}, 1) ELSE 1.0 END)"
)


class PeriodsPerYear(Func):
    """How many billing periods fit in a year for a subscription row.

    monthly 12, quarterly 4, annual and perpetual maintenance 1, multi-year 365 / term days
    (its unit price covers the whole term).
    """

    output_field = RATIO

    def __init__(self, prefix: str = "", **extra: Any) -> None:
        super().__init__(
            F(f"{prefix}billing_cycle"), F(f"{prefix}term_start"), F(f"{prefix}term_end"), **extra
        )

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        (cycle, cp), (start, sp), (end, ep) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        return PERIODS_SQL.format(cycle=cycle, start=start, end=end), [*cp, *ep, *sp]


def rate_to_base(*, currency_ref: str = "currency", on: dt.date) -> Expression:
    """The latest exchange rate of the row's currency on ``on``; 1 for the base currency and
    NULL when no rate is known (the page then says so instead of guessing)."""
    latest = (
        CurrencyRate.objects.filter(currency=OuterRef(currency_ref), valid_from__lte=on)
        .order_by("-valid_from")
        .values("rate_to_base")[:1]
    )
    return Case(
        When(**{currency_ref: settings.BASE_CURRENCY}, then=Value(Decimal(1))),
        default=Subquery(latest, output_field=RATIO),
        output_field=RATIO,
    )


def annual_cost_base(*, on: dt.date) -> Expression:
    """Yearly cost in the base currency of a subscription row: seats, modules (the stored
    per-period sum, see Subscription.modules_cost), exchange rate."""
    per_period = F("seats_purchased") * F("unit_price") + F("modules_cost")
    return Func(
        per_period * PeriodsPerYear() * rate_to_base(on=on),
        Value(2),
        function="ROUND",
        output_field=MONEY,
    )


def current_rate(currency: str, on: dt.date | None = None) -> Decimal | None:
    """The latest known rate of ``currency`` to the base currency on ``on`` (today in
    TIME_ZONE by default); None when the rates table has none. The Python twin of
    rate_to_base, for one value rather than a column."""
    if currency == settings.BASE_CURRENCY:
        return Decimal(1)
    return (
        CurrencyRate.objects.filter(currency=currency, valid_from__lte=on or timezone.localdate())
        .order_by("-valid_from")
        .values_list("rate_to_base", flat=True)
        .first()
    )


def rate_row(currency: str, on: dt.date | None = None) -> CurrencyRate | None:
    """The rates table's row in force for ``currency`` on ``on`` (today in TIME_ZONE by
    default): the latest valid from that day or earlier; None when the table has none."""
    return (
        CurrencyRate.objects.filter(currency=currency, valid_from__lte=on or timezone.localdate())
        .order_by("-valid_from")
        .first()
    )
