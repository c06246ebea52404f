"""Savings suggestions (优化建议) and what they realised."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.audit import audited


@audited()
class Suggestion(models.Model):
    """An optimisation suggestion on a subscription by any user; IT accepts or declines it, and
    an accepted one is tracked until its saving is realised."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("suggestion status", "Submitted")
        ACCEPTED = "accepted", pgettext_lazy("suggestion status", "Accepted")
        DECLINED = "declined", pgettext_lazy("suggestion status", "Declined")
        REALISED = "realised", pgettext_lazy("suggestion status", "Realised")

    subscription = models.ForeignKey(
        "renewals.Subscription", verbose_name=_("subscription"), on_delete=models.CASCADE,
        related_name="suggestions",
    )  # fmt: skip
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("suggested by"), on_delete=models.PROTECT,
        related_name="suggestions",
    )  # fmt: skip
    title = models.CharField(_("suggestion"), max_length=200)
    details = models.TextField(_("details"), blank=True)
    # Yearly saving in the base currency.
    estimated_saving = models.DecimalField(
        _("estimated yearly saving"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=255, blank=True)
    realised_saving = models.DecimalField(
        _("realised yearly saving"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    realised_on = models.DateField(_("realised on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("savings suggestion")
        verbose_name_plural = _("savings suggestions")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="suggestion_savings_not_negative",
                condition=(Q(estimated_saving__isnull=True) | Q(estimated_saving__gte=0))
                & (Q(realised_saving__isnull=True) | Q(realised_saving__gte=0)),
                violation_error_message=_("A saving cannot be negative."),
            ),
            models.CheckConstraint(
                name="suggestion_realised_has_figures",
                condition=~Q(status="realised")
                | (Q(realised_saving__isnull=False) & Q(realised_on__isnull=False)),
                violation_error_message=_("A realised suggestion records its saving and date."),
            ),
            models.CheckConstraint(
                name="suggestion_decided_has_decider",
                condition=Q(status="submitted") | Q(decided_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title
