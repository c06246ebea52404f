"""Monthly usage briefings (软件使用简报): one department's month, rendered as a PDF by a worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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
