"""Department budgets and their append-only ledger (台账). Imports org only.

Balances are, by definition, sums of ledger entries. So that pages need not add up the whole
ledger, the database keeps those sums per (budget, kind) in BudgetKindTotal, written only by a
trigger on the ledger in the same transaction as the entry (migration 0004); a daily task checks
them against the entries (budgets.tasks.reconcile_ledger_totals). The database itself refuses
UPDATE and DELETE of ledger rows (migration 0002): a correction is a reversal, a new entry
pointing at the one it cancels.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.audit import audited


@audited()
class Budget(models.Model):
    """A department's IT software budget for one fiscal (calendar) year."""

    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="budgets",
    )
    year = models.PositiveSmallIntegerField(_("fiscal year"))
    reserve_percent = models.DecimalField(
        _("reserve %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("15.00"),
        # xgettext:no-python-format
        help_text=_("Share of the allocation held back for adjustments (10–20% recommended)."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ["-year", "department"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "year"],
                name="budget_one_per_department_and_year",
                violation_error_message=_("This department already has a budget for that year."),
            ),
            models.CheckConstraint(
                name="budget_reserve_0_to_50",
                condition=Q(reserve_percent__gte=0) & Q(reserve_percent__lte=50),
                violation_error_message=_("The reserve must be between 0%% and 50%%."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.year}"

    def get_absolute_url(self) -> str:
        return reverse("budgets:budget-detail", args=[self.pk])


class LedgerEntry(models.Model):
    """One line of the ledger. Amounts are in the base currency, 2 places, rounded half up.

    Signs: allocation, adjustment and transfer add to (or, negative, take from) the allocation;
    reserve release, commitment, commitment release and actual are positive amounts of their
    kind; a reversal carries the negated amount of the entry it reverses.
    """

    class Kind(models.TextChoices):
        ALLOCATION = "allocation", _("Allocation")
        ADJUSTMENT = "adjustment", _("Adjustment (re-forecast)")
        TRANSFER = "transfer", _("Transfer")
        RESERVE_RELEASE = "reserve_release", _("Reserve release")
        COMMITMENT = "commitment", _("Commitment")
        COMMITMENT_RELEASE = "commitment_release", _("Commitment release")
        ACTUAL = "actual", _("Actual (paid)")
        REVERSAL = "reversal", _("Reversal")

    class Category(models.TextChoices):
        GENERAL = "", _("General")
        SAAS = "saas", _("SaaS subscriptions")
        LICENCES = "licences", _("Licences")
        SUPPORT = "support", _("Support and maintenance")

    budget = models.ForeignKey(
        Budget, verbose_name=_("budget"), on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    category = models.CharField(
        _("category"), max_length=10, choices=Category.choices, default="", blank=True
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    original_currency = models.CharField(_("original currency"), max_length=3, blank=True)
    original_amount = models.DecimalField(
        _("original amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    rate = models.DecimalField(_("rate"), max_digits=14, decimal_places=6, null=True, blank=True)
    memo = models.CharField(_("memo"), max_length=300)
    # What caused the entry, as "app.Model:pk" (budgets never imports what refers to it).
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    # The two entries of a transfer share a group.
    group = models.UUIDField(_("group"), null=True, blank=True, editable=False)
    reverses = models.OneToOneField(
        "self", verbose_name=_("reverses"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="reversed_by",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.PROTECT,
        related_name="ledger_entries",
    )  # fmt: skip
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["budget", "created_at", "pk"]
        constraints = [
            # Retried calls from the renewal workflow must not book twice.
            models.UniqueConstraint(
                fields=["budget", "kind", "reference"],
                condition=Q(kind__in=["commitment", "commitment_release", "actual"])
                & ~Q(reference=""),
                name="ledger_once_per_reference",
            ),
            # A re-forecast (an adjustment with a reference) is written once per submitted form.
            models.UniqueConstraint(
                fields=["budget", "reference"],
                condition=Q(kind="adjustment") & ~Q(reference=""),
                name="ledger_reforecast_once_per_reference",
            ),
            models.CheckConstraint(
                name="ledger_reversal_points_back",
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
            ),
            # Booked in another currency: all three facts, and the booked amount is exactly
            # their product rounded half up to cents (PostgreSQL's round() on numeric).
            models.CheckConstraint(
                name="ledger_original_currency_converts",
                condition=Q(original_currency="", original_amount__isnull=True, rate__isnull=True)
                | (
                    ~Q(original_currency="")
                    & Q(original_amount__isnull=False, rate__isnull=False, rate__gt=0)
                    & Q(amount=Round(F("original_amount") * F("rate"), 2))
                ),
                violation_error_message=_(
                    "An entry in another currency needs its original amount and a positive rate, "
                    "and its amount must be their product rounded to cents."
                ),
            ),
            models.CheckConstraint(
                name="ledger_positive_where_it_must",
                condition=~Q(
                    kind__in=["reserve_release", "commitment", "commitment_release", "actual"]
                )
                | Q(amount__gt=0),
            ),
        ]
        indexes = [
            # Balances and the ledger page read a budget's entries by kind.
            models.Index(fields=["budget", "kind"], name="ledger_budget_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.budget} {self.get_kind_display()} {self.amount}"


class BudgetKindTotal(models.Model):
    """The sum and count of a budget's ledger entries of one kind, kept by the database.

    Written only by the AFTER INSERT trigger on the ledger (migration 0004), in the inserting
    transaction; a reversal counts in the kind of the entry it reverses, as in
    ``selectors.balances_from_entries``. A guard trigger refuses any INSERT, UPDATE or DELETE that
    does not come from that trigger (ORM, admin or raw SQL alike), so the app cannot write here.
    Only the table owner could get round it (by disabling the triggers), which is why
    ``budgets.tasks.reconcile_ledger_totals`` compares these rows with the entries every day.
    """

    budget = models.ForeignKey(
        Budget, verbose_name=_("budget"), on_delete=models.PROTECT, related_name="kind_totals"
    )
    # The effective kind: never "reversal", except for a reversal of a reversal (which the
    # services refuse and no balance counts).
    kind = models.CharField(_("kind"), max_length=20, choices=LedgerEntry.Kind.choices)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2)
    entries = models.PositiveIntegerField(_("entries"))

    class Meta:
        verbose_name = _("ledger total")
        verbose_name_plural = _("ledger totals")
        constraints = [
            # The trigger upserts on this key (ON CONFLICT); balances read a budget's rows by it.
            models.UniqueConstraint(fields=["budget", "kind"], name="budget_kind_total_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.budget_id} {self.kind} {self.total}"


def new_group() -> uuid.UUID:
    return uuid.uuid4()
