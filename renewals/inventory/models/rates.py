"""Exchange rates: what one unit of a currency was worth in the base currency from a date."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.audit import audited

CURRENCY_PATTERN = r"^[A-Z]{3}$"


@audited()
class CurrencyRate(models.Model):
    """How many units of the base currency (CNY) one unit of ``currency`` was worth from a date."""

    currency = models.CharField(_("currency"), max_length=3)
    rate_to_base = models.DecimalField(_("rate to base currency"), max_digits=14, decimal_places=6)
    valid_from = models.DateField(_("valid from"))

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "valid_from"],
                name="rate_one_per_currency_and_day",
                violation_error_message=_("There is already a rate for this currency on this day."),
            ),
            models.CheckConstraint(
                name="rate_positive",
                condition=Q(rate_to_base__gt=0),
                violation_error_message=_("An exchange rate must be positive."),
            ),
            models.CheckConstraint(
                name="rate_currency_code",
                condition=Q(currency__regex=CURRENCY_PATTERN),
                violation_error_message=_("Use a three-letter ISO currency code, e.g. USD."),
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate_to_base} ({self.valid_from:%Y-%m-%d})"
