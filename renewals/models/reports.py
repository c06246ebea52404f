"""Reports and oversight (#8): monthly usage briefings, the risk register and its reviews, the
annual account clean-up campaign and savings suggestions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.audit import audited


class Briefing(models.Model):
    """One department's monthly usage briefing (软件使用简报) rendered as a PDF in one language by
    a worker. The PDF is kept under ``MEDIA_ROOT/private/briefings/`` and served only through a
    permission-checked view; ``figures`` keeps what it showed."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("briefing status", "Queued")
        READY = "ready", pgettext_lazy("briefing status", "Ready")
        FAILED = "failed", pgettext_lazy("briefing status", "Failed")

    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.CASCADE,
        related_name="briefings",
    )  # fmt: skip
    # The first day of the month the briefing covers.
    month = models.DateField(_("month"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    stored_name = models.CharField(_("stored file"), max_length=200, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    generated_at = models.DateTimeField(_("generated"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent to the heads"), null=True, blank=True)

    class Meta:
        verbose_name = _("usage briefing")
        verbose_name_plural = _("usage briefings")
        ordering = ["-month", "department"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "month", "language"], name="briefing_one_per_language"
            ),
            models.CheckConstraint(
                name="briefing_month_first_day",
                condition=Q(month__day=1),
                violation_error_message=_("A briefing covers a calendar month."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.month:%Y-%m} ({self.language})"


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


@audited()
class CleanupCampaign(models.Model):
    """The annual account clean-up ("digital office day"): every idle or departed account on the
    day it opens becomes a checklist item for its department's software admins."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("campaign status", "Open")
        CLOSED = "closed", pgettext_lazy("campaign status", "Closed")

    name = models.CharField(_("name"), max_length=120)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    due_on = models.DateField(_("due on"))
    # The idle threshold used to build the checklist (the setting's value that day).
    idle_days = models.PositiveSmallIntegerField(_("idle after (days)"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("clean-up campaign")
        verbose_name_plural = _("clean-up campaigns")
        ordering = ["-opened_at"]
        constraints = [
            # One campaign runs at a time (two clicks on "open" make one).
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="open"),
                name="cleanup_one_open_campaign",
                violation_error_message=_("A clean-up campaign is already running."),
            ),  # fmt: skip
            models.CheckConstraint(
                name="cleanup_closed_has_date",
                condition=Q(status="open") | Q(closed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name


@audited()
class CleanupItem(models.Model):
    """One account on a campaign's checklist: revoke it or keep it (with a reason)."""

    class Reason(models.TextChoices):
        DEPARTED = "departed", _("Holder has left")
        IDLE = "idle", _("Idle")

    class Decision(models.TextChoices):
        PENDING = "pending", pgettext_lazy("clean-up decision", "To decide")
        REVOKE = "revoke", pgettext_lazy("clean-up decision", "Revoked")
        KEEP = "keep", pgettext_lazy("clean-up decision", "Kept")

    campaign = models.ForeignKey(
        CleanupCampaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
        related_name="items",
    )  # fmt: skip
    seat = models.ForeignKey(
        "renewals.Seat", verbose_name=_("seat"), on_delete=models.CASCADE, related_name="+"
    )
    # Copied when the checklist is built: progress per department stays what it was even if the
    # subscription later moves.
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    last_active_on = models.DateField(_("last active on"), null=True, blank=True)
    decision = models.CharField(
        _("decision"), max_length=8, choices=Decision.choices, default=Decision.PENDING
    )
    keep_reason = models.CharField(_("why keep it"), max_length=255, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)

    class Meta:
        verbose_name = _("clean-up item")
        verbose_name_plural = _("clean-up items")
        ordering = ["department", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "seat"], name="cleanup_item_once"),
            models.CheckConstraint(
                name="cleanup_keep_has_reason",
                condition=~Q(decision="keep") | ~Q(keep_reason=""),
                violation_error_message=_("Say why the account is kept."),
            ),
            models.CheckConstraint(
                name="cleanup_revoke_has_date",
                condition=~Q(decision="revoke") | Q(revoked_on__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "department", "decision"], name="cleanup_progress_idx")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.seat_id} {self.decision}"


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


__all__ = [
    "Briefing",
    "CleanupCampaign",
    "CleanupItem",
    "Risk",
    "RiskCategory",
    "RiskReview",
    "Suggestion",
]
