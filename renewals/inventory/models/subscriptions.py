"""Subscriptions: one product bought by one department, with its current term; the
search pieces (grams) its search index is built from."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import ExpressionWrapper, F, Func, Q, Value
from django.db.models.functions import Concat, Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.audit import audited
from renewals.inventory.models.rates import CURRENCY_PATTERN
from renewals.inventory.models.vendors import Vendor

# Between the searched fields in Subscription.search_text: a control character no search text
# holds, so a search never matches across two fields.
SEARCH_SEPARATOR = "\x1f"


def grams(text: Any) -> Func:
    """Every one- and two-character piece of a text, each once (``renewaldesk_grams``, an
    immutable SQL function made by migration renewals 0018): a text containing ``jira`` holds
    ``j`` … ``a`` and ``ji``, ``ir``, ``ra``; one containing 飞书 holds 飞, 书 and 飞书. A GIN
    index over them finds the candidates of a substring search without reading every row; LIKE
    then decides. (A plain Func, so the migration does not import this module.)"""
    return Func(text, function="renewaldesk_grams", output_field=ArrayField(models.TextField()))


def query_grams(text: Any) -> Func:
    """The pieces a text's matches must hold (``renewaldesk_query_grams``): its two-character
    pieces, or the one character of a one-character text."""
    return Func(
        text, function="renewaldesk_query_grams", output_field=ArrayField(models.TextField())
    )


CENT = Decimal("0.01")


class Category(models.TextChoices):
    """What a tool is for: tools of one category do the same job, so several of them in one
    company are an overlap (the findings page, the risk register, a new purchase's panel)."""

    PROJECT = "project", _("Project and task management")
    DOCUMENTS = "documents", _("Documents and knowledge")
    DESIGN = "design", _("Design")
    CRM = "crm", _("CRM and sales")
    COMMUNICATION = "communication", _("Communication and meetings")
    DEVELOPMENT = "development", _("Software development")
    OFFICE = "office", _("Office suite")
    FINANCE = "finance", _("Finance and accounting")
    HR = "hr", _("HR and people")
    SECURITY = "security", _("Security and IT")
    ANALYTICS = "analytics", _("Analytics and BI")
    OTHER = "other", _("Other")


class BillingCycle(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    ANNUAL = "annual", _("Annual")
    MULTI_YEAR = "multi_year", _("Multi-year")
    PERPETUAL = "perpetual", _("Perpetual with maintenance")


def product_name(vendor: str, product: str) -> str:
    """Vendor and product, the vendor once: Atlassian + Jira Software -> "Atlassian Jira
    Software"; a product that starts with its vendor's name (Asana's "Asana Business", 禅道's
    "禅道项目管理") is shown alone."""
    vendor, product = vendor.strip(), product.strip()
    if not vendor or product.casefold().startswith(vendor.casefold()):
        return product
    return f"{vendor} {product}" if product else vendor


@audited(exclude=["modules_cost", "updated_at", "version"])
class Subscription(models.Model):
    """One product bought by one department, with its current term.

    ``unit_price`` is per seat and per billing period: per month for monthly, per quarter for
    quarterly, per year for annual and for perpetual licences' maintenance, and per term for
    multi-year contracts. Past terms are kept in SubscriptionTerm.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("subscription status", "Active")
        RENEWING = "renewing", pgettext_lazy("subscription status", "Renewing")
        EXPIRED = "expired", pgettext_lazy("subscription status", "Expired")
        CANCELLED = "cancelled", pgettext_lazy("subscription status", "Cancelled")
        # A new purchase under approval (purpose "new purchase"): not yet bought, not live;
        # execution makes it active, a rejection or cancellation archives it.
        PROPOSED = "proposed", pgettext_lazy("subscription status", "Proposed")

    ref = models.CharField(
        _("reference"),
        max_length=30,
        unique=True,
        help_text=_("Short unique reference used in imports, e.g. SUB-0042."),
    )
    vendor = models.ForeignKey(
        Vendor, verbose_name=_("vendor"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    product = models.CharField(_("product"), max_length=120)
    edition = models.CharField(_("edition / plan"), max_length=80, blank=True)
    # A database default too: the import inserts with SQL and names only its own columns.
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, blank=True, db_default="",
        help_text=_("What the tool is for; tools of one category overlap."),
    )  # fmt: skip
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_subscriptions",
    )
    seats_purchased = models.PositiveIntegerField(_("seats purchased"))
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=12,
        decimal_places=2,
        help_text=_("Per seat and per billing period (per term for multi-year contracts)."),
    )
    currency = models.CharField(_("currency"), max_length=3, default=settings.BASE_CURRENCY)
    # Sum over the priced modules of unit price × licensed seats (the subscription's seats when
    # empty), per billing period, in the subscription's currency. Kept by PostgreSQL triggers
    # (migration 0010) on every write of a module or of this row, whoever writes (services,
    # imports, admin, raw SQL): sorting by yearly cost reads it instead of summing modules.
    modules_cost = models.DecimalField(
        _("modules per period"),
        max_digits=24,
        decimal_places=2,
        default=Decimal(0),
        db_default=Decimal(0),
        editable=False,
        help_text=_("Per billing period, in the subscription's currency; kept by the database."),
    )
    billing_cycle = models.CharField(
        _("billing cycle"), max_length=12, choices=BillingCycle.choices, default=BillingCycle.ANNUAL
    )
    term_start = models.DateField(_("term start"))
    term_end = models.DateField(_("term end"))
    auto_renew = models.BooleanField(_("auto-renews"), default=False)
    notice_period_days = models.PositiveSmallIntegerField(
        _("notice period (days)"),
        default=30,
        help_text=_("Days before the term end by which a cancellation must reach the vendor."),
    )
    # The last day a cancellation can reach the vendor; stored by PostgreSQL so that alerts,
    # filters and sorting use it in SQL.
    cancellation_deadline = models.GeneratedField(
        expression=ExpressionWrapper(
            F("term_end") - F("notice_period_days"), output_field=models.DateField()
        ),
        output_field=models.DateField(),
        db_persist=True,
        verbose_name=_("cancellation deadline"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    # Set when a decision not to renew was approved: the subscription runs to its term end and
    # then expires; no term-end or expiry alerts, only the cancellation deadline is reminded.
    ends_at_term_end = models.BooleanField(
        _("ends at term end (not renewed)"), default=False, db_default=False
    )
    alert_thresholds = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("alert days"),
        default=list,
        blank=True,
        help_text=_(
            "Days before the term end (and the cancellation deadline) to alert; empty uses the defaults."
        ),
    )
    # People told of this subscription's alerts besides the owner, the department's software
    # admins and the IT admins (and the heads from the escalation threshold on).
    alert_recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("also alert"), blank=True, related_name="+",
        help_text=_("Besides the owner, the department's software admins and the IT admins."),
    )  # fmt: skip
    tags = ArrayField(
        models.CharField(max_length=40), verbose_name=_("tags"), default=list, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    # Archived: kept for its history (terms, requests, contracts, the ledger point at it), out of
    # the lists and pickers; never deleted once referenced.
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    # Goes up by one with every change of a column a person edits, whoever writes (a trigger,
    # migration renewals 0019): an edit form sends the version it showed, and a save over a
    # newer one is refused (no lost updates).
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # What the search box matches (renewals.inventory.filters.search_subscriptions), lower-cased once when
    # the row is written: a search then reads one column with LIKE instead of upper-casing three
    # columns of every subscription (19 ms at 10,000 subscriptions, 2 ms this way).
    search_text = models.GeneratedField(
        expression=Lower(
            Concat("ref", Value(SEARCH_SEPARATOR), "product", Value(SEARCH_SEPARATOR), "edition")
        ),
        output_field=models.TextField(),
        db_persist=True,
        editable=False,
    )

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["term_end", "ref"]
        constraints = [
            models.CheckConstraint(
                name="subscription_term_end_after_start",
                condition=Q(term_end__gt=F("term_start")),
                violation_error_message=_("The term must end after it starts."),
            ),
            models.CheckConstraint(
                name="subscription_price_not_negative",
                condition=Q(unit_price__gte=0),
                violation_error_message=_("The unit price cannot be negative."),
            ),
            models.CheckConstraint(
                name="subscription_currency_code",
                condition=Q(currency__regex=CURRENCY_PATTERN),
                violation_error_message=_("Use a three-letter ISO currency code, e.g. USD."),
            ),
            models.UniqueConstraint(
                fields=["department", "vendor", "product"],
                condition=Q(archived_at__isnull=True),
                name="subscription_one_per_product_and_department",
                violation_error_message=_(
                    "This department already has a subscription to this product."
                ),
            ),
        ]
        indexes = [
            # The renewal window filter and the alert sweep read term ends and deadlines.
            models.Index(fields=["term_end"], name="subscription_term_end_idx"),
            models.Index(fields=["cancellation_deadline"], name="subscription_deadline_idx"),
            # Department-scoped list pages.
            models.Index(fields=["department", "status"], name="subscription_dept_status_idx"),
            GinIndex(fields=["tags"], name="subscription_tags_idx"),
            # The overlap finding groups live subscriptions by category.
            models.Index(fields=["category"], name="subscription_category_idx"),
            # The search's candidates: the pieces of search_text (see grams()), an index on the
            # expression (a column of them would travel with every subscription read).
            GinIndex(grams(F("search_text")), name="subscription_search_grams_idx"),
        ]

    def __str__(self) -> str:
        edition = f" {self.edition}" if self.edition else ""
        return f"{self.display_name}{edition} ({self.department})"

    def get_absolute_url(self) -> str:
        return reverse("renewals:subscription-detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        """Vendor and product as pages show them: "Atlassian Jira Software", but "Asana" for
        Asana's Asana and "禅道项目管理" for 禅道's (never the vendor twice)."""
        return product_name(self.vendor.name, self.product)

    # --- Figures: on subscriptions loaded through selectors.subscriptions.with_figures, which
    # annotates used_seats, idle_seats, departed_holders, active_users, usage_month, rate and
    # periods. Elsewhere they are None. (modules_cost is a column.)

    @property
    def free_seats(self) -> int | None:
        used = getattr(self, "used_seats", None)
        return None if used is None else self.seats_purchased - used

    @property
    def annual_cost(self) -> Decimal | None:
        """Yearly cost in the base currency: seats and priced modules, cycle, exchange rate."""
        rate, periods = getattr(self, "rate", None), getattr(self, "periods", None)
        if rate is None or periods is None:
            return None
        per_period = self.seats_purchased * self.unit_price + self.modules_cost
        return (per_period * periods * rate).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def seat_annual_cost(self) -> Decimal | None:
        """What one seat costs a year in the base currency (the saving of reclaiming it)."""
        rate, periods = getattr(self, "rate", None), getattr(self, "periods", None)
        if rate is None or periods is None:
            return None
        return (self.unit_price * periods * rate).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def utilisation(self) -> Decimal | None:
        """Active users of the latest month as a percentage of seats purchased (1 place)."""
        active = getattr(self, "active_users", None)
        if active is None or not self.seats_purchased:
            return None
        return (Decimal(active) * 100 / self.seats_purchased).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )

    @property
    def monthly_cost_per_active_user(self) -> Decimal | None:
        active, annual = getattr(self, "active_users", None), self.annual_cost
        if not active or annual is None:
            return None
        return (annual / 12 / active).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def computed_cancellation_deadline(self) -> dt.date:
        """The deadline before the row is saved (the stored column is filled in by PostgreSQL)."""
        return self.term_end - dt.timedelta(days=self.notice_period_days)


# A subscription in use: its term runs, or it is being renewed. The one definition of "live"
# for the ORM (``status__in=LIVE_STATUSES``) and for raw SQL (``s.status IN {LIVE_STATUSES_SQL}``).
LIVE_STATUSES = (Subscription.Status.ACTIVE, Subscription.Status.RENEWING)
LIVE_STATUSES_SQL = "(" + ", ".join(f"'{status.value}'" for status in LIVE_STATUSES) + ")"
