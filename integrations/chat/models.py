"""Chat apps (#21): a Feishu, DingTalk or WeCom app Renewal Desk sends personal cards through,
who each person is there, every card sent (one per app, subject and person, never two), the
calls still to make for it (send, update, to-do) and the clicks seen (against replays)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.audit import Secret, audited
from core.secrets import WithSecrets
from integrations.connectors.models import validate_base_url


@audited(secrets={"credentials": Secret.HIDDEN}, not_secret=["base_url"])
class ChatApp(WithSecrets):
    """A company's own app on a chat platform (an internal / self-built app)."""

    class Kind(models.TextChoices):
        FEISHU = "feishu", _("Feishu / Lark")
        DINGTALK = "dingtalk", _("DingTalk")
        WECOM = "wecom", _("WeCom")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # The platform's API address (https://open.feishu.cn, https://api.dingtalk.com,
    # https://qyapi.weixin.qq.com; http://127.0.0.1 only on this machine).
    base_url = models.CharField(
        _("API address"),
        max_length=500,
        validators=[URLValidator(schemes=["https", "http"]), validate_base_url],
    )
    # What is not secret: app id / app key / corp id, agent id, card template id ...
    config = models.JSONField(_("settings"), default=dict, blank=True)
    # Where people's ids on the platform come from (a directory source of the same platform);
    # anyone it does not cover is mapped by hand (ChatIdentity).
    directory = models.ForeignKey(
        "integrations.DirectorySource",
        verbose_name=_("directory source"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_apps",
    )
    approvals = models.BooleanField(_("approval cards"), default=True)
    notices = models.BooleanField(_("alert and notice cards"), default=True)
    todos = models.BooleanField(_("to-dos"), default=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("chat app")
        verbose_name_plural = _("chat apps")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("integrations:chat-app-detail", args=[self.pk])


# Who may click as whom: a mapping is a grant, so every change is in the audit trail.
@audited()
class ChatIdentity(models.Model):
    """Who one of our users is on a chat app, set by hand (the directory covers the rest)."""

    app = models.ForeignKey(ChatApp, on_delete=models.CASCADE, related_name="identities")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="chat_identities",
    )
    # Feishu user_id, DingTalk userId (staffId), WeCom userid.
    platform_id = models.CharField(_("user id on the platform"), max_length=128)
    # DingTalk unionId (its to-dos need it), Feishu open_id / union_id: also accepted as
    # who clicked.
    other_ids = models.JSONField(_("other ids"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("chat identity")
        verbose_name_plural = _("chat identities")
        ordering = ["app", "user"]
        constraints = [
            models.UniqueConstraint(fields=["app", "user"], name="chatidentity_one_per_user"),
            models.UniqueConstraint(
                fields=["app", "platform_id"], name="chatidentity_one_per_platform_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} = {self.platform_id}"


class ChatCard(models.Model):
    """One card for one person on one app: an approval step's, or a notice's (a renewal alert,
    a leaver holding seats). ``key`` is the promise "never twice": unique per app, and the
    platform's own idempotency id."""

    class Topic(models.TextChoices):
        APPROVAL = "approval", _("Approval")
        NOTICE = "notice", _("Notice")

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for a decision")
        DECIDED = "decided", _("Decided")
        CHANGED = "changed", _("The request changed")
        INFO = "info", _("Notice")

    app = models.ForeignKey(ChatApp, on_delete=models.CASCADE, related_name="cards")
    key = models.CharField(max_length=64)
    topic = models.CharField(_("topic"), max_length=10, choices=Topic.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="chat_cards",
    )
    # Who the card went to on the platform (and what else the platform calls them).
    platform_id = models.CharField(max_length=128)
    other_ids = models.JSONField(default=dict, blank=True)
    step = models.ForeignKey(
        "renewals.ApprovalStep",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_cards",
    )
    request = models.ForeignKey(
        "renewals.RenewalRequest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_cards",
    )
    round = models.PositiveSmallIntegerField(null=True, blank=True)
    # A notice's own words (approval cards are worked out from the request when sent).
    notice = models.JSONField(default=dict, blank=True)
    # Carried by every decision button: a click with another nonce is not this card's.
    nonce = models.CharField(max_length=43)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    message_id = models.CharField(_("message id"), max_length=200, blank=True)
    response_code = models.CharField(max_length=200, blank=True)
    todo_id = models.CharField(_("to-do id"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("chat card")
        verbose_name_plural = _("chat cards")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["app", "key"], name="chatcard_once"),
            models.CheckConstraint(
                name="chatcard_approval_has_step",
                condition=Q(topic="notice") | Q(step__isnull=False, request__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["request", "state"], name="chatcard_request_state_idx")]

    def __str__(self) -> str:
        return self.key


class ChatJob(models.Model):
    """A call still to make for a card: send it, update it, open or close its to-do. One row per
    card and action: queuing an update again while one waits changes nothing (the worker
    renders the card as it is when it sends). Claimed with SKIP LOCKED under a lease; retried
    with back-off; after ``CHAT_MAX_ATTEMPTS`` a dead letter shown on the app's page."""

    class Action(models.TextChoices):
        SEND = "send", _("Send the card")
        UPDATE = "update", _("Update the card")
        TODO_OPEN = "todo_open", _("Open the to-do")
        TODO_CLOSE = "todo_close", _("Close the to-do")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed (dead letter)")
        SKIPPED = "skipped", _("Not needed")

    card = models.ForeignKey(ChatCard, on_delete=models.CASCADE, related_name="jobs")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Pending: when to try (again); sending: when the worker's lease ends.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("chat job")
        verbose_name_plural = _("chat jobs")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["card", "action"], name="chatjob_once_per_action")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="chatjob_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.card_id} {self.action} {self.status}"


class ChatClick(models.Model):
    """A click delivery seen (the platform's event id): the same one again is a replay."""

    app = models.ForeignKey(ChatApp, on_delete=models.CASCADE, related_name="clicks")
    event_id = models.CharField(max_length=200)
    card = models.ForeignKey(
        ChatCard, null=True, blank=True, on_delete=models.SET_NULL, related_name="clicks"
    )
    outcome = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("chat click")
        verbose_name_plural = _("chat clicks")
        constraints = [models.UniqueConstraint(fields=["app", "event_id"], name="chatclick_once")]

    def __str__(self) -> str:
        return f"{self.app_id}:{self.event_id}"
