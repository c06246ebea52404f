"""Contracts and their documents. Imports org and renewals (never the other way round).

A contract's key terms are data (validity, seats, value, auto-renewal, notice period, price cap);
its documents are files stored outside the web root under generated names, each version kept,
identified by SHA-256. Search reads ``search_vector``: PostgreSQL full-text search over the
metadata and the text extracted from the PDFs, with Chinese split into character bigrams by
contracts.search (PostgreSQL's parser cannot split Chinese words, and the embedded server ships
no pg_trgm / zhparser).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.audit import audited
from renewals.inventory.models import CURRENCY_PATTERN


class BillingCycle(models.TextChoices):
    MONTHLY = "monthly", pgettext_lazy("billing cycle", "Monthly")
    QUARTERLY = "quarterly", pgettext_lazy("billing cycle", "Quarterly")
    ANNUAL = "annual", pgettext_lazy("billing cycle", "Annually")
    ONE_OFF = "one_off", pgettext_lazy("billing cycle", "One payment")


class Termination(models.TextChoices):
    """Who the contract lets end it before its term is over."""

    BOTH = "both", _("Either party")
    CUSTOMER = "customer", _("We (the customer) may")
    VENDOR_ONLY = "vendor_only", _("Only the vendor")
    NONE = "none", _("Neither party")


# Where a contract keeps the data, as the reader names it (anything else is kept as typed).
DATA_LOCATIONS = {
    "CN": _("mainland China"), "EU": _("the EU"), "US": _("the United States"),
    "SG": _("Singapore"), "HK": _("Hong Kong"),
}  # fmt: skip


@audited()
class Contract(models.Model):
    """One signed agreement for a subscription, with the terms the rest of the product uses."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("contract status", "Draft")
        ACTIVE = "active", pgettext_lazy("contract status", "Active")
        SUPERSEDED = "superseded", pgettext_lazy("contract status", "Superseded")
        EXPIRED = "expired", pgettext_lazy("contract status", "Expired")

    subscription = models.ForeignKey(
        "renewals.Subscription", verbose_name=_("subscription"), on_delete=models.PROTECT,
        related_name="contracts",
    )  # fmt: skip
    renewal_request = models.ForeignKey(
        "renewals.RenewalRequest", verbose_name=_("renewal request"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="contracts",
    )  # fmt: skip
    number = models.CharField(_("contract no."), max_length=80)
    counterparty = models.CharField(_("counterparty"), max_length=200)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    seats = models.PositiveIntegerField(_("seats / accounts"), null=True, blank=True)
    total_value = models.DecimalField(_("total value"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default=settings.BASE_CURRENCY)
    price_terms = models.TextField(_("price terms"), blank=True)
    auto_renew = models.BooleanField(_("auto-renews"), default=False)
    auto_renew_clause = models.TextField(_("auto-renewal clause"), blank=True)
    notice_period_days = models.PositiveSmallIntegerField(
        _("notice period (days)"), null=True, blank=True
    )
    price_cap_percent = models.DecimalField(
        _("renewal price-increase cap %"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    payment_terms = models.TextField(_("payment terms"), blank=True)
    billing_cycle = models.CharField(
        _("billing cycle"), max_length=10, choices=BillingCycle.choices, blank=True
    )
    tax_included = models.BooleanField(_("tax included"), null=True, blank=True)
    termination = models.CharField(
        _("who may terminate"), max_length=12, choices=Termination.choices, blank=True
    )
    termination_clause = models.TextField(_("termination clause"), blank=True)
    data_return_clause = models.TextField(_("data return / exit clause"), blank=True)
    personal_info_clause = models.TextField(_("personal-information clause"), blank=True)
    data_location = models.CharField(_("data location"), max_length=120, blank=True)
    tags = ArrayField(
        models.CharField(max_length=40), verbose_name=_("tags"), default=list, blank=True
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    # Metadata and the extracted text of every document, as tokens (contracts.search).
    search_vector = SearchVectorField(null=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-valid_to", "number"]
        constraints = [
            models.CheckConstraint(
                name="contract_valid_to_after_from",
                condition=Q(valid_to__gt=F("valid_from")),
                violation_error_message=_("A contract must end after it starts."),
            ),
            models.CheckConstraint(
                name="contract_figures_sane",
                condition=Q(total_value__gte=0)
                & (
                    Q(price_cap_percent__isnull=True)
                    | Q(price_cap_percent__gte=0, price_cap_percent__lte=100)
                ),
                violation_error_message=_(
                    "The value cannot be negative and the price cap is between 0 and 100%%."
                ),
            ),
            models.CheckConstraint(
                name="contract_currency_code",
                condition=Q(currency__regex=CURRENCY_PATTERN),
                violation_error_message=_("Use a three-letter ISO currency code, e.g. USD."),
            ),
            models.UniqueConstraint(
                fields=["counterparty", "number"],
                name="contract_number_unique_per_counterparty",
                violation_error_message=_(
                    "This counterparty already has a contract with that number."
                ),
            ),
        ]
        indexes = [
            # Search over metadata and extracted text (words and Chinese bigrams).
            GinIndex(fields=["search_vector"], name="contract_search_idx"),
            # "Expiring within N days" and the validity filters.
            models.Index(fields=["valid_to"], name="contract_valid_to_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.counterparty} {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:contract-detail", args=[self.pk])

    @property
    def data_location_display(self) -> str:
        return str(DATA_LOCATIONS.get(self.data_location, self.data_location))


@audited()
class ContractDocument(models.Model):
    """One uploaded file of a contract; a new upload of the same kind is a new version."""

    class Kind(models.TextChoices):
        MAIN = "main", _("Main contract")
        AMENDMENT = "amendment", _("Amendment")
        ORDER_FORM = "order_form", _("Order form")
        FAPIAO = "fapiao", _("Fapiao (invoice) scan")
        OTHER = "other", _("Other")

    class Text(models.TextChoices):
        PENDING = "pending", _("Text extraction pending")
        DONE = "done", _("Text extracted")
        FAILED = "failed", _("Text extraction failed")
        NONE = "none", _("No text (image)")
        ENCRYPTED = "encrypted", _("Password-protected: no text can be read")
        TOO_LARGE = "too_large", _("Too large to read")
        TIMED_OUT = "timed_out", _("Reading the text timed out")

    class Source(models.TextChoices):
        LAYER = "layer", _("the PDF's text layer")
        OCR = "ocr", _("OCR (read from the scanned image)")

    class Note(models.TextChoices):
        LAYER_MISMATCH = (
            "layer_mismatch",
            _("The PDF's text layer does not match what its pages show; the text was read by OCR"),
        )
        PAGES_LIMITED = "pages_limited", _("Only the first pages were read by OCR")

    class Terms(models.TextChoices):
        PENDING = "pending", _("Key terms not read yet")
        DONE = "done", _("Key terms read")
        NONE = "none", _("No key terms (no text)")
        FAILED = "failed", _("Reading the key terms failed")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.MAIN)
    version = models.PositiveSmallIntegerField(_("version"))
    original_name = models.CharField(_("original file name"), max_length=200)
    stored_name = models.CharField(_("stored as"), max_length=200, unique=True, editable=False)
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    text = models.TextField(_("extracted text"), blank=True, editable=False)
    text_status = models.CharField(
        _("text"), max_length=10, choices=Text.choices, default=Text.PENDING
    )
    text_error = models.CharField(_("extraction error"), max_length=300, blank=True)
    # Where the text came from, how many pages the file has, and what the reader noticed.
    text_source = models.CharField(_("text from"), max_length=8, choices=Source.choices, blank=True)
    page_count = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    text_note = models.CharField(_("note"), max_length=16, choices=Note.choices, blank=True)
    terms_status = models.CharField(
        _("key terms"), max_length=10, choices=Terms.choices, default=Terms.PENDING
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("contract document")
        verbose_name_plural = _("contract documents")
        ordering = ["contract", "kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "kind", "version"], name="document_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} (v{self.version})"

    def get_absolute_url(self) -> str:
        return reverse("contracts:document-download", args=[self.pk])


class IntegrityCheck(models.Model):
    """The result of one run of the scheduled check that stored files still match their rows."""

    run_at = models.DateTimeField(_("run at"), auto_now_add=True)
    checked = models.PositiveIntegerField(_("files checked"))
    missing = models.JSONField(_("missing files"), default=list)
    mismatched = models.JSONField(_("checksum mismatches"), default=list)

    class Meta:
        verbose_name = _("file integrity check")
        verbose_name_plural = _("file integrity checks")
        ordering = ["-run_at"]

    def __str__(self) -> str:
        return f"{self.run_at:%Y-%m-%d %H:%M}: {len(self.missing)} missing, {len(self.mismatched)} changed"

    @property
    def ok(self) -> bool:
        return not self.missing and not self.mismatched


from contracts.terms.models import ClauseComment, ContractFinding, TermSuggestion  # noqa: E402

__all__ = [
    "BillingCycle", "ClauseComment", "Contract", "ContractDocument", "ContractFinding", "IntegrityCheck",
    "TermSuggestion", "Termination",
]  # fmt: skip
