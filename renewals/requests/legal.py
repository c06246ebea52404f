"""When a request needs a legal review step: the tier's rules (flagged clauses, auto-renewal,
an amount) applied to what the contract archive knows of the request's contract.

The archive sits above renewals, so it registers the reader of its facts here when the apps are
ready (contracts/apps.py); renewals never imports it. With nothing registered no contract is
known and only the amount rule applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from renewals.requests.models.approvals import ApprovalTier
    from renewals.requests.models.requests import RenewalRequest


@dataclass(frozen=True)
class ContractFacts:
    """What the archive knows of the contract a request renews."""

    contract_id: int
    flagged: int  # open contract findings (traps)
    auto_renews: bool


FactsReader = Callable[["RenewalRequest"], "ContractFacts | None"]
ChecklistReader = Callable[["RenewalRequest"], list[dict[str, Any]]]
_READERS: list[FactsReader] = []
_CHECKLISTS: list[ChecklistReader] = []


def register_contract_facts(reader: FactsReader, checklist: ChecklistReader) -> None:
    """The contract archive's readers of a request's contract: its facts and its clause
    checklist (one each; registering replaces)."""
    _READERS[:] = [reader]
    _CHECKLISTS[:] = [checklist]


def contract_facts(request: RenewalRequest) -> ContractFacts | None:
    return _READERS[0](request) if _READERS else None


def clause_checklist(request: RenewalRequest) -> list[dict[str, Any]]:
    """The contract's clause checklist (label, what it says, sentences, traps, legal's
    comments) for the needs-assessment report; empty without a contract."""
    return _CHECKLISTS[0](request) if _CHECKLISTS else []


def legal_reasons(request: RenewalRequest, tier: ApprovalTier) -> list[str]:
    """Why this request needs legal's review under ``tier`` (empty: it does not)."""
    reasons = []
    facts = contract_facts(request)
    if tier.legal_if_flagged and facts is not None and facts.flagged:
        reasons.append(_("the contract has flagged clauses"))
    if tier.legal_if_auto_renews and facts is not None and facts.auto_renews:
        reasons.append(_("the contract auto-renews"))
    if (
        tier.legal_above is not None
        and request.amount_base is not None
        and request.amount_base >= tier.legal_above
    ):
        reasons.append(_("the amount reaches the legal-review threshold"))
    return reasons
