"""Who holds a seat and how much the tool is really used."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.audit import audited


@audited()
class Seat(models.Model):
    """A subscription (and some of its modules) assigned to a person, from a date until revoked."""

    subscription = models.ForeignKey(
        "renewals.Subscription",
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="seats",
    )
    person = models.ForeignKey(
        "org.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="seats"
    )
    account = models.CharField(
        _("account"), max_length=150, blank=True, help_text=_("The login in the vendor's tool.")
    )
    modules = models.ManyToManyField(
        "renewals.Module", verbose_name=_("modules"), blank=True, related_name="holders"
    )
    assigned_on = models.DateField(_("assigned on"))
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    # A database default too: the seat import inserts with SQL and names only its own columns.
    revoke_reason = models.CharField(
        _("reason for revoking"), max_length=200, blank=True, db_default=""
    )
    last_active_on = models.DateField(_("last active on"), null=True, blank=True)

    class Meta:
        verbose_name = _("seat")
        verbose_name_plural = _("seats")
        ordering = ["subscription", "person"]
        constraints = [
            # The natural key imports upsert on: re-importing a seat list changes nothing.
            models.UniqueConstraint(
                fields=["subscription", "person", "assigned_on"],
                name="seat_unique_assignment",
                violation_error_message=_("This seat assignment already exists."),
            ),
            models.UniqueConstraint(
                fields=["subscription", "person"],
                condition=Q(revoked_on__isnull=True),
                name="seat_one_active_per_person",
                violation_error_message=_("This person already holds a seat of this subscription."),
            ),
            models.CheckConstraint(
                name="seat_revoked_after_assigned",
                condition=Q(revoked_on__isnull=True) | Q(revoked_on__gte=F("assigned_on")),
                violation_error_message=_("A seat cannot be revoked before it was assigned."),
            ),
        ]
        indexes = [
            # Free/used seat counts and idle checks look at the active seats of a subscription.
            models.Index(
                fields=["subscription", "last_active_on"],
                condition=Q(revoked_on__isnull=True),
                name="seat_active_idx",
            ),
        ]

    # Not in Meta.constraints: the purchased seat count is a limit across rows, kept by
    # statement triggers of migration renewals 0019 ("seat_within_purchased", see
    # SEAT_LIMIT_CONSTRAINT): assigning a seat to a full subscription fails, under any
    # concurrency, whoever writes.

    def __str__(self) -> str:
        return f"{self.person} @ {self.subscription_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_on is None


# The name the seat-limit triggers raise their check violation under.
SEAT_LIMIT_CONSTRAINT = "seat_within_purchased"


class MonthlyUsage(models.Model):
    """Usage of a subscription (``module`` empty) or of one module in one calendar month."""

    # No index of its own: the unique (subscription, module, month) index starts with it, and
    # one index less makes bulk imports of millions of rows noticeably faster.
    subscription = models.ForeignKey(
        "renewals.Subscription",
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="usage",
        db_index=False,
    )
    # Indexed only where set (usage_module_idx): the index serves deleting a module's usage,
    # and the whole-subscription rows (half of an import) need not be written into it.
    module = models.ForeignKey(
        "renewals.Module",
        verbose_name=_("module"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="usage",
        db_index=False,
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    active_users = models.PositiveIntegerField(_("active users"))
    tasks_created = models.PositiveIntegerField(_("tasks created"), null=True, blank=True)
    tasks_completed = models.PositiveIntegerField(_("tasks completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("monthly usage")
        verbose_name_plural = _("monthly usage")
        ordering = ["subscription", "module", "month"]
        constraints = [
            # One row per subscription, module (or none) and month; a re-import updates it.
            models.UniqueConstraint(
                fields=["subscription", "module", "month"],
                name="usage_one_per_month",
                nulls_distinct=False,
                violation_error_message=_("There is already usage for this month."),
            ),
            models.CheckConstraint(
                name="usage_month_is_first_day",
                condition=Q(month__day=1),
                violation_error_message=_("Usage is recorded per calendar month."),
            ),
        ]
        indexes = [
            models.Index(
                fields=["module"], condition=Q(module__isnull=False), name="usage_module_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}/{self.module_id or '-'} {self.month:%Y-%m}: {self.active_users}"
