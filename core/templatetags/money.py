"""``{% load money %}``: amounts on pages, in PDFs and e-mails (see core/money.py).

- ``{{ amount|money }}`` -> "35,545.00" ("—" for None, "−12.00" for a negative amount);
  ``{{ amount|money:0 }}`` without decimals.
- ``{{ amount|money_short }}`` -> ``<span title="1,250,000.00">125万</span>`` in Chinese,
  ``<span title="1,250,000.00">1.25M</span>`` in English: for cards, the dashboard and
  briefings; the exact amount is on hover, and figures below 10,000 are written in full.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.money import format_money, short_money

register = template.Library()


@register.filter(name="money")
def money(value: Any, places: Any = 2) -> str:
    try:
        digits = int(places)
    except (TypeError, ValueError):
        digits = 2
    return format_money(value, digits)


@register.filter(name="money_short")
def money_short(value: Any) -> str | SafeString:
    exact = format_money(value)
    shown = short_money(value)
    if shown == exact:
        return exact
    return format_html('<span class="money-short" title="{}">{}</span>', exact, shown)
