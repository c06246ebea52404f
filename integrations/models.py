"""Directory sources, what links their entries to our people and departments, their runs,
the events they sent (remembered against replays), the conflicts left for IT, and SCIM tokens;
the usage connectors' models live in integrations/connectors/models.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.audit import Secret, audited
from core.secrets import WithSecrets


# listed_at moves with every full pull and says nothing worth an audit event.
@audited(secrets={"credentials": Secret.HIDDEN}, exclude=["listed_at"])
class DirectorySource(WithSecrets):
    """One directory Renewal Desk follows: an LDAP/AD server, a Feishu, DingTalk or WeCom
    tenant, or an identity provider pushing over SCIM."""

    class Kind(models.TextChoices):
        LDAP = "ldap", _("LDAP / Active Directory")
        FEISHU = "feishu", _("Feishu / Lark")
        DINGTALK = "dingtalk", _("DingTalk")
        WECOM = "wecom", _("WeCom")
        SCIM = "scim", _("SCIM 2.0 (pushed by an identity provider)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # What is not secret: server address, base DN, attribute names, app id, corp id ...
    config = models.JSONField(_("settings"), default=dict, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Minutes between scheduled syncs; 0: only by hand or by events.
    sync_every_minutes = models.PositiveIntegerField(_("sync every (minutes)"), default=60)
    # Where an incremental pull continues (LDAP: the highest modifyTimestamp/uSNChanged seen).
    cursor = models.CharField(_("sync position"), max_length=200, blank=True, default="")
    # When the last full pull that was applied started: it confirmed every entry it listed, so
    # for a link still present what we hold is as of this time at least (see apply._stale).
    listed_at = models.DateTimeField(_("last full listing"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("directory source")
        verbose_name_plural = _("directory sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("integrations:source-detail", args=[self.pk])


class DirectoryLink(models.Model):
    """A source's stable id of one of our people or departments (never matched by name)."""

    class Kind(models.TextChoices):
        PERSON = "person", _("person")
        DEPARTMENT = "department", _("department")

    source = models.ForeignKey(DirectorySource, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    external_id = models.CharField(max_length=255)
    person = models.ForeignKey(
        "org.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="directory_links",
    )
    department = models.ForeignKey(
        "org.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="directory_links",
    )
    # When the source said what we hold now (an event's time, or the sync's start): an event
    # older than this changes nothing, so a late "updated" never brings a leaver back.
    changed_at = models.DateTimeField()
    # The source still lists it (a full sync clears this for the missing ones).
    present = models.BooleanField(default=True)
    # What else the source knows the entry by (LDAP: dn; SCIM: userName, externalId; Feishu:
    # open_id): for finding it again, never for matching a new entry.
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("directory link")
        verbose_name_plural = _("directory links")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "external_id"], name="directorylink_one_per_external_id"
            ),
            models.UniqueConstraint(
                fields=["source", "person"],
                condition=Q(person__isnull=False),
                name="directorylink_person_once_per_source",
            ),
            models.UniqueConstraint(
                fields=["source", "department"],
                condition=Q(department__isnull=False),
                name="directorylink_department_once_per_source",
            ),
            models.CheckConstraint(
                name="directorylink_points_at_its_kind",
                condition=(
                    Q(kind="person", person__isnull=False, department__isnull=True)
                    | Q(kind="department", department__isnull=False, person__isnull=True)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.kind}:{self.external_id}"


class SyncRun(models.Model):
    """One sync of a source (a scheduled or manual pull, or a batch of events)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        HELD = "held", _("Held for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        DISCARDED = "discarded", _("Discarded")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("By hand")
        EVENT = "event", _("Event")
        COMMAND = "command", _("Command")

    source = models.ForeignKey(DirectorySource, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    full = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    # A translated, secret-free message (what went wrong, or why it is held).
    error = models.TextField(blank=True, default="")
    # A held run: the people it would mark as leavers (person ids) and the emptied departments.
    held_leavers = models.JSONField(default=list, blank=True)
    held_departments = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["source", "-started_at"], name="syncrun_source_recent")]

    def __str__(self) -> str:
        return f"{self.source_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class DirectoryEvent(models.Model):
    """A change event a source sent (or a SCIM write): remembered so a replay changes nothing."""

    source = models.ForeignKey(DirectorySource, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=80)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("directory event")
        verbose_name_plural = _("directory events")
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="directoryevent_once")
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.event_id}"


class DirectoryConflict(models.Model):
    """Something a sync would have had to guess: listed for IT instead."""

    class Kind(models.TextChoices):
        EMAIL_TAKEN = "email_taken", _("The same e-mail comes from another source")
        EMPLOYEE_NO_TAKEN = (
            "employee_no_taken",
            _("The employee number belongs to a person of another source"),
        )
        UNKNOWN_DEPARTMENT = "unknown_department", _("In a department the source does not list")
        DEPARTMENT_NAME_TAKEN = (
            "department_name_taken",
            _("A department of that name exists already"),
        )

    source = models.ForeignKey(DirectorySource, on_delete=models.CASCADE, related_name="conflicts")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    external_id = models.CharField(max_length=255)
    # What the source said (name, e-mail, department): never credentials.
    detail = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("directory conflict")
        verbose_name_plural = _("directory conflicts")
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "external_id"],
                condition=Q(resolved_at__isnull=True),
                name="directoryconflict_open_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.external_id}"


# last_used_at changes at most once a minute and says nothing worth an audit event.
@audited(secrets={"key_hash": Secret.OMIT}, exclude=["last_used_at"])
class ScimToken(models.Model):
    """A bearer token an identity provider uses on /scim/v2/: only its SHA-256 is stored."""

    source = models.ForeignKey(
        DirectorySource, on_delete=models.CASCADE, related_name="scim_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters, to tell tokens apart in lists (not enough to use one).
    prefix = models.CharField(_("starts with"), max_length=8)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("SCIM token")
        verbose_name_plural = _("SCIM tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


# The usage connectors (#20): registered with the app from here.
from integrations.connectors.models import (  # noqa: E402
    Account,
    Connector,
    ConnectorRun,
    IdleNotice,
    Playbook,
    Revocation,
)

__all__ = ["Account", "Connector", "ConnectorRun", "IdleNotice", "Playbook", "Revocation"]

# The chat apps (#21): registered with the app from here.
from integrations.chat.models import (  # noqa: E402
    ChatApp,
    ChatCard,
    ChatClick,
    ChatIdentity,
    ChatJob,
)

__all__ += ["ChatApp", "ChatCard", "ChatClick", "ChatIdentity", "ChatJob"]
