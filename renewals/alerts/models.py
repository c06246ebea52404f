"""Renewal alerts: what is due to whom by which channel, each sent exactly once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from renewals.notify.models import ChatChannel, DeliveryChannel, one_target


class AlertKind(models.TextChoices):
    TERM_END = "term_end", _("Term ends")
    CANCELLATION = "cancellation", _("Cancellation deadline")
    EXPIRED = "expired", _("Expired without renewal")


class AlertDelivery(models.Model):
    """One alert (subscription, term end, kind, threshold) for one recipient on one channel.

    The unique key is the whole promise: a second sweep, a concurrent sweep or a catch-up sweep
    inserts nothing new (ON CONFLICT DO NOTHING). A new term has another term end, so it gets
    fresh alerts.
    """

    Channel = DeliveryChannel

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (a more urgent alert went out)")
        STOPPED = "stopped", _("Stopped (the renewal was decided)")

    subscription = models.ForeignKey(
        "renewals.Subscription", verbose_name=_("subscription"), on_delete=models.CASCADE,
        related_name="alert_deliveries",
    )  # fmt: skip
    term_end = models.DateField(_("term end"))
    kind = models.CharField(_("kind"), max_length=12, choices=AlertKind.choices)
    # Days before the date the alert counts down to (0 for "expired").
    threshold = models.PositiveSmallIntegerField(_("days before"))
    due_on = models.DateField(_("due on"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # A person for in-app and e-mail deliveries; a chat channel for chat ones.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="alert_deliveries",
    )  # fmt: skip
    chat_channel = models.ForeignKey(
        ChatChannel, verbose_name=_("chat channel"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="deliveries",
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Pending: when to try (again). Sending: when the worker's lease ends (renewed as it goes);
    # after that, or as soon as the worker's session is gone, another worker takes it over.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # The worker holding the claim: "host:pid" to read, and the key of the PostgreSQL advisory
    # lock its database session holds while it lives (services/alert_claims.py). (Database
    # defaults: the sweep inserts rows in SQL.)
    claimed_by = models.CharField(
        _("claimed by"), max_length=100, blank=True, default="", db_default=""
    )
    claim_key = models.IntegerField(_("claim key"), null=True, blank=True)
    # Set just before an e-mail or chat message leaves, cleared when its outcome is recorded: a
    # delivery still in flight when its worker died may have arrived.
    in_flight = models.BooleanField(_("in flight"), default=False, db_default=False)
    # How often this delivery was in flight when its worker died (it is sent again once, with
    # the same idempotency key; a second time makes it a dead letter).
    crash_resends = models.PositiveSmallIntegerField(
        _("resent after a crash"), default=0, db_default=0
    )
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        ordering = ["-due_on", "subscription", "kind", "threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "subscription",
                    "term_end",
                    "kind",
                    "threshold",
                    "channel",
                    "recipient",
                    "chat_channel",
                ],
                name="alert_delivery_once",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                name="alert_delivery_has_one_target",
                condition=one_target(),
            ),
        ]
        indexes = [
            # The delivery worker claims pending rows whose time has come.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="alert_delivery_pending_idx",
            ),
            # Every delivery run looks for claims whose worker died or whose lease ran out.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="sending"),
                name="alert_delivery_sending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.kind} {self.threshold}d → {self.recipient_id} ({self.channel})"
