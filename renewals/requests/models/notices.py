"""Notices about a renewal request's events: who was told what, on which channel, once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renewals.notify.models import ChatChannel, DeliveryChannel, Notification, one_target


class RequestNotice(models.Model):
    """One notice of a request event to one recipient (a person, or a chat channel) on one channel.

    The unique key (request, round, step, kind, channel, recipient, chat channel) is the promise:
    however many tasks about the event run, in any order and in parallel, the one whose INSERT
    succeeds sends the notice and the others find it taken. The bell's entry commits with its
    row (exactly once); an e-mail or chat post is claimed, then sent (at most once).
    """

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("notice kind", "Submitted")
        AWAITING = "awaiting", pgettext_lazy("notice kind", "Awaiting approval")
        APPROVED_STEP = "approved_step", pgettext_lazy("notice kind", "Approval step passed")
        APPROVED = "approved", pgettext_lazy("notice kind", "Approved")
        REJECTED = "rejected", pgettext_lazy("notice kind", "Rejected")
        RETURNED = "returned", pgettext_lazy("notice kind", "Returned for changes")
        CANCELLED = "cancelled", pgettext_lazy("notice kind", "Cancelled")
        EXECUTED = "executed", pgettext_lazy("notice kind", "Executed")

    Channel = DeliveryChannel

    class Status(models.TextChoices):
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    request = models.ForeignKey(
        "renewals.RenewalRequest", verbose_name=_("renewal request"), on_delete=models.CASCADE,
        related_name="notices",
    )  # fmt: skip
    round = models.PositiveSmallIntegerField(_("round"))
    # The step the event is about: the one decided, or the one awaiting a decision (empty for
    # a cancellation or an execution, which happen once per request).
    step = models.ForeignKey(
        "renewals.ApprovalStep", verbose_name=_("approval step"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="notices",
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # A person for in-app and e-mail notices; a chat channel for chat ones.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="request_notices",
    )  # fmt: skip
    chat_channel = models.ForeignKey(
        ChatChannel, verbose_name=_("chat channel"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="request_notices",
    )  # fmt: skip
    # The bell's entry an in-app notice made.
    notification = models.OneToOneField(
        Notification, verbose_name=_("notification"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="request_notice",
    )  # fmt: skip
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("request notice")
        verbose_name_plural = _("request notices")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "request",
                    "round",
                    "step",
                    "kind",
                    "channel",
                    "recipient",
                    "chat_channel",
                ],
                name="request_notice_once",
                nulls_distinct=False,
                violation_error_message=_("This notice was already sent."),
            ),
            models.CheckConstraint(
                name="request_notice_has_one_target",
                condition=one_target(),
                violation_error_message=_(
                    "A chat notice names a chat channel; any other names a person."
                ),
            ),
        ]

    def __str__(self) -> str:
        target = self.recipient_id or f"chat {self.chat_channel_id}"
        return f"{self.request_id} r{self.round} {self.kind} → {target} ({self.channel})"
