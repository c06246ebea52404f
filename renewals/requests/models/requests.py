"""The renewal loop: a request with its evidence, vendor quotes, assessments and trail.

A request moves draft → submitted → in approval → approved / rejected / returned → executed or
cancelled. Its amount is frozen in the base currency when it is submitted (see
services.deciding); approvals live in models.approvals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.audit import audited
from renewals.requests.models.approvals import Via


class Purpose(models.TextChoices):
    KEEP = "keep", _("Keep as is")
    SEATS = "seats", _("Add or remove seats")
    MODULES = "modules", _("Add or drop modules")
    EDITION = "edition", _("Upgrade or downgrade the edition")
    SWITCH = "switch", _("Switch vendor")
    CANCEL = "cancel", _("Cancel (do not renew)")
    # A tool not yet in the inventory (新购申请): the request's subscription is a proposed one
    # (Subscription.Status.PROPOSED) that execution makes active.
    NEW = "new", _("New purchase")


# A request under way (not yet executed, rejected or cancelled); the constraint below and the
# alert sweep's escalation read the same list.
OPEN_STATUSES = ("draft", "submitted", "in_approval", "returned", "approved")


@audited()
class RenewalRequest(models.Model):
    """Why and how one subscription should be renewed (or not), for approval."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("request status", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("request status", "Submitted")
        IN_APPROVAL = "in_approval", pgettext_lazy("request status", "In approval")
        RETURNED = "returned", pgettext_lazy("request status", "Returned for changes")
        APPROVED = "approved", pgettext_lazy("request status", "Approved")
        REJECTED = "rejected", pgettext_lazy("request status", "Rejected")
        EXECUTED = "executed", pgettext_lazy("request status", "Executed")
        CANCELLED = "cancelled", pgettext_lazy("request status", "Cancelled")

    # A subscription has at most one request under way (the escalation of alerts reads this).
    OPEN = OPEN_STATUSES
    # Waiting for an approver.
    DECIDING = (Status.SUBMITTED, Status.IN_APPROVAL)
    # The requester may still change the request (a change while deciding re-routes it).
    EDITABLE = (Status.DRAFT, Status.RETURNED, Status.SUBMITTED, Status.IN_APPROVAL)

    subscription = models.ForeignKey(
        "renewals.Subscription", verbose_name=_("subscription"), on_delete=models.PROTECT,
        related_name="renewal_requests",
    )  # fmt: skip
    # Copied from the subscription when the request is opened and never changed afterwards:
    # approvals and the budget are the department's.
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.PROTECT,
        related_name="renewal_requests",
    )  # fmt: skip
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT,
        related_name="renewal_requests",
    )  # fmt: skip
    purpose = models.CharField(
        _("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.KEEP
    )
    justification = models.TextField(_("justification"), blank=True)
    proposed_seats = models.PositiveIntegerField(_("proposed seats"))
    proposed_modules = ArrayField(
        models.CharField(max_length=80), verbose_name=_("proposed modules"), default=list,
        blank=True,
    )  # fmt: skip
    proposed_edition = models.CharField(_("proposed edition / plan"), max_length=80, blank=True)
    # Who gets a seat when the request is executed (a new purchase, or more seats).
    proposed_people = models.ManyToManyField(
        "org.Person", verbose_name=_("seats for"), blank=True, related_name="+"
    )
    proposed_term_start = models.DateField(_("new term starts"))
    proposed_term_end = models.DateField(_("new term ends"))
    chosen_quote = models.OneToOneField(
        "renewals.Quote", verbose_name=_("chosen quote"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="chosen_for",
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    # Frozen at submission: the amount of the chosen quote over the new term, its currency and
    # rate, and the same in the base currency (what tiers and the budget use).
    amount = models.DecimalField(
        _("amount"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    currency = models.CharField(_("currency"), max_length=3, default=settings.BASE_CURRENCY)
    rate_to_base = models.DecimalField(
        _("rate to base currency"), max_digits=14, decimal_places=6, default=Decimal(1)
    )
    # The rates table's date of that rate (empty for the base currency).
    rate_valid_from = models.DateField(_("rate valid from"), null=True, blank=True)
    amount_base = models.DecimalField(
        _("amount in base currency"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    fiscal_year = models.PositiveSmallIntegerField(_("budget year"), null=True, blank=True)
    budget_fit = models.CharField(_("budget check"), max_length=16, blank=True)
    # Increases each time the request is (re-)submitted; approval steps belong to one round.
    round = models.PositiveSmallIntegerField(_("round"), default=0)
    evidence = models.JSONField(_("usage evidence"), default=dict, blank=True)
    # Execution.
    order_ref = models.CharField(_("order / contract no."), max_length=80, blank=True)
    fapiao_no = models.CharField(_("fapiao (invoice) no."), max_length=80, blank=True)
    actual_amount = models.DecimalField(
        _("actual amount"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    actual_currency = models.CharField(_("actual currency"), max_length=3, blank=True)
    actual_amount_base = models.DecimalField(
        _("actual amount in base currency"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    # The term the execution paid for (it may differ from the proposed one): the subscription's
    # term history finds the payment of a term by it.
    executed_term_start = models.DateField(_("executed term starts"), null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("executed by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    executed_at = models.DateTimeField(_("executed"), null=True, blank=True)
    holders_notified_at = models.DateTimeField(_("users told"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("renewal request")
        verbose_name_plural = _("renewal requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(
                    status__in=["draft", "submitted", "in_approval", "returned", "approved"]
                ),
                name="request_one_open_per_subscription",
                violation_error_message=_(
                    "This subscription already has a renewal request under way."
                ),
            ),
            models.CheckConstraint(
                name="request_term_end_after_start",
                condition=Q(proposed_term_end__gt=F("proposed_term_start")),
                violation_error_message=_("The new term must end after it starts."),
            ),
            models.CheckConstraint(
                name="request_amounts_not_negative",
                condition=(Q(amount__gte=0) | Q(amount__isnull=True))
                & (Q(amount_base__gte=0) | Q(amount_base__isnull=True))
                & (Q(actual_amount__gte=0) | Q(actual_amount__isnull=True))
                & Q(rate_to_base__gt=0),
                violation_error_message=_("Amounts cannot be negative."),
            ),
            models.CheckConstraint(
                name="request_frozen_when_submitted",
                condition=Q(status__in=["draft", "cancelled"])
                | Q(amount_base__isnull=False, round__gt=0),
                violation_error_message=_("A submitted request has a frozen amount."),
            ),
            models.CheckConstraint(
                name="request_executed_has_actual",
                condition=~Q(status="executed") | Q(actual_amount_base__isnull=False),
                violation_error_message=_("An executed renewal records the actual amount."),
            ),
        ]
        indexes = [
            # The request list filters by department and status.
            models.Index(fields=["department", "status"], name="request_dept_status_idx"),
            # The request list shows the newest first.
            models.Index(fields=["-created_at"], name="request_created_idx"),
        ]

    def __str__(self) -> str:
        if self.purpose == Purpose.NEW:
            return _("New-purchase request #%(pk)s") % {"pk": self.pk}
        return _("Renewal request #%(pk)s") % {"pk": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("renewals:request-detail", args=[self.pk])

    @property
    def budget_reference(self) -> str:
        """What ledger entries caused by this request point at (budgets never imports us)."""
        return f"renewals.RenewalRequest:{self.pk}"

    @property
    def budget_year(self) -> int:
        """The fiscal year whose budget the renewal is charged to: the year the new term starts."""
        return self.fiscal_year or self.proposed_term_start.year

    @property
    def is_cancellation(self) -> bool:
        return self.purpose == Purpose.CANCEL


@audited()
class Assessment(models.Model):
    """An assessment of the request from one side (IT, finance, project management)."""

    class Perspective(models.TextChoices):
        IT = "it", _("IT")
        FINANCE = "finance", _("Finance")
        PROJECT = "project", _("Project management")

    class Recommendation(models.TextChoices):
        RENEW = "renew", _("Renew as proposed")
        CHANGE = "change", _("Renew with changes")
        SWITCH = "switch", _("Switch to an alternative")
        STOP = "stop", _("Do not renew")

    request = models.ForeignKey(
        RenewalRequest, verbose_name=_("renewal request"), on_delete=models.CASCADE,
        related_name="assessments",
    )  # fmt: skip
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    perspective = models.CharField(_("perspective"), max_length=10, choices=Perspective.choices)
    recommendation = models.CharField(
        _("recommendation"), max_length=10, choices=Recommendation.choices
    )
    comment = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["request", "created_at"]

    def __str__(self) -> str:
        return f"{self.get_perspective_display()}: {self.get_recommendation_display()}"


class RequestEvent(models.Model):
    """One line of a request's trail: who did what, when."""

    class Kind(models.TextChoices):
        CREATED = "created", _("opened the request")
        EDITED = "edited", _("changed the request")
        SUBMITTED = "submitted", _("submitted it for approval")
        REROUTED = "rerouted", _("changed it during approval: earlier approvals no longer count")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        RETURNED = "returned", _("returned it for changes")
        CANCELLED = "cancelled", _("cancelled the request")
        EXECUTED = "executed", _("recorded the executed renewal")
        ASSESSED = "assessed", _("added an assessment")
        QUOTE = "quote", _("changed the quotes")

    request = models.ForeignKey(
        RenewalRequest, verbose_name=_("renewal request"), on_delete=models.CASCADE,
        related_name="events",
    )  # fmt: skip
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    kind = models.CharField(_("what"), max_length=10, choices=Kind.choices)
    note = models.TextField(_("note"), blank=True)
    # Where a decision was taken (approvals.Via: empty on the web and the API).
    via = models.CharField(_("where"), max_length=10, choices=Via.choices, blank=True, default="")
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["request", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.actor}: {self.get_kind_display()}"


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has at least 28 days


def term_after(term_end: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """A term of ``months`` whole months starting the day after ``term_end``."""
    start = term_end + dt.timedelta(days=1)
    return start, _add_months(start, months) - dt.timedelta(days=1)


def default_new_term(term_start: dt.date, term_end: dt.date) -> tuple[dt.date, dt.date]:
    """The term after ``term_end`` with the same length: whole months when the current term is
    whole months (2026-01-01–2026-12-31 renews as 2027-01-01–2027-12-31), else the same days."""
    start = term_end + dt.timedelta(days=1)
    months = (start.year - term_start.year) * 12 + start.month - term_start.month
    if months > 0 and start.day == term_start.day:
        return start, _add_months(start, months) - dt.timedelta(days=1)
    return start, start + (term_end - term_start)


def term_months(term_start: dt.date, term_end: dt.date) -> int:
    """Whole months in a term (at least 1), rounding a few spare days to the nearest month."""
    days = (term_end - term_start).days + 1
    return max(1, min(120, round(days / (365.25 / 12))))


def money_json(value: Decimal | None) -> Any:
    """Decimals go into JSON evidence as strings (never floats)."""
    return None if value is None else str(value)
