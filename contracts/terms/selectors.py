"""What the contract page shows of its suggested terms and findings: rows ready for the
template (values in words, the sentence split around the highlight), in a fixed number of
queries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contracts.models import BillingCycle, Contract, Termination
from contracts.terms.apply import (
    BOOL_FIELDS,
    CHOICES,
    DATE_FIELDS,
    INT_FIELDS,
    LOCATIONS,
    current_value,
)  # fmt: skip
from contracts.terms.models import ContractFinding, TermField, TermSuggestion
from core.money import format_money

CONTEXT = 140  # characters of the sentence shown on each side of the highlight
PRESENCE = {TermField.LIST_PRICE, TermField.DATA_RETURN, TermField.PERSONAL_INFO}


def display(field: str, value: Any) -> str:
    """A term's value in words, in the reader's language."""
    if value is None:
        return "—"
    if field == TermField.AMOUNT:
        tax = {True: _("tax included"), False: _("tax excluded")}.get(value.get("tax_included"))
        text = f"{format_money(value['amount'])} {value['currency']}"
        return f"{text} · {tax}" if tax else text
    if field in PRESENCE:
        return _("clause found") if value else _("no")
    if field in BOOL_FIELDS:
        return _("yes") if value else _("no")
    if field == TermField.BILLING_CYCLE:
        return str(BillingCycle(value).label) if value in BillingCycle.values else str(value)
    if field == TermField.TERMINATION:
        return str(Termination(value).label) if value in Termination.values else str(value)
    if field == TermField.NOTICE_DAYS:
        return ngettext("%(n)s day", "%(n)s days", value) % {"n": value}
    if field == TermField.TERM_MONTHS:
        return ngettext("%(n)s month", "%(n)s months", value) % {"n": value}
    if field == TermField.PAYMENT_TERMS:
        if value == 0:
            return _("in advance")
        return ngettext("%(n)s day after the invoice", "%(n)s days after the invoice", value) % {
            "n": value
        }
    if field == TermField.PRICE_CAP:
        return f"{Decimal(str(value)).normalize():f}%"  # "5.00" -> "5%", "7.50" -> "7.5%"
    if field == TermField.DATA_LOCATION:
        return str(LOCATIONS.get(value, value))
    return str(value)


@dataclass(frozen=True)
class TermRow:
    suggestion: TermSuggestion
    value: str
    current: str
    same: bool  # the contract already says this
    before: str
    mark: str
    after: str
    input: str  # the correction's input kind: date, number, percent, amount, yesno, choice, text
    choices: list[tuple[str, str]]


def _input(field: str) -> tuple[str, list[tuple[str, str]]]:
    if field in DATE_FIELDS:
        return "date", []
    if field in INT_FIELDS:
        return "number", []
    if field == TermField.PRICE_CAP:
        return "percent", []
    if field == TermField.AMOUNT:
        return "amount", []
    if field in BOOL_FIELDS:
        return "choice", [("yes", _("yes")), ("no", _("no"))]
    if field in CHOICES:
        return "choice", [(str(v), str(label)) for v, label in CHOICES[field].choices]
    return "text", []


def term_rows(contract: Contract) -> list[TermRow]:
    """Every suggested term of the contract, newest document first per term (two queries)."""
    suggestions = (
        TermSuggestion.objects.filter(contract=contract)
        .select_related("document", "decided_by")
        .order_by("field", "-document__uploaded_at", "page", "pk")
    )
    order = {value: i for i, value in enumerate(TermField.values)}
    rows = []
    for item in sorted(suggestions, key=lambda s: order.get(s.field, 99)):
        sentence = item.sentence
        start, end = min(item.start, len(sentence)), min(item.end, len(sentence))
        before = sentence[max(0, start - CONTEXT) : start]
        after = sentence[end : end + CONTEXT]
        now = current_value(contract, item.field)
        kind, choices = _input(item.field)
        rows.append(
            TermRow(
                item,
                display(item.field, item.value),
                display(item.field, now),
                now == item.value and item.value is not None,
                ("…" if start > CONTEXT else "") + before,
                sentence[start:end],
                after + ("…" if len(sentence) > end + CONTEXT else ""),
                kind,
                choices,
            )  # fmt: skip
        )
    return rows


def open_findings(contract: Contract) -> list[ContractFinding]:
    return list(
        contract.findings.filter(status=ContractFinding.Status.OPEN).select_related("document")
    )
