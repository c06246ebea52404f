"""Usage connectors (#20): a subscription's accounts read from the tool itself (its SCIM
service or its admin API), their runs, and the accounts as the tool lists them."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.audit import Secret, audited
from core.secrets import WithSecrets


def validate_base_url(value: str) -> None:
    """An https (or, on this machine only, http://127.0.0.1) address without credentials."""
    url = urlsplit(value)
    if url.username or url.password:
        raise ValidationError(
            _("Put no user name or password in the address: the token goes in its own field.")
        )
    if url.scheme == "sftp":  # a file drop's server (its password or key goes in its own field)
        return
    if url.scheme != "https" and url.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValidationError(_("Use an https:// address."))


# base_url holds no secret: a URL with a user or password in it is refused (validate_base_url).
@audited(secrets={"credentials": Secret.HIDDEN}, not_secret=["base_url"])
class Connector(WithSecrets):
    """Where a subscription's accounts are read from, with the company's own credentials."""

    class Kind(models.TextChoices):
        SCIM = "scim", _("SCIM 2.0 (the tool's provisioning API)")
        ATLASSIAN = "atlassian", _("Atlassian organisation (Jira, Confluence …)")
        GITHUB = "github", _("GitHub organisation")
        FEISHU = "feishu", _("Feishu tenant")
        FILE = "file", _("File drop (CSV/XLSX over HTTPS or SFTP)")

    class Deprovision(models.TextChoices):
        DEACTIVATE = "deactivate", _("Deactivate the account (PATCH active: false)")
        DELETE = "delete", _("Delete the account")

    subscription = models.ForeignKey(
        "renewals.Subscription",
        verbose_name=_("subscription"),
        on_delete=models.PROTECT,
        related_name="connectors",
    )
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # https:// (an API, a file), sftp:// (a file drop), http:// only to this machine.
    base_url = models.CharField(
        _("base URL"),
        max_length=500,
        validators=[URLValidator(schemes=["https", "http", "sftp"]), validate_base_url],
    )
    # What is not secret: page size, time-out, the attribute naming the employee number ...
    config = models.JSONField(_("settings"), default=dict, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Minutes between scheduled syncs; 0: only by hand.
    sync_every_minutes = models.PositiveIntegerField(_("sync every (minutes)"), default=360)
    deprovision = models.CharField(
        _("revoking"), max_length=20, choices=Deprovision.choices, default=Deprovision.DEACTIVATE
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("usage connector")
        verbose_name_plural = _("usage connectors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("integrations:connector-detail", args=[self.pk])


class ConnectorRun(models.Model):
    """One sync of a connector."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped: another sync was running")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("By hand")
        COMMAND = "command", _("Command")

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    # A translated, secret-free message: what went wrong.
    error = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("connector run")
        verbose_name_plural = _("connector runs")
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["connector", "-started_at"], name="connectorrun_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.connector_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class Account(models.Model):
    """An account in the tool, as its connector last listed it, and whose it is here."""

    class MatchedBy(models.TextChoices):
        NONE = "", _("nobody")
        EMAIL = "email", _("e-mail")
        EMPLOYEE_NO = "employee_no", _("employee number")
        MOBILE = "mobile", _("mobile")
        HAND = "hand", _("mapped by hand")

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="accounts")
    # The tool's stable id of the account (SCIM: id).
    external_id = models.CharField(max_length=255)
    user_name = models.CharField(_("user name"), max_length=255, blank=True)
    display_name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    employee_no = models.CharField(_("employee number"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=30, blank=True)
    # The tool says the account can sign in.
    active = models.BooleanField(_("active"), default=True)
    # The tool still lists it (a sync clears this for the missing ones; never deleted here).
    present = models.BooleanField(default=True)
    last_active_at = models.DateTimeField(_("last active"), null=True, blank=True)
    # Per module or product, where the tool tells: name -> ISO time of the last use (or null).
    modules = models.JSONField(_("modules"), default=dict, blank=True)
    person = models.ForeignKey(
        "org.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    matched_by = models.CharField(
        _("matched by"), max_length=20, choices=MatchedBy.choices, blank=True, default=""
    )
    seat = models.ForeignKey(
        "renewals.Seat", null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )
    first_seen_at = models.DateTimeField(auto_now_add=True)
    # When what we hold last changed (a sync writes only what differs).
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["connector", "user_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "external_id"], name="account_one_per_external_id"
            ),
        ]
        indexes = [
            # Unknown accounts: listed and active, matched to nobody.
            models.Index(
                fields=["connector"],
                condition=Q(person__isnull=True, present=True, active=True),
                name="account_unknown_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.user_name or self.external_id


@audited()
class Revocation(models.Model):
    """Deactivating (or deleting) an account in the tool, or bringing one back within
    ``UNDO_DAYS`` (``action``): asked for by IT, a clean-up decision or a playbook, tried by
    the worker, retried with back-off, its result kept."""

    UNDO_DAYS = 30

    class Status(models.TextChoices):
        HELD = "held", _("Waiting for confirmation")
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Done in the tool")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Action(models.TextChoices):
        REVOKE = "revoke", _("Revoke")
        REACTIVATE = "reactivate", _("Re-activate (undo)")

    class Source(models.TextChoices):
        HAND = "hand", _("IT, on the connector page")
        CAMPAIGN = "campaign", _("Clean-up campaign")
        SEAT = "seat", _("Seat revoked (finding or subscription page)")
        LEAVER = "leaver", _("Leaver playbook")
        IDLE = "idle", _("Idle-seat playbook")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="revocations")
    action = models.CharField(max_length=12, choices=Action.choices, default=Action.REVOKE)
    source = models.CharField(
        _("triggered by"), max_length=12, choices=Source.choices, default=Source.HAND
    )
    # The revocation a re-activation undoes.
    undoes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="undos"
    )
    # The seat whose revoke asked for it (a campaign's or a finding's), if one did.
    seat = models.ForeignKey(
        "renewals.Seat", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A translated, secret-free message: why the last attempt failed.
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("revocation")
        verbose_name_plural = _("revocations")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open job per account: a second click or a replayed form adds none.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status__in=["pending", "held"]),
                name="revocation_one_open_per_account",
            ),
            # A revocation is undone once (another try only after a failed or cancelled one).
            models.UniqueConstraint(
                fields=["undoes"],
                condition=Q(undoes__isnull=False, status__in=["pending", "held", "done"]),
                name="revocation_undone_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="revocation_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.action} {self.status}"


@audited()
class Playbook(models.Model):
    """A subscription's automatic reclamation, off until IT turns it on: idle accounts are
    told, then revoked after a grace period without an answer; leavers' accounts revoked."""

    subscription = models.OneToOneField(
        "renewals.Subscription", on_delete=models.CASCADE, related_name="playbook"
    )
    idle_enabled = models.BooleanField(_("revoke idle accounts"), default=False)
    idle_days = models.PositiveIntegerField(
        _("idle for (days)"), default=90, validators=[MinValueValidator(7), MaxValueValidator(3650)]
    )
    grace_days = models.PositiveIntegerField(
        _("answer within (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    leaver_enabled = models.BooleanField(_("revoke leavers' accounts at once"), default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("reclamation playbook")
        verbose_name_plural = _("reclamation playbooks")

    def __str__(self) -> str:
        return f"playbook {self.subscription_id}"


class IdleNotice(models.Model):
    """The idle playbook told an account's holder their seat goes unless they keep it."""

    class Answer(models.TextChoices):
        WAITING = "waiting", _("Waiting for an answer")
        KEPT = "kept", _("Kept by the holder")
        REVOKED = "revoked", _("Revoked after the grace period")
        OVER = "over", _("Used again, or gone from the tool")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="idle_notices")
    person = models.ForeignKey("org.Person", on_delete=models.CASCADE, related_name="+")
    sent_on = models.DateField()
    revoke_on = models.DateField()
    answer = models.CharField(max_length=10, choices=Answer.choices, default=Answer.WAITING)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(answer="waiting"), name="idlenotice_one_waiting"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.sent_on} {self.answer}"
