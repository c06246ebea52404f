"""Figures in sentences: a percentage that may not be known yet ("57.5%", or "—", never "—%" or
"None%")."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def percent(value: Decimal | float | str | None) -> str:
    """``57.5`` -> "57.5%"; nothing measured yet (None or "") -> "—"."""
    if value is None or value == "":
        return "—"
    return f"{value}%"
