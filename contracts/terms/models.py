"""Suggested key terms and contract findings (imported into contracts.models for Django)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.audit import audited


class TermField(models.TextChoices):
    """The key terms the reader looks for (contracts.terms.extract)."""

    NUMBER = "number", _("Contract no.")
    VENDOR = "vendor", _("Vendor (counterparty)")
    CUSTOMER = "customer", _("Customer (our company)")
    SIGNED_ON = "signed_on", _("Signed on")
    VALID_FROM = "valid_from", _("Valid from")
    VALID_TO = "valid_to", _("Valid to")
    TERM_MONTHS = "term_months", _("Term (months)")
    SEATS = "seats", _("Seats / accounts")
    AMOUNT = "amount", _("Amount")
    BILLING_CYCLE = "billing_cycle", _("Billing cycle")
    PAYMENT_TERMS = "payment_terms", _("Payment terms")
    AUTO_RENEW = "auto_renew", _("Auto-renewal")
    NOTICE_DAYS = "notice_days", _("Notice period (days)")
    PRICE_CAP = "price_cap", _("Renewal price-increase cap %")
    LIST_PRICE = "list_price", _("Renewal at list price")
    TERMINATION = "termination", _("Termination rights")
    DATA_RETURN = "data_return", _("Data return / exit")
    PERSONAL_INFO = "personal_info", _("Personal information")
    DATA_LOCATION = "data_location", _("Data location")


class TermSuggestion(models.Model):
    """One key term as the reader found it in a document: the value, the sentence it came from
    and where. A person accepts it, corrects it or dismisses it; nothing is applied silently."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("suggestion status", "Suggested")
        ACCEPTED = "accepted", pgettext_lazy("suggestion status", "Accepted")
        CORRECTED = "corrected", pgettext_lazy("suggestion status", "Corrected")
        DISMISSED = "dismissed", pgettext_lazy("suggestion status", "Dismissed")

    contract = models.ForeignKey(
        "contracts.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
        related_name="term_suggestions",
    )  # fmt: skip
    document = models.ForeignKey(
        "contracts.ContractDocument", verbose_name=_("document"), on_delete=models.CASCADE,
        related_name="term_suggestions",
    )  # fmt: skip
    field = models.CharField(_("term"), max_length=16, choices=TermField.choices)
    # The value in a plain JSON form: ISO date, int, decimal as a string, bool, text, or for an
    # amount {"amount": "150000.00", "currency": "CNY", "tax_included": true|false|null}.
    value = models.JSONField(_("value"), null=True)
    found_text = models.CharField(_("as written"), max_length=300)
    sentence = models.TextField(_("sentence"))
    # The found text's place inside the sentence (for the highlight) and the page (from 1).
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    page = models.PositiveIntegerField(_("page"))
    # Another sentence of the same document gives this term a different value.
    conflict = models.BooleanField(_("contradicted"), default=False)
    # Why there is no usable value: "invalid_date" (written like a date, but no such day).
    problem = models.CharField(_("problem"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    applied_value = models.JSONField(_("value applied"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_at = models.DateTimeField(_("found"), auto_now_add=True)

    class Meta:
        verbose_name = _("suggested term")
        verbose_name_plural = _("suggested terms")
        ordering = ["contract", "field", "page", "pk"]
        indexes = [models.Index(fields=["contract", "status"], name="suggestion_contract_idx")]
        constraints = [
            models.CheckConstraint(name="suggestion_span", condition=Q(end__gte=models.F("start"))),
        ]

    def __str__(self) -> str:
        return f"{self.get_field_display()}: {self.found_text}"


@audited()
class ContractFinding(models.Model):
    """A contract trap found in the clauses (or the accepted terms), linked to its sentence.
    Open while the condition holds; raised in the risk register by contracts.terms.risks."""

    class Kind(models.TextChoices):
        LONG_NOTICE = "long_notice", _("Auto-renews and needs more than 30 days' notice")
        NO_PRICE_CAP = "no_price_cap", _("Auto-renews with no cap on the renewal price")
        HIGH_PRICE_CAP = "high_price_cap", _("Renewal price cap above the company's limit")
        LIST_PRICE = "list_price", _("Renews at the vendor's list price")
        VENDOR_ONLY_EXIT = "vendor_only_exit", _("Only the vendor may terminate")
        NO_DATA_RETURN = "no_data_return", _("No data-return clause")
        AMENDMENT_CHANGE = "amendment_change", _("An amendment changes the price or the term")
        CONTRADICTION = "contradiction", _("Clauses contradict each other")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("finding status", "Open")
        RESOLVED = "resolved", pgettext_lazy("finding status", "Resolved")

    contract = models.ForeignKey(
        "contracts.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
        related_name="findings",
    )  # fmt: skip
    document = models.ForeignKey(
        "contracts.ContractDocument", verbose_name=_("document"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    kind = models.CharField(_("finding"), max_length=20, choices=Kind.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    sentence = models.TextField(_("clause"), blank=True)
    page = models.PositiveIntegerField(_("page"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    found_at = models.DateTimeField(_("found"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("contract finding")
        verbose_name_plural = _("contract findings")
        ordering = ["contract", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "kind"], condition=Q(status="open"),
                name="finding_open_once",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.contract}: {self.get_kind_display()}"

    def detail_display(self) -> str:
        """The detail in the reader's language (stored as data: "notice 60", "cap 10 5",
        "amount 60000.00 USD", "ends 2027-12-31", "fields amount notice_days")."""
        word, _sep, rest = self.detail.partition(" ")
        parts = rest.split()
        if word == "notice" and parts:
            return gettext("%(days)s days' notice") % {"days": parts[0]}
        if word == "cap" and len(parts) == 2:
            return gettext("cap %(cap)s%% (limit %(limit)s%%)") % {
                "cap": parts[0],
                "limit": parts[1],
            }
        if word == "amount" and len(parts) == 2:
            return gettext("amount: %(v)s %(c)s") % {"v": parts[0], "c": parts[1]}
        if word == "ends" and parts:
            return gettext("ends on %(d)s") % {"d": parts[0]}
        if word == "fields":
            labels = dict(TermField.choices)
            return ", ".join(str(labels.get(name, name)) for name in parts)
        return self.detail


@audited()
class ClauseComment(models.Model):
    """Legal's comment on one clause of a contract, given with a review step's decision."""

    contract = models.ForeignKey(
        "contracts.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
        related_name="clause_comments",
    )  # fmt: skip
    request = models.ForeignKey(
        "renewals.RenewalRequest", verbose_name=_("renewal request"), on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip
    step = models.ForeignKey(
        "renewals.ApprovalStep", verbose_name=_("approval step"), on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip
    clause = models.CharField(_("clause"), max_length=20)
    comment = models.TextField(_("comment"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("clause comment")
        verbose_name_plural = _("clause comments")
        ordering = ["contract", "created_at"]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.clause}: {self.comment[:40]}"
