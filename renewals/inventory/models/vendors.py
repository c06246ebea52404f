"""The companies that sell us software."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.audit import Secret, audited


# A website typed by a person may carry a partner or login token in its query string.
@audited(secrets={"website": Secret.URL})
class Vendor(models.Model):
    """A company that sells us software."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    website = models.URLField(_("website"), blank=True)
    contacts = models.TextField(
        _("contacts"), blank=True, help_text=_("Account manager, phone, e-mail.")
    )
    notes = models.TextField(_("notes"), blank=True)
    # Archived: out of the pickers, kept for the subscriptions and quotes that name it.
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("renewals:vendor-detail", args=[self.pk])
