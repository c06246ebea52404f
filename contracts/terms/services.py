"""Writes of the contract terms: a document's text read for key terms (in the worker, after its
text), a person's decision on a suggested term, and the findings kept in step."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import Contract, ContractDocument
from contracts.services import may_edit, search_refresh
from contracts.terms.apply import apply_value, parse_value
from contracts.terms.extract import extract_terms
from contracts.terms.findings import findings_refresh
from contracts.terms.models import TermSuggestion
from org.models import User

logger = logging.getLogger(__name__)
PAGE_BREAK = "\f"


def terms_refresh(*, document_id: int) -> str:
    """Read a document's key terms from its stored text: its open suggestions are replaced as
    a whole (decided ones are kept as history), then the contract's findings are refreshed."""
    document = ContractDocument.objects.filter(pk=document_id).first()
    if document is None:
        return "skipped"
    found: list[Any] = []
    status = ContractDocument.Terms.NONE
    if document.text_status == ContractDocument.Text.DONE and document.text.strip():
        try:
            found = extract_terms(document.text.split(PAGE_BREAK))
            status = ContractDocument.Terms.DONE
        except Exception:  # a reader bug must not lose the document; the page says "failed"
            logger.exception("reading the key terms of document %s failed", document_id)
            status = ContractDocument.Terms.FAILED
    with transaction.atomic():
        Contract.objects.select_for_update().filter(pk=document.contract_id).first()
        document.term_suggestions.filter(status=TermSuggestion.Status.OPEN).delete()
        TermSuggestion.objects.bulk_create(
            TermSuggestion(
                contract_id=document.contract_id,
                document=document,
                field=item.field,
                value=item.value,
                found_text=item.text[:300],
                sentence=item.sentence,
                start=item.start,
                end=item.end,
                page=item.page,
                conflict=item.conflict,
                problem=item.problem,
            )  # fmt: skip
            for item in found
        )
        ContractDocument.objects.filter(pk=document_id).update(terms_status=status)
        findings_refresh(document.contract_id)
    return f"{status}: {len(found)} terms"


def _locked(suggestion_id: int, contract_id: int) -> tuple[TermSuggestion, Contract]:
    contract = Contract.objects.select_for_update().get(pk=contract_id)
    suggestion = TermSuggestion.objects.select_for_update().get(pk=suggestion_id, contract=contract)
    if suggestion.status != TermSuggestion.Status.OPEN:
        raise ValidationError(_("This term was already decided by someone else; see the page."))
    return suggestion, contract


@transaction.atomic
def suggestion_decide(
    *,
    user: User,
    contract_id: int,
    suggestion_id: int,
    action: str,
    raw: dict[str, str] | None = None,
) -> TermSuggestion:
    """Accept a suggested term as found, correct it, or dismiss it. Accepted and corrected
    values are written to the contract (audited), the other open suggestions of the same term
    are dismissed with it, and the findings follow. Raises ValidationError for the page."""
    if not may_edit(user):
        raise PermissionDenied
    suggestion, contract = _locked(suggestion_id, contract_id)
    now = timezone.now()
    if action == "dismiss":
        suggestion.status = TermSuggestion.Status.DISMISSED
    elif action in ("accept", "correct"):
        if action == "accept" and (suggestion.problem or suggestion.value is None):
            raise ValidationError(_("This value cannot be used as read; enter the right one."))
        value = suggestion.value if action == "accept" else parse_value(suggestion.field, raw or {})
        changed = apply_value(contract, suggestion.field, value, suggestion.sentence)
        if changed:
            try:
                contract.full_clean(exclude=["search_vector"])
            except ValidationError as exc:
                raise ValidationError(" ".join(exc.messages)) from None
            contract.save(update_fields=[*changed, "updated_at"])
        suggestion.status = (
            TermSuggestion.Status.ACCEPTED
            if action == "accept"
            else TermSuggestion.Status.CORRECTED
        )
        suggestion.applied_value = value
        TermSuggestion.objects.filter(
            contract=contract, field=suggestion.field, status=TermSuggestion.Status.OPEN
        ).exclude(pk=suggestion.pk).update(
            status=TermSuggestion.Status.DISMISSED, decided_by=user, decided_at=now
        )
    else:
        raise ValidationError(_("Choose accept, correct or dismiss."))
    suggestion.decided_by, suggestion.decided_at = user, now
    suggestion.save(update_fields=["status", "applied_value", "decided_by", "decided_at"])
    search_refresh(contract_id=contract.pk)
    findings_refresh(contract.pk)
    return suggestion
