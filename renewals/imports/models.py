"""Uploaded CSV/XLSX files on their way from preview to an all-or-nothing commit."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One upload: validated into a preview, then committed as a whole or not at all."""

    class Kind(models.TextChoices):
        SUBSCRIPTIONS = "subscriptions", _("Subscriptions")
        PEOPLE = "people", _("People (HR directory)")
        SEATS = "seats", _("Seats")
        USAGE = "usage", _("Monthly usage")
        ACTIVITY = "activity", _("Account activity")

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Checking")
        READY = "ready", _("Ready to import")
        INVALID = "invalid", _("Has errors")
        COMMITTING = "committing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    RUNNING = (Status.VALIDATING, Status.COMMITTING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.VALIDATING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
    )
    original_name = models.CharField(_("file name"), max_length=255)
    stored_name = models.CharField(max_length=100, editable=False)
    file_format = models.CharField(_("format"), max_length=4)  # "csv" or "xlsx"
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    # The first errors, each {"line", "column", "code", "value"}; shown translated.
    errors = models.JSONField(default=list, blank=True)
    # {"created": n, "updated": n, "unchanged": n} after a commit; a sample of rows before.
    summary = models.JSONField(default=dict, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    # Why the whole file failed: an untranslated message and its parameters, shown to each reader
    # in their own language (see failure_text).
    failure = models.TextField(_("failure"), blank=True)
    failure_params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]
        constraints = [
            # A second import of the same kind cannot start while one is being checked or
            # written: the database refuses it, whichever web process or worker tries.
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(status__in=["validating", "committing"]),
                name="import_one_running_per_kind",
                violation_error_message=_(
                    "Another import of this kind is running; wait for it to finish."
                ),
            ),
            models.CheckConstraint(name="import_progress_percent", condition=Q(progress__lte=100)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"

    def get_absolute_url(self) -> str:
        return reverse("renewals:import-detail", args=[self.pk])

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def failure_text(self) -> str:
        from renewals.imports.reader import translate

        return translate(self.failure, self.failure_params) if self.failure else ""
