"""Vendor quotes of a renewal request and the modules each quotes; amounts converted with a
recorded rate over the request's whole term."""

from __future__ import annotations

import math
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from budgets.money import cents
from core.audit import audited
from renewals.inventory.models import (
    CURRENCY_PATTERN,
    BillingCycle,
    CurrencyRate,
    product_name,
)
from renewals.requests.models.requests import RenewalRequest


@audited()
class Quote(models.Model):
    """A vendor's offer for the renewal: the incumbent's, or an alternative's."""

    request = models.ForeignKey(
        RenewalRequest, verbose_name=_("renewal request"), on_delete=models.CASCADE,
        related_name="quotes",
    )  # fmt: skip
    vendor_name = models.CharField(_("vendor"), max_length=120)
    product = models.CharField(_("product"), max_length=120)
    edition = models.CharField(_("edition / plan"), max_length=80, blank=True)
    is_incumbent = models.BooleanField(_("incumbent"), default=False)
    seats = models.PositiveIntegerField(_("seats"))
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=12,
        decimal_places=2,
        help_text=_("Per seat and billing period (per term for multi-year contracts)."),
    )
    currency = models.CharField(_("currency"), max_length=3, default=settings.BASE_CURRENCY)
    # Never typed: the rates table's latest rate of ``currency`` (services.pricing.quote_rate),
    # taken when the quote is saved and again when the request is submitted, with the date of
    # the table's row it came from (empty for the base currency). clean() holds them to the table.
    rate_to_base = models.DecimalField(
        _("rate to base currency"), max_digits=14, decimal_places=6, default=Decimal(1)
    )
    rate_valid_from = models.DateField(_("rate valid from"), null=True, blank=True)
    billing_cycle = models.CharField(
        _("billing cycle"), max_length=12, choices=BillingCycle.choices, default=BillingCycle.ANNUAL
    )
    term_months = models.PositiveSmallIntegerField(_("term (months)"), default=12)
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, default=Decimal(0)
    )
    one_off_fees = models.DecimalField(
        _("one-off fees"), max_digits=12, decimal_places=2, default=Decimal(0),
        help_text=_("Set-up, migration, training: paid once, in the quote's currency."),
    )  # fmt: skip
    price_increase_cap_percent = models.DecimalField(
        _("renewal price-increase cap %"), max_digits=5, decimal_places=2, null=True, blank=True,
        help_text=_("The most the price may rise at each renewal; empty when the quote has none."),
    )  # fmt: skip
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["request", "-is_incumbent", "pk"]
        constraints = [
            models.CheckConstraint(
                name="quote_figures_sane",
                condition=Q(unit_price__gte=0)
                & Q(one_off_fees__gte=0)
                & Q(rate_to_base__gt=0)
                & Q(discount_percent__gte=0, discount_percent__lt=100)
                & Q(term_months__gte=1, term_months__lte=120)
                & (
                    Q(price_increase_cap_percent__isnull=True)
                    | Q(price_increase_cap_percent__gte=0, price_increase_cap_percent__lte=100)
                ),
                violation_error_message=_(
                    "Prices cannot be negative, discounts are below 100%% and terms last 1 to "
                    "120 months."
                ),
            ),
            models.CheckConstraint(
                name="quote_currency_code",
                condition=Q(currency__regex=CURRENCY_PATTERN),
                violation_error_message=_("Use a three-letter ISO currency code, e.g. USD."),
            ),
        ]

    def __str__(self) -> str:
        edition = f" {self.edition}" if self.edition else ""
        return f"{product_name(self.vendor_name, self.product)}{edition}"

    def clean(self) -> None:
        """The rate is a row of the rates table (kept by finance), never a typed figure: 1 for
        the base currency, else exactly the table's rate of the currency on ``rate_valid_from``."""
        super().clean()
        if self.currency == settings.BASE_CURRENCY:
            ok = self.rate_to_base == 1 and self.rate_valid_from is None
        else:
            ok = (
                self.rate_valid_from is not None
                and CurrencyRate.objects.filter(
                    currency=self.currency,
                    valid_from=self.rate_valid_from,
                    rate_to_base=self.rate_to_base,
                ).exists()
            )
        if not ok:
            raise ValidationError(
                _("The exchange rate of a quote comes from the rates table; it cannot be typed."),
                code="rate_not_recorded",
            )

    # --- Normalised figures (base currency). Quotes differ in cycle, term, discount and caps;
    # these put them on one scale: per seat per year, and the total over 1 and 3 years.

    @property
    def _discount(self) -> Decimal:
        return 1 - self.discount_percent / 100

    @property
    def periods_in_term(self) -> Decimal:
        """How many billing periods the quoted term holds (multi-year: the price covers it)."""
        months = Decimal(self.term_months)
        return {
            BillingCycle.MONTHLY: months,
            BillingCycle.QUARTERLY: months / 3,
            BillingCycle.ANNUAL: months / 12,
            BillingCycle.PERPETUAL: months / 12,
        }.get(BillingCycle(self.billing_cycle), Decimal(1))

    @property
    def modules_per_period(self) -> Decimal:
        """What the quote's priced modules add per billing period, in the quote's currency
        (a module without seats of its own covers every seat of the quote)."""
        if self.pk is None:
            return Decimal(0)
        return sum(
            (m.unit_price * (m.seats if m.seats is not None else self.seats)
             for m in self.modules.all()),
            start=Decimal(0),
        )  # fmt: skip

    @property
    def per_period_amount(self) -> Decimal:
        """Seats and modules for one billing period, before discount, in the quote's currency."""
        return self.seats * self.unit_price + self.modules_per_period

    @property
    def term_amount(self) -> Decimal:
        """What the quoted term costs in the quote's currency: seats, modules, discount,
        one-off fees."""
        recurring = self.per_period_amount * self.periods_in_term * self._discount
        return cents(recurring + self.one_off_fees)

    @property
    def term_amount_base(self) -> Decimal:
        return cents(self.term_amount * self.rate_to_base)

    def amount_over(self, months: int) -> Decimal:
        """What the quote costs over a term of ``months`` (the request's proposed term), in the
        quote's currency: its recurring price per month times the months, one-off fees once. A
        quote shorter than the term is renewed to cover it (49,999 for one month is 599,988 for
        twelve); one longer than the term still binds its own term, so never less than that."""
        counted = max(months, self.term_months)
        if counted == self.term_months:
            return self.term_amount
        recurring = self.per_period_amount * self.periods_in_term * self._discount
        return cents(recurring * counted / self.term_months + self.one_off_fees)

    @property
    def seat_year_base(self) -> Decimal:
        """One seat for one year in the base currency, its share of the modules included, after
        discount (one-off fees excluded)."""
        per_seat = self.per_period_amount / self.seats if self.seats else self.unit_price
        per_month = per_seat * self.periods_in_term / self.term_months
        return cents(per_month * 12 * self._discount * self.rate_to_base)

    def total_base(self, years: int) -> Decimal:
        """Cost over ``years`` in the base currency: the price may rise by the cap at each
        renewal (the worst case the quote allows), one-off fees are paid once."""
        cap = (self.price_increase_cap_percent or Decimal(0)) / 100
        # Renewals happen at the end of each term; terms under a year still renew the price yearly.
        term_years = max(self.term_months, 12) / 12
        recurring = Decimal(0)
        per_period = self.per_period_amount * self._discount * self.rate_to_base
        year_amount = per_period * self.periods_in_term * 12 / self.term_months
        for year in range(years):
            renewals = math.floor(year / term_years)
            recurring += year_amount * (1 + cap) ** renewals
        return cents(recurring + self.one_off_fees * self.rate_to_base)

    @property
    def total_1y_base(self) -> Decimal:
        return self.total_base(1)

    @property
    def total_3y_base(self) -> Decimal:
        return self.total_base(3)

    def yearly_per_active_user(self, active_users: int | None) -> Decimal | None:
        """Three-year average cost per year of each active user the quote can serve."""
        if not active_users:
            return None
        served = min(self.seats, active_users)
        if not served:
            return None
        return cents(self.total_3y_base / 3 / served)


@audited()
class QuoteModule(models.Model):
    """An add-on a quote includes, priced in the quote's currency, so that quotes compare like
    for like (the incumbent's lists the subscription's priced modules)."""

    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="modules"
    )
    name = models.CharField(_("name"), max_length=80)
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2,
        help_text=_("Per seat and billing period, in the quote's currency; 0 when included."),
    )  # fmt: skip
    seats = models.PositiveIntegerField(
        _("seats"), null=True, blank=True, help_text=_("Empty: every seat of the quote.")
    )

    class Meta:
        verbose_name = _("quoted module")
        verbose_name_plural = _("quoted modules")
        ordering = ["quote", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["quote", "name"],
                name="quote_module_unique_name",
                violation_error_message=_("This quote already lists a module of that name."),
            ),
            models.CheckConstraint(
                name="quote_module_price_not_negative",
                condition=Q(unit_price__gte=0),
                violation_error_message=_("The unit price cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.name
