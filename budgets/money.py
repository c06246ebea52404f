"""Reading amounts typed by people: plain digits with at most two decimals, nothing else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # fits numeric(14, 2)
_AMOUNT = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$")
# A rate to the base currency fits numeric(14, 6): up to 8 digits before the point, 6 after.
_RATE = re.compile(r"^[0-9]{1,8}(\.[0-9]{1,6})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def cents(value: Decimal) -> Decimal:
    """Two places, half up: the one rounding every ledger amount gets."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str, *, allow_negative: bool = False, allow_zero: bool = False) -> Decimal:
    """'1234.5' -> Decimal('1234.50'). Refuses 5e4, 1,000, NaN, Infinity, -0, 0 (unless
    ``allow_zero``: a free tier, no one-off fee) and anything with more than 12 digits before the
    point or 2 after it, with a message that says what to type."""
    cleaned = (text or "").strip()
    if not _AMOUNT.match(cleaned):
        raise ValidationError(
            _("Enter an amount in digits with at most two decimals, e.g. 12000 or 12000.50."),
            code="format",
        )
    amount = Decimal(cleaned)
    if amount == 0 and (not allow_zero or cleaned.startswith("-")):
        raise ValidationError(_("The amount cannot be zero."), code="zero")
    if amount < 0 and not allow_negative:
        raise ValidationError(_("The amount must be positive."), code="negative")
    return cents(amount)


def parse_rate(text: str) -> Decimal:
    """'7.1234' -> Decimal('7.1234'): a positive rate to the base currency, digits only, at most
    8 before the point and 6 after it (no 7e0, 7,1, NaN, 0 or negative rates)."""
    cleaned = (text or "").strip()
    if not _RATE.match(cleaned):
        raise ValidationError(
            _("Enter the rate in digits with at most six decimals, e.g. 7.1234."), code="format"
        )
    rate = Decimal(cleaned)
    if rate <= 0:
        raise ValidationError(_("The rate must be greater than zero."), code="zero")
    return rate


def parse_currency(text: str) -> str:
    """'usd ' -> 'USD': a three-letter ISO 4217 code."""
    cleaned = (text or "").strip().upper()
    if not _CURRENCY.match(cleaned):
        raise ValidationError(_("Enter a three-letter currency code, e.g. USD."), code="currency")
    return cleaned


@dataclass(frozen=True)
class OriginalAmount:
    """An amount as it was in another currency, with the rate that converts it to the base
    currency: ``amount × rate``, rounded half up to cents, is what the ledger books."""

    currency: str
    amount: Decimal
    rate: Decimal

    def in_base(self) -> Decimal:
        return cents(self.amount * self.rate)

    def __str__(self) -> str:
        rate = f"{self.rate:f}"
        if "." in rate:  # 7.123400 -> 7.1234, 7.000000 -> 7 (but 100 stays 100)
            rate = rate.rstrip("0").rstrip(".")
        return f"{self.currency} {self.amount:f} @ {rate}"
