"""Seat requests: a person asks for a seat; the department's software admin grants one from a
free seat, or turns the request into a "more seats" renewal request when none is free."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.audit import audited


@audited()
class SeatRequest(models.Model):
    """One person's request for a seat of one subscription."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("seat request status", "Open")
        GRANTED = "granted", pgettext_lazy("seat request status", "Granted")
        DECLINED = "declined", pgettext_lazy("seat request status", "Declined")
        # No seat was free: the request became (or joined) a "more seats" renewal request.
        ESCALATED = "escalated", pgettext_lazy("seat request status", "Waiting for more seats")
        WITHDRAWN = "withdrawn", pgettext_lazy("seat request status", "Withdrawn")

    OPEN_STATUSES = (Status.OPEN, Status.ESCALATED)

    subscription = models.ForeignKey(
        "renewals.Subscription", verbose_name=_("subscription"), on_delete=models.PROTECT,
        related_name="seat_requests",
    )  # fmt: skip
    person = models.ForeignKey(
        "org.Person", verbose_name=_("for"), on_delete=models.PROTECT, related_name="seat_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT,
        related_name="seat_requests",
    )  # fmt: skip
    modules = models.ManyToManyField(
        "renewals.Module", verbose_name=_("modules"), blank=True, related_name="+"
    )
    reason = models.TextField(_("what it is for"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    # The seat it was granted, or the renewal request it is waiting for.
    seat = models.ForeignKey(
        "renewals.Seat", verbose_name=_("seat"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    renewal_request = models.ForeignKey(
        "renewals.RenewalRequest", verbose_name=_("renewal request"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="seat_requests",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("seat request")
        verbose_name_plural = _("seat requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "person"],
                condition=Q(status__in=["open", "escalated"]),
                name="seat_request_one_open_per_person",
                violation_error_message=_("There is already an open request for this seat."),
            ),
        ]
        indexes = [
            # The software admin's inbox: open requests of their departments' subscriptions.
            models.Index(fields=["subscription", "status"], name="seat_request_sub_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.subscription_id} ({self.status})"
