"""What a subscription's term covers: its modules (add-ons) and its past terms."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.audit import audited
from renewals.inventory.models.subscriptions import Subscription


@audited()
class Module(models.Model):
    """An add-on of a subscription (Gantt, mobile, automation …), priced per seat when charged."""

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="modules",
    )
    name = models.CharField(_("name"), max_length=80)
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Per seat and billing period, in the subscription's currency; empty if included."
        ),
    )
    licensed_seats = models.PositiveIntegerField(
        _("licensed seats"),
        null=True,
        blank=True,
        help_text=_("Empty means every seat of the subscription has the module."),
    )
    # Archived: no longer bought (no cost from then on, not offered on seats), kept for its
    # usage history and the seats that held it.
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    class Meta:
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        ordering = ["subscription", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "name"],
                name="module_unique_name",
                violation_error_message=_("This subscription already has a module of that name."),
            ),
            models.CheckConstraint(
                name="module_price_not_negative",
                condition=Q(unit_price__gte=0) | Q(unit_price__isnull=True),
                violation_error_message=_("The unit price cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


@audited()
class SubscriptionTerm(models.Model):
    """A past term of a subscription: what was bought and what was actually paid."""

    subscription = models.ForeignKey(
        Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="terms"
    )
    term_start = models.DateField(_("term start"))
    term_end = models.DateField(_("term end"))
    seats = models.PositiveIntegerField(_("seats"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    actual_amount = models.DecimalField(
        _("actual amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # The rate used when the amount was paid, so later rate changes do not rewrite history.
    rate_to_base = models.DecimalField(
        _("rate to base currency"), max_digits=14, decimal_places=6, default=1
    )
    # The currency of actual_amount when it was paid in another than the term's prices.
    actual_currency = models.CharField(
        _("actual currency"), max_length=3, blank=True, db_default=""
    )
    order_ref = models.CharField(_("order / invoice no."), max_length=80, blank=True)
    fapiao_no = models.CharField(
        _("fapiao (invoice) no."), max_length=80, blank=True, db_default=""
    )
    # What was bought in that term (vendor, product and edition may change at a renewal).
    description = models.CharField(_("product"), max_length=255, blank=True, db_default="")
    note = models.CharField(_("note"), max_length=255, blank=True)
    # When the renewal that followed this term was recorded (the request executed). The on-time
    # renewal rate compares it with ``term_end``; empty for history imported without that date.
    renewed_at = models.DateTimeField(_("renewed"), null=True, blank=True)

    class Meta:
        verbose_name = _("past term")
        verbose_name_plural = _("past terms")
        ordering = ["subscription", "-term_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "term_start"], name="term_unique_start"
            ),
            models.CheckConstraint(
                name="term_end_after_start",
                condition=Q(term_end__gt=F("term_start")),
                violation_error_message=_("The term must end after it starts."),
            ),
            models.CheckConstraint(
                name="term_amounts_not_negative",
                condition=Q(unit_price__gte=0)
                & (Q(actual_amount__gte=0) | Q(actual_amount__isnull=True))
                & Q(rate_to_base__gt=0),
                violation_error_message=_("Prices and amounts cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}: {self.term_start} – {self.term_end}"
