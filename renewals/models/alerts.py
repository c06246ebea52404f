"""Renewal alerts: what is due to whom by which channel, each sent exactly once; and the in-app
notification centre."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.audit import Secret, audited


class AlertKind(models.TextChoices):
    TERM_END = "term_end", _("Term ends")
    CANCELLATION = "cancellation", _("Cancellation deadline")
    EXPIRED = "expired", _("Expired without renewal")


# The robot's URL carries its token (DingTalk access_token=, WeCom key=, Feishu and Slack in the
# path): the trail keeps it masked; the signing secret only as "set" or "not set".
@audited(secrets={"url": Secret.URL, "secret": Secret.HIDDEN})
class ChatChannel(models.Model):
    """A department's group chat robot (DingTalk, Feishu/Lark, WeCom, Slack or generic JSON)."""

    class Kind(models.TextChoices):
        DINGTALK = "dingtalk", _("DingTalk")
        FEISHU = "feishu", _("Feishu / Lark")
        WECOM = "wecom", _("WeCom")
        SLACK = "slack", _("Slack")
        GENERIC = "generic", _("Generic JSON webhook")

    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.CASCADE,
        related_name="chat_channels",
    )  # fmt: skip
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    url = models.URLField(_("webhook URL"), max_length=500)
    # Write-only: never rendered back into a page, an export or a log line.
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")
        ordering = ["department", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        """The URL may be called (renewals/webhooks.py): checked by every save path that cleans
        the model (the form, the service, the admin), and again before each send."""
        from renewals.webhooks import UnsafeWebhook, check_url

        if self.url:
            try:
                check_url(self.url)
            except UnsafeWebhook as exc:
                raise ValidationError({"url": str(exc)}) from None


class AlertDelivery(models.Model):
    """One alert (subscription, term end, kind, threshold) for one recipient on one channel.

    The unique key is the whole promise: a second sweep, a concurrent sweep or a catch-up sweep
    inserts nothing new (ON CONFLICT DO NOTHING). A new term has another term end, so it gets
    fresh alerts.
    """

    class Channel(models.TextChoices):
        IN_APP = "in_app", _("In-app")
        EMAIL = "email", _("E-mail")
        CHAT = "chat", _("Chat")

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
                condition=(
                    Q(channel="chat", recipient__isnull=True, chat_channel__isnull=False)
                    | (~Q(channel="chat") & Q(recipient__isnull=False, chat_channel__isnull=True))
                ),
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


class Notification(models.Model):
    """A message in a user's in-app notification centre."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
        related_name="notifications",
    )  # fmt: skip
    subscription = models.ForeignKey(
        "renewals.Subscription", verbose_name=_("subscription"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="notifications",
    )  # fmt: skip
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [
            # The unread badge on every page counts these.
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CalendarFeed(models.Model):
    """A user's secret iCal address (Outlook, DingTalk, Feishu calendars subscribe to it)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
        related_name="calendar_feed",
    )  # fmt: skip
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user}"
