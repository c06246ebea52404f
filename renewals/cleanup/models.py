"""The annual account clean-up campaign (数字办公日账号清理): a campaign and the accounts it asks
departments to decide."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.audit import audited


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


class LeaverNotice(models.Model):
    """A seat whose holder has just left, flagged when the directory reported it (the day and
    the source pages can show), and the key that tells its subscription's software admins and
    owner once: of two workers acting on one leaver, the one whose INSERT succeeds tells them,
    the other finds the seat flagged (renewals.cleanup.leavers)."""

    # One row per seat: a person holds at most one active seat of a subscription, so this is
    # once per (leaver, subscription); a seat given back and assigned again is a new seat.
    seat = models.OneToOneField(
        "renewals.Seat", verbose_name=_("seat"), on_delete=models.CASCADE,
        related_name="leaver_notice",
    )  # fmt: skip
    flagged_on = models.DateField(_("flagged on"))
    source = models.CharField(_("reported by"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Set once the notices went out; empty on a row whose worker died while telling.
    notified_at = models.DateTimeField(_("notified"), null=True, blank=True)

    class Meta:
        verbose_name = _("leaver notice")
        verbose_name_plural = _("leaver notices")
        ordering = ["-flagged_on", "seat"]

    def __str__(self) -> str:
        return f"{self.seat_id} flagged {self.flagged_on}"
