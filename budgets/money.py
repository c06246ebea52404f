"""Reading amounts typed by people: plain digits with at most two decimals, nothing else."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # fits numeric(14, 2)
_AMOUNT = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$")


def cents(value: Decimal) -> Decimal:
    """Two places, half up: the one rounding every ledger amount gets."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str, *, allow_negative: bool = False) -> Decimal:
    """'1234.5' -> Decimal('1234.50'). Refuses 5e4, 1,000, NaN, Infinity, -0, 0 and anything
    with more than 12 digits before the point or 2 after it, with a message that says what to type."""
    cleaned = (text or "").strip()
    if not _AMOUNT.match(cleaned):
        raise ValidationError(
            _("Enter an amount in digits with at most two decimals, e.g. 12000 or 12000.50."),
            code="format",
        )
    amount = Decimal(cleaned)
    if amount == 0:
        raise ValidationError(_("The amount cannot be zero."), code="zero")
    if amount < 0 and not allow_negative:
        raise ValidationError(_("The amount must be positive."), code="negative")
    return cents(amount)
