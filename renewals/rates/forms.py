"""The form finance records (or corrects) an exchange rate with. Every value is read strictly:
a three-letter code, digits with at most six decimals, an ISO date within sane bounds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from budgets.money import parse_currency, parse_rate
from core.widgets import DateInput

# 1 unit of any currency in CNY stays well inside these (the Kuwaiti dinar is ~24 CNY, the
# Iranian rial ~0.0002); outside them the figure is a typo (a rate the wrong way round, a lost
# point), which would route requests to the wrong tier.
MIN_RATE = Decimal("0.000001")  # the column's smallest step (numeric(14, 6))
MAX_RATE = Decimal("10000")
EARLIEST = dt.date(2000, 1, 1)
DAYS_AHEAD = 366  # a rate may be recorded ahead of its date, at most a year


class RateForm(forms.Form):
    """Currency, rate to the base currency, valid from. Names match CurrencyRate's fields."""

    currency = forms.CharField(
        label=_("Currency"), max_length=3, help_text=_("Three-letter ISO code, e.g. USD.")
    )
    rate_to_base = forms.CharField(
        label=_("Rate to CNY"),
        max_length=20,
        help_text=_("What 1 unit of the currency is worth in CNY, e.g. 7.1234."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())

    def clean_currency(self) -> str:
        currency = parse_currency(self.cleaned_data["currency"])
        if currency == settings.BASE_CURRENCY:
            raise ValidationError(
                _("%(base)s is the base currency: its rate is always 1 and is not recorded.")
                % {"base": settings.BASE_CURRENCY}
            )
        return currency

    def clean_rate_to_base(self) -> Decimal:
        rate = parse_rate(self.cleaned_data["rate_to_base"])
        if not MIN_RATE <= rate <= MAX_RATE:
            raise ValidationError(
                _("A rate to CNY lies between %(low)s and %(high)s.")
                % {"low": f"{MIN_RATE:f}", "high": f"{MAX_RATE:f}"}
            )
        return rate

    def clean_valid_from(self) -> dt.date:
        day: dt.date = self.cleaned_data["valid_from"]
        latest = timezone.localdate() + dt.timedelta(days=DAYS_AHEAD)
        if not EARLIEST <= day <= latest:
            raise ValidationError(
                _("Enter a date between %(first)s and %(last)s.")
                % {"first": EARLIEST.isoformat(), "last": latest.isoformat()}
            )
        return day

    def values(self) -> dict[str, Any]:
        """The cleaned values, as the services take them."""
        return {k: self.cleaned_data[k] for k in ("currency", "rate_to_base", "valid_from")}
