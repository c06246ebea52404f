"""Contract traps (合同陷阱), worked out from what is known of a contract: the terms a person
accepted (the contract's fields) and, where nobody decided yet, what its text says. Each finding
links to the clause it comes from; ``findings_refresh`` keeps the open ones in step."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contracts.models import Contract, ContractDocument
from contracts.terms.models import ContractFinding, TermField, TermSuggestion

Kind = ContractFinding.Kind
LIVE = (TermSuggestion.Status.OPEN, TermSuggestion.Status.ACCEPTED, TermSuggestion.Status.CORRECTED)


@dataclass(frozen=True)
class Evidence:
    kind: str
    detail: str
    suggestion: TermSuggestion | None


def _known(contract: Contract, suggestions: list[TermSuggestion]) -> dict[str, Any]:
    """Each term's best knowledge from the main documents: a decided value, else the text's
    single uncontradicted value."""
    known: dict[str, Any] = {}
    for item in suggestions:
        if item.document.kind == ContractDocument.Kind.AMENDMENT or item.problem:
            continue
        decided = item.status != TermSuggestion.Status.OPEN
        value = item.applied_value if decided else item.value
        if decided or (not item.conflict and item.field not in known):
            known[item.field] = (value, item)
    return known


def _value(known: dict[str, Any], field: str, contract_value: Any = None) -> Any:
    if contract_value not in (None, "", False):
        return contract_value
    return known[field][0] if field in known else None


def _evidence(known: dict[str, Any], field: str) -> TermSuggestion | None:
    return known[field][1] if field in known else None


def _amendment_changes(contract: Contract, suggestions: list[TermSuggestion]) -> list[Evidence]:
    found = []
    for item in suggestions:
        if item.document.kind != ContractDocument.Kind.AMENDMENT or item.value is None:
            continue
        money: dict[str, Any] = item.value if item.field == TermField.AMOUNT else {}
        if money and (
            Decimal(money["amount"]) != contract.total_value
            or money["currency"] != contract.currency
        ):
            found.append(Evidence(Kind.AMENDMENT_CHANGE,
                                  f"amount {money['amount']} {money['currency']}", item))  # fmt: skip
        elif item.field == TermField.VALID_TO and item.value != contract.valid_to.isoformat():
            found.append(Evidence(Kind.AMENDMENT_CHANGE, f"ends {item.value}", item))
    return found[:1]


def evaluate(contract: Contract, suggestions: list[TermSuggestion]) -> list[Evidence]:
    """The traps that hold for this contract today."""
    known = _known(contract, suggestions)
    found: list[Evidence] = []
    auto = _value(known, TermField.AUTO_RENEW, contract.auto_renew) is True
    notice = _value(known, TermField.NOTICE_DAYS, contract.notice_period_days)
    cap = contract.price_cap_percent
    cap = (
        Decimal(str(known[TermField.PRICE_CAP][0]))
        if cap is None and TermField.PRICE_CAP in known
        else cap
    )
    read = any(item.document.terms_status == ContractDocument.Terms.DONE for item in suggestions)
    if auto and notice is not None and notice > settings.CONTRACT_TRAP_NOTICE_DAYS:
        found.append(Evidence(Kind.LONG_NOTICE, f"notice {notice}",
                              _evidence(known, TermField.NOTICE_DAYS)))  # fmt: skip
    if auto and cap is None:
        found.append(Evidence(Kind.NO_PRICE_CAP, "", _evidence(known, TermField.AUTO_RENEW)))
    if cap is not None and cap > settings.CONTRACT_PRICE_CAP_LIMIT:
        found.append(Evidence(Kind.HIGH_PRICE_CAP,
                              f"cap {cap:g} {settings.CONTRACT_PRICE_CAP_LIMIT}",
                              _evidence(known, TermField.PRICE_CAP)))  # fmt: skip
    if _value(known, TermField.LIST_PRICE) is True:
        found.append(Evidence(Kind.LIST_PRICE, "", _evidence(known, TermField.LIST_PRICE)))
    if _value(known, TermField.TERMINATION, contract.termination) == "vendor_only":
        found.append(Evidence(Kind.VENDOR_ONLY_EXIT, "", _evidence(known, TermField.TERMINATION)))
    if read and not contract.data_return_clause and TermField.DATA_RETURN not in known:
        found.append(Evidence(Kind.NO_DATA_RETURN, "", None))
    found += _amendment_changes(contract, suggestions)
    clashes = sorted({item.field for item in suggestions
                      if item.conflict and item.status == TermSuggestion.Status.OPEN})  # fmt: skip
    if clashes:
        first = next(item for item in suggestions if item.conflict)
        found.append(Evidence(Kind.CONTRADICTION, "fields " + " ".join(clashes), first))
    return found


@transaction.atomic
def findings_refresh(contract_id: int) -> list[ContractFinding]:
    """Open the findings that hold, update their clause, resolve the ones that no longer hold."""
    contract = Contract.objects.select_for_update().get(pk=contract_id)
    suggestions = list(
        TermSuggestion.objects.filter(contract=contract, status__in=LIVE)
        .select_related("document")
        .order_by("document__kind", "-document__version", "page", "pk")
    )
    holding = {evidence.kind: evidence for evidence in evaluate(contract, suggestions)}
    open_ = {f.kind: f for f in contract.findings.filter(status=ContractFinding.Status.OPEN)}
    now = timezone.now()
    for kind, finding in open_.items():
        if kind not in holding:
            finding.status, finding.resolved_at = ContractFinding.Status.RESOLVED, now
            finding.save(update_fields=["status", "resolved_at"])
    for kind, evidence in holding.items():
        source = evidence.suggestion
        values = {
            "detail": evidence.detail[:300],
            "sentence": source.sentence if source else "",
            "page": source.page if source else None,
            "document": source.document if source else None,
        }
        current = open_.get(kind)
        if current is None:
            ContractFinding.objects.create(contract=contract, kind=kind, **values)
        elif any(getattr(current, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(current, name, value)
            current.save(update_fields=list(values))
    return list(contract.findings.filter(status=ContractFinding.Status.OPEN))
