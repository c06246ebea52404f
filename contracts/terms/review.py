"""Legal review of a renewal request's contract: which contract it is, the clause checklist
(what the contract says, the sentences read from it, the traps found), legal's comments per
clause and the decision, taken through renewals' ``step_decide`` like every other step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Q, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts.models import Contract
from contracts.terms.apply import current_value
from contracts.terms.findings import LIVE
from contracts.terms.models import ClauseComment, ContractFinding, TermField, TermSuggestion
from contracts.terms.selectors import display
from org.models import User
from org.roles import Role
from renewals.requests.legal import ContractFacts
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.services.deciding import DecisionRefused, step_decide

K = ContractFinding.Kind
# The clauses legal reads: key, label, the terms that show them, the traps that concern them.
CLAUSES: list[tuple[str, Any, list[str], list[str]]] = [
    ("renewal", gettext_lazy("Auto-renewal and notice"), [TermField.AUTO_RENEW, TermField.NOTICE_DAYS],
     [K.LONG_NOTICE, K.NO_PRICE_CAP]),
    ("price", gettext_lazy("Renewal price"), [TermField.PRICE_CAP, TermField.LIST_PRICE],
     [K.HIGH_PRICE_CAP, K.LIST_PRICE]),
    ("termination", gettext_lazy("Termination"), [TermField.TERMINATION], [K.VENDOR_ONLY_EXIT]),
    ("data_return", gettext_lazy("Data return and exit"), [TermField.DATA_RETURN], [K.NO_DATA_RETURN]),
    ("personal_info", gettext_lazy("Personal information"), [TermField.PERSONAL_INFO], []),
    ("data_location", gettext_lazy("Data location"), [TermField.DATA_LOCATION], []),
    ("money", gettext_lazy("Amount, term and payment"),
     [TermField.AMOUNT, TermField.VALID_FROM, TermField.VALID_TO, TermField.PAYMENT_TERMS],
     [K.AMENDMENT_CHANGE, K.CONTRADICTION]),
]  # fmt: skip
CLAUSE_KEYS = [key for key, *_rest in CLAUSES]
MAX_COMMENT = 2000


def request_contract(request: RenewalRequest) -> Contract | None:
    """The contract a request is about: one filed with the request, else the subscription's
    newest active (or draft) contract."""
    return (
        Contract.objects.filter(
            Q(renewal_request=request)
            | Q(subscription=request.subscription_id, status__in=("active", "draft"))
        )
        .annotate(filed=Case(When(renewal_request=request, then=1), default=0))
        .order_by("-filed", "-valid_from", "-pk")  # filed with this request first
        .first()
    )


def facts(request: RenewalRequest) -> ContractFacts | None:
    """renewals' legal-review rules read this (registered in contracts/apps.py)."""
    contract = request_contract(request)
    if contract is None:
        return None
    flagged = contract.findings.filter(status=ContractFinding.Status.OPEN).count()
    auto = (
        contract.auto_renew
        or TermSuggestion.objects.filter(
            contract=contract, field=TermField.AUTO_RENEW, value=True, status__in=LIVE
        ).exists()
    )
    return ContractFacts(contract.pk, flagged, auto)


@dataclass
class ClauseRow:
    key: str
    label: str
    says: list[tuple[str, str]] = field(default_factory=list)  # (term, the contract's value)
    sentences: list[TermSuggestion] = field(default_factory=list)
    findings: list[ContractFinding] = field(default_factory=list)
    comments: list[ClauseComment] = field(default_factory=list)


def checklist(contract: Contract) -> list[ClauseRow]:
    """The clause checklist of a contract (three queries whatever its size)."""
    suggestions = list(
        TermSuggestion.objects.filter(contract=contract, status__in=LIVE)
        .select_related("document")
        .order_by("page", "pk")
    )
    findings = list(contract.findings.filter(status=ContractFinding.Status.OPEN))
    comments = list(contract.clause_comments.select_related("author").order_by("created_at"))
    labels = dict(TermField.choices)
    rows = []
    for key, label, fields, kinds in CLAUSES:
        row = ClauseRow(key, str(label))
        row.says = [(str(labels[f]), display(f, current_value(contract, f))) for f in fields]
        # One sentence may state two terms (the start and the end): shown once.
        row.sentences = list(
            {s.sentence: s for s in reversed(suggestions) if s.field in fields}.values()
        )[::-1]
        row.findings = [f for f in findings if f.kind in kinds]
        row.comments = [c for c in comments if c.clause == key]
        rows.append(row)
    return rows


def pdf_checklist(request: RenewalRequest) -> list[dict[str, Any]]:
    """The checklist for the needs-assessment PDF (registered with renewals)."""
    contract = request_contract(request)
    if contract is None:
        return []
    return [
        {"label": row.label, "says": row.says,
         "sentences": [(s.page, s.sentence[:300]) for s in row.sentences[:2]],
         "findings": [str(f.get_kind_display()) for f in row.findings],
         "comments": [f"{c.author}: {c.comment}" for c in row.comments]}
        for row in checklist(contract)
    ]  # fmt: skip


@transaction.atomic
def legal_decide(
    *, request: RenewalRequest, user: User, step_id: int, decision: str,
    comments: dict[str, str], comment: str = "",
) -> ApprovalStep:  # fmt: skip
    """Legal's decision with a comment per clause: the step is decided by ``step_decide`` (every
    rule of every step: own request, role, order, round) and the comments are stored with it,
    in one transaction; a refusal stores nothing."""
    if decision not in ApprovalStep.Decision.values:
        raise DecisionRefused(_("Choose approve, return or reject."), code="decision")
    step = ApprovalStep.objects.filter(pk=step_id, request=request).first()
    if step is None or step.role != Role.LEGAL:
        raise DecisionRefused(_("This is not a legal review step."), code="not_your_step")
    contract = request_contract(request)
    cleaned = {
        k: v.strip()[:MAX_COMMENT] for k, v in comments.items() if k in CLAUSE_KEYS and v.strip()
    }
    labels = {key: str(label) for key, label, *_rest in CLAUSES}
    summary = "\n".join(f"{labels[k]}: {v}" for k, v in cleaned.items())
    overall = "\n".join(part for part in (comment.strip()[:MAX_COMMENT], summary) if part)
    decided = step_decide(request=request, user=user, decision=decision, comment=overall,
                          step_id=step_id)  # fmt: skip
    if contract is not None:
        ClauseComment.objects.bulk_create(
            ClauseComment(
                contract=contract,
                request=request,
                step=decided,
                clause=key,
                comment=text,
                author=user,
            )  # fmt: skip
            for key, text in cleaned.items()
        )
    elif cleaned:
        raise ValidationError(_("This request has no contract to comment on."))
    return decided
