"""The risk register (风险清单): risks raised from the data or entered by hand, their categories
and quarterly reviews."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.audit import audited


class RiskCategory(models.TextChoices):
    FORGOTTEN_RENEWAL = "forgotten_renewal", _("Forgotten renewal")
    ACCOUNT_CHAOS = "account_chaos", _("Account chaos / departed holders")
    VERSION_INCONSISTENCY = "version_inconsistency", _("Version inconsistency")
    CONTRACT_TRAP = "contract_trap", _("Contract trap")
    VENDOR_LOCK_IN = "vendor_lock_in", _("Vendor lock-in")
    DATA_SECURITY = "data_security", _("Data security")
    OTHER = "other", _("Other")


# "key" names the condition a rule raised the risk for (e.g. a subscription id), not a credential.
@audited(not_secret=["key"])
class Risk(models.Model):
    """A named, owned and reviewed risk (风险清单). Generated risks carry the ``rule`` and ``key``
    of the condition that raised them and are closed automatically once it is gone; manual
    risks have neither."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("risk status", "Open")
        MITIGATING = "mitigating", pgettext_lazy("risk status", "Being mitigated")
        ACCEPTED = "accepted", pgettext_lazy("risk status", "Accepted")
        CLOSED = "closed", pgettext_lazy("risk status", "Closed")

    ACTIVE = (Status.OPEN, Status.MITIGATING, Status.ACCEPTED)

    class Level(models.IntegerChoices):
        VERY_LOW = 1, _("very low")
        LOW = 2, _("low")
        MEDIUM = 3, _("medium")
        HIGH = 4, _("high")
        VERY_HIGH = 5, _("very high")

    category = models.CharField(_("category"), max_length=24, choices=RiskCategory.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    subscription = models.ForeignKey(
        "renewals.Subscription", verbose_name=_("subscription"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="risks",
    )  # fmt: skip
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="risks",
    )  # fmt: skip
    likelihood = models.PositiveSmallIntegerField(
        _("likelihood"), choices=Level.choices, default=Level.MEDIUM
    )
    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Level.choices, default=Level.MEDIUM
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="owned_risks",
    )  # fmt: skip
    mitigation = models.TextField(_("mitigation"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    next_review_on = models.DateField(_("next review"), null=True, blank=True)
    # Generated risks: the rule that raised it and the condition's identity within the rule
    # (e.g. a subscription or seat id); empty for manual risks.
    rule = models.CharField(_("rule"), max_length=40, blank=True)
    key = models.CharField(_("condition"), max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_reason = models.CharField(_("why closed"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("risk")
        verbose_name_plural = _("risks")
        ordering = ["status", "-likelihood", "-impact", "pk"]
        constraints = [
            # A condition raises at most one risk while that risk is not closed: the generator
            # may run in two workers at once.
            models.UniqueConstraint(
                fields=["rule", "key"],
                condition=~Q(rule="") & ~Q(status="closed"),
                name="risk_one_open_per_condition",
            ),
            models.CheckConstraint(
                name="risk_levels_1_to_5",
                condition=Q(likelihood__gte=1, likelihood__lte=5, impact__gte=1, impact__lte=5),
                violation_error_message=_("Likelihood and impact are rated 1 to 5."),
            ),
            models.CheckConstraint(
                name="risk_closed_has_date",
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                violation_error_message=_("A closed risk records when it was closed."),
            ),
            models.CheckConstraint(
                name="risk_generated_has_key",
                condition=Q(rule="") | ~Q(key=""),
                violation_error_message=_("A generated risk names its condition."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_review_on"], name="risk_status_review_idx"),
            models.Index(fields=["department", "status"], name="risk_dept_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def score(self) -> int:
        return int(self.likelihood) * int(self.impact)


class RiskReview(models.Model):
    """One review of one risk by its owner (or IT / finance): confirmed as it is, updated, or
    closed. The history of a risk's reviews; rows are never changed."""

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", pgettext_lazy("risk review", "Confirmed")
        UPDATED = "updated", pgettext_lazy("risk review", "Updated")
        CLOSED = "closed", pgettext_lazy("risk review", "Closed")
        AUTO_CLOSED = "auto_closed", pgettext_lazy("risk review", "Closed automatically")
        REOPENED = "reopened", pgettext_lazy("risk review", "Raised again")

    risk = models.ForeignKey(
        Risk, verbose_name=_("risk"), on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    # {"field": [old, new], ...} for the fields the review changed.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), auto_now_add=True)

    class Meta:
        verbose_name = _("risk review")
        verbose_name_plural = _("risk reviews")
        ordering = ["-reviewed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.risk_id} {self.outcome} {self.reviewed_at:%Y-%m-%d}"
