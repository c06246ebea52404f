"""Showing amounts: one place that writes money for pages, PDFs and e-mails.

``money`` writes the exact amount with thousands separators ("35,545.00", a real minus sign for
negatives, "—" for nothing). ``money_short`` writes a large figure the way a reader of the
current language takes it in at a glance: in Chinese in 万 / 亿 ("125万", "12.5万", "3.55万"),
in English in K / M / B ("125K", "1.25M"); below 10,000 it is the exact amount. Both work on
Decimals (ints and numeric text are read as Decimals; a float goes through its shortest text,
never through binary arithmetic) and round half up, as the ledger does.

Exports (CSV/XLSX) and the API keep plain numbers: they never call these.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import get_language

DASH = "—"
MINUS = "\u2212"  # a real minus sign, not a hyphen
SHORT_FROM = Decimal(10000)
# (size, Chinese suffix) and (size, English suffix), largest first.
_ZH_UNITS = ((Decimal(100000000), "亿"), (Decimal(10000), "万"))
_EN_UNITS = ((Decimal(1000000000), "B"), (Decimal(1000000), "M"), (Decimal(1000), "K"))


def to_decimal(value: Any) -> Decimal | None:
    """``value`` as a finite Decimal, or None for None, "" and anything that is not a number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            return None
    return number if number.is_finite() else None


def _grouped(number: Decimal, places: int) -> str:
    """|number| rounded half up to ``places`` decimals, thousands grouped by commas."""
    exponent = Decimal(1).scaleb(-places)
    rounded = abs(number).quantize(exponent, rounding=ROUND_HALF_UP)
    return f"{rounded:,.{places}f}"


def _signed(number: Decimal, body: str) -> str:
    # -0.001 rounds to 0.00: no minus sign in front of a zero.
    return MINUS + body if number < 0 and body.strip("0.,") else body


def format_money(value: Any, places: int = 2) -> str:
    """Decimal('35545') -> '35,545.00'; Decimal('-12.345') -> '−12.35'; None -> '—'."""
    number = to_decimal(value)
    if number is None:
        return DASH
    return _signed(number, _grouped(number, places))


def _compact(number: Decimal) -> str:
    """A positive figure already divided by its unit, with three significant digits (never fewer
    than its whole part), ungrouped as "1235万" is written: 3.5545 -> '3.55', 12.5 -> '12.5',
    125 -> '125', 1234.6 -> '1235'."""
    whole_digits = len(str(int(number)))
    places = max(0, 3 - whole_digits)
    text = f"{number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def short_money(value: Any, language: str | None = None) -> str:
    """The figure as a reader glances at it: zh-hans '125万', '12.5万', '1.2亿'; English
    '125K', '1.25M'; below 10,000 (and for None) the same as ``format_money``."""
    number = to_decimal(value)
    if number is None or abs(number) < SHORT_FROM:
        return format_money(number)
    language = language or get_language() or ""
    units = _ZH_UNITS if language.lower().startswith("zh") else _EN_UNITS
    magnitude = abs(number)
    for size, suffix in units:
        if magnitude >= size:
            scaled = magnitude / size
            # 9,999.5万 rounds to 10,000万: shown in the next unit up instead.
            shown = _compact(scaled)
            bigger = [(s, x) for s, x in units if s > size]
            if bigger and Decimal(shown) * size >= bigger[-1][0]:
                shown, suffix = _compact(magnitude / bigger[-1][0]), bigger[-1][1]
            return _signed(number, shown + suffix)
    return format_money(number)  # pragma: no cover - SHORT_FROM is above the smallest unit


__all__ = ["DASH", "MINUS", "format_money", "short_money", "to_decimal"]
