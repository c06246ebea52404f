"""Suggested terms from a stored document's text: read, accepted, corrected, dismissed; the
contract changes only on a decision; traps become findings and a risk; races and bad input."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from contracts.models import Contract, ContractDocument, ContractFinding, TermSuggestion
from contracts.terms.services import suggestion_decide, terms_refresh
from renewals.risks.models import Risk
from renewals.risks.services import risks_refresh
from tests.conftest import Cast
from tests.contracts.helpers import client_for
from tests.contracts.terms.samples import CHINESE, ENGLISH

pytestmark = pytest.mark.django_db


def document_with_text(
    contract: Contract, user: Any, *pages: str, kind: str = "main"
) -> ContractDocument:
    version = contract.documents.filter(kind=kind).count() + 1
    document = ContractDocument.objects.create(
        contract=contract, kind=kind, version=version, original_name="合同.pdf",
        stored_name=f"private/contracts/{uuid.uuid4().hex}.pdf", content_type="application/pdf",
        size=1, sha256=uuid.uuid4().hex * 2, text="\f".join(pages),
        text_status=ContractDocument.Text.DONE, text_source=ContractDocument.Source.LAYER,
        page_count=len(pages), uploaded_by=user,
    )  # fmt: skip
    terms_refresh(document_id=document.pk)
    return document


def suggestion(contract: Contract, field: str) -> TermSuggestion:
    return TermSuggestion.objects.get(contract=contract, field=field, status="open")


def test_reading_suggests_and_changes_nothing(cast: Cast, contract: Contract) -> None:
    before = Contract.objects.values().get(pk=contract.pk)
    document = document_with_text(contract, cast.it_admin, CHINESE)
    assert document.term_suggestions.count() == 17
    assert ContractDocument.objects.get(pk=document.pk).terms_status == "done"
    after = Contract.objects.values().get(pk=contract.pk)
    assert {k: v for k, v in after.items() if k != "search_vector"} == {
        k: v for k, v in before.items() if k != "search_vector"
    }


def test_accepting_terms_updates_the_contract_field_by_field(
    cast: Cast, contract: Contract
) -> None:
    document_with_text(contract, cast.it_admin, CHINESE)
    for field in ("amount", "notice_days", "valid_to", "seats", "termination", "vendor"):
        suggestion_decide(user=cast.finance, contract_id=contract.pk,
                          suggestion_id=suggestion(contract, field).pk, action="accept")  # fmt: skip
    contract.refresh_from_db()
    assert (contract.total_value, contract.currency, contract.tax_included) == (
        Decimal("150000.00"),
        "CNY",
        True,
    )
    assert contract.notice_period_days == 60
    assert contract.valid_to == dt.date(2027, 2, 28)
    assert contract.seats == 200
    assert (
        contract.termination == "vendor_only" and "甲方不得提前解除" in contract.termination_clause
    )
    assert contract.counterparty == "北京云帆软件有限公司"
    decided = TermSuggestion.objects.get(contract=contract, field="amount")
    assert decided.status == "accepted" and decided.decided_by == cast.finance


def test_a_correction_is_checked_and_bad_values_change_nothing(
    cast: Cast, contract: Contract, english: Any
) -> None:
    document_with_text(contract, cast.it_admin, ENGLISH)
    notice = suggestion(contract, "notice_days")
    for raw in ({"value": "-3"}, {"value": "ninety"}, {"value": "9" * 400}, {"value": ""}):
        with pytest.raises(ValidationError):
            suggestion_decide(user=cast.it_admin, contract_id=contract.pk, suggestion_id=notice.pk,
                              action="correct", raw=raw)  # fmt: skip
    amount = suggestion(contract, "amount")
    with pytest.raises(ValidationError):
        suggestion_decide(user=cast.it_admin, contract_id=contract.pk, suggestion_id=amount.pk,
                          action="correct", raw={"value": "12000", "currency": "US$"})  # fmt: skip
    start = suggestion(contract, "valid_from")
    with pytest.raises(ValidationError):  # a start after the end breaks the contract's own rule
        suggestion_decide(user=cast.it_admin, contract_id=contract.pk, suggestion_id=start.pk,
                          action="correct", raw={"value": "2030-01-01"})  # fmt: skip
    contract.refresh_from_db()
    assert contract.notice_period_days == 45 and contract.valid_from == dt.date(2027, 1, 1)
    assert TermSuggestion.objects.filter(contract=contract).exclude(status="open").count() == 0
    suggestion_decide(user=cast.it_admin, contract_id=contract.pk, suggestion_id=notice.pk,
                      action="correct", raw={"value": "60"})  # fmt: skip
    contract.refresh_from_db()
    assert contract.notice_period_days == 60
    assert TermSuggestion.objects.get(pk=notice.pk).applied_value == 60


def test_a_date_that_does_not_exist_cannot_be_accepted(cast: Cast, contract: Contract) -> None:
    document_with_text(contract, cast.it_admin, "本合同有效期自2026年2月30日起至2027年2月28日止。")
    bad = TermSuggestion.objects.get(contract=contract, field="valid_from")
    assert bad.problem == "invalid_date"
    with pytest.raises(ValidationError):
        suggestion_decide(
            user=cast.it_admin, contract_id=contract.pk, suggestion_id=bad.pk, action="accept"
        )
    assert Contract.objects.get(pk=contract.pk).valid_from == dt.date(2027, 1, 1)


def test_only_editors_decide(cast: Cast, contract: Contract) -> None:
    document_with_text(contract, cast.it_admin, CHINESE)
    item = suggestion(contract, "seats")
    for user in (cast.auditor, cast.head_a, cast.software_admin, cast.employee):
        with pytest.raises(PermissionDenied):
            suggestion_decide(
                user=user, contract_id=contract.pk, suggestion_id=item.pk, action="accept"
            )
    response = client_for(cast.head_a).post(
        reverse("contracts:term-decide", args=[contract.pk, item.pk]), {"action": "accept"}
    )
    assert response.status_code == 403
    assert suggestion(contract, "seats").pk == item.pk


def test_a_suggestion_of_another_contract_is_not_found(cast: Cast, contract: Contract) -> None:
    other = Contract.objects.create(
        subscription=contract.subscription, number="X-1", counterparty="别家", created_by=cast.it_admin,
        valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 12, 31), total_value=1,
    )  # fmt: skip
    document_with_text(other, cast.it_admin, CHINESE)
    foreign = suggestion(other, "seats")
    response = client_for(cast.it_admin).post(
        reverse("contracts:term-decide", args=[contract.pk, foreign.pk]), {"action": "accept"}
    )
    assert response.status_code == 404
    assert suggestion(other, "seats").status == "open"


def test_the_page_shows_sentences_and_a_decision_by_post(cast: Cast, contract: Contract) -> None:
    document_with_text(contract, cast.it_admin, "序言。", CHINESE)
    client = client_for(cast.it_admin)
    page = client.get(contract.get_absolute_url()).content.decode()
    assert "<mark>六十日</mark>" in page and "page=2" in page
    item = suggestion(contract, "notice_days")
    response = client.post(
        reverse("contracts:term-decide", args=[contract.pk, item.pk]), {"action": "accept"}
    )
    assert response.status_code == 302
    assert Contract.objects.get(pk=contract.pk).notice_period_days == 60
    replay = client.post(
        reverse("contracts:term-decide", args=[contract.pk, item.pk]), {"action": "dismiss"}
    )
    assert replay.status_code == 302
    assert TermSuggestion.objects.get(pk=item.pk).status == "accepted"


def test_traps_are_findings_and_one_risk(cast: Cast, contract: Contract) -> None:
    document_with_text(contract, cast.it_admin, CHINESE)
    kinds = set(
        ContractFinding.objects.filter(contract=contract, status="open").values_list(
            "kind", flat=True
        )
    )
    # The contract already says auto-renewal with a 5% cap and 45 days' notice (typed: it wins
    # over the text's 60 until someone accepts that); the text adds the list price and
    # vendor-only termination, and has no data-return clause.
    assert kinds == {"long_notice", "list_price", "vendor_only_exit", "no_data_return"}
    notice = ContractFinding.objects.get(contract=contract, kind="long_notice")
    assert "六十日" in notice.sentence and notice.page == 1 and notice.detail == "notice 45"
    risks_refresh(today=dt.date(2026, 12, 1))
    risk = Risk.objects.get(rule="contract_clauses", key=str(contract.pk))
    assert risk.category == "contract_trap" and risk.subscription_id == contract.subscription_id
    # Dismissing the list-price reading and correcting the notice to 30 days resolves both.
    suggestion_decide(user=cast.it_admin, contract_id=contract.pk,
                      suggestion_id=suggestion(contract, "list_price").pk, action="dismiss")  # fmt: skip
    suggestion_decide(user=cast.it_admin, contract_id=contract.pk,
                      suggestion_id=suggestion(contract, "notice_days").pk, action="correct",
                      raw={"value": "30"})  # fmt: skip
    kinds = set(
        ContractFinding.objects.filter(contract=contract, status="open").values_list(
            "kind", flat=True
        )
    )
    assert kinds == {"vendor_only_exit", "no_data_return"}


def test_an_amendment_that_changes_the_price_is_a_finding(cast: Cast, contract: Contract) -> None:
    document_with_text(contract, cast.it_admin, ENGLISH)
    document_with_text(
        contract,
        cast.it_admin,
        "Amendment No. 1. The total fees are amended to USD 60,000.00.",
        kind="amendment",
    )
    finding = ContractFinding.objects.get(contract=contract, kind="amendment_change", status="open")
    assert "60000.00" in finding.detail and "amended" in finding.sentence


@pytest.mark.django_db(transaction=True)
def test_two_people_deciding_one_term_at_once_give_one_decision(
    cast: Cast, contract: Contract
) -> None:
    document_with_text(contract, cast.it_admin, CHINESE)
    item = suggestion(contract, "seats")
    barrier, outcomes = threading.Barrier(2), []

    def decide(user: Any, action: str, raw: dict[str, str]) -> None:
        try:
            barrier.wait()
            suggestion_decide(
                user=user, contract_id=contract.pk, suggestion_id=item.pk, action=action, raw=raw
            )
            outcomes.append(action)
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(cast.it_admin, "accept", {})),
               threading.Thread(target=decide, args=(cast.finance, "correct", {"value": "150"}))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[1] == "refused" or sorted(outcomes)[0] == "refused"
    winner = TermSuggestion.objects.get(pk=item.pk)
    assert Contract.objects.get(pk=contract.pk).seats == winner.applied_value
    assert outcomes.count("refused") == 1


def test_reading_again_replaces_open_suggestions_and_keeps_decisions(
    cast: Cast, contract: Contract
) -> None:
    document = document_with_text(contract, cast.it_admin, CHINESE)
    suggestion_decide(user=cast.it_admin, contract_id=contract.pk,
                      suggestion_id=suggestion(contract, "seats").pk, action="accept")  # fmt: skip
    terms_refresh(document_id=document.pk)
    assert (
        TermSuggestion.objects.filter(document=document, field="seats", status="accepted").count()
        == 1
    )
    assert TermSuggestion.objects.filter(document=document, status="open").count() == 17
