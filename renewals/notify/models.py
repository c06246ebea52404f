"""Ways of telling people: departments' chat robots, the in-app notification centre and each
user's private calendar feed."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.audit import Secret, audited
from core.secrets import EncryptedTextField


class DeliveryChannel(models.TextChoices):
    """How a keyed notice travels to its recipient, sent once under its unique key: a renewal
    alert (renewals.alerts.AlertDelivery) and a request's notice (renewals.requests'
    RequestNotice) alike, both as their ``Channel``."""

    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("E-mail")
    CHAT = "chat", _("Chat")


def one_target() -> Q:
    """The check every keyed notice carries: a chat notice names a chat channel, any other names
    a person (fields ``channel``, ``recipient``, ``chat_channel``)."""
    return Q(channel="chat", recipient__isnull=True, chat_channel__isnull=False) | (
        ~Q(channel="chat") & Q(recipient__isnull=False, chat_channel__isnull=True)
    )


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
    # Encrypted at rest (SECRETS_ENCRYPTION_KEYS), write-only in the form.
    secret = EncryptedTextField(_("signing secret"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")
        ordering = ["department", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        """The URL may be called (renewals/notify/webhooks.py): checked by every save path that cleans
        the model (the form, the service, the admin), and again before each send."""
        from renewals.notify.webhooks import UnsafeWebhook, check_url

        if self.url:
            try:
                check_url(self.url)
            except UnsafeWebhook as exc:
                raise ValidationError({"url": str(exc)}) from None


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
