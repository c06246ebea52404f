"""Key terms read from a contract's text, Chinese and English, each with the sentence it came
from: ``extract_terms(pages)``. Suggestions only; a person accepts or corrects every one
(contracts.terms.services). Two sentences that give one term different values are both marked
``conflict`` and neither is preferred."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from contracts.terms import clauses, rules
from contracts.terms.text import Sentence, sentences

FIELD_ORDER = [
    "number", "vendor", "customer", "signed_on", "valid_from", "valid_to", "term_months",
    "seats", "amount", "billing_cycle", "payment_terms", "auto_renew", "notice_days",
    "price_cap", "list_price", "termination", "data_return", "personal_info", "data_location",
]  # fmt: skip


@dataclass(frozen=True)
class Found:
    field: str
    value: Any  # JSON form (see TermSuggestion.value); None when ``problem`` says why
    text: str  # as written
    sentence: str
    page: int
    start: int  # the written text's place in the sentence
    end: int
    conflict: bool = False
    problem: str = ""  # "invalid_date": written like a date, but there is no such day

    @property
    def key(self) -> str:
        return json.dumps(self.value, sort_keys=True)


Hit = tuple[str, Any, int, int, str]  # field, value, start, end, problem
Rule = Callable[[str], Iterator[Hit]]

RULES: list[Rule] = [
    rules.number, rules.parties_of, rules.dates_of, rules.term_months, rules.seats,
    rules.amount, rules.billing_cycle, rules.payment_terms, rules.auto_renew, rules.notice,
    rules.price_cap, rules.list_price, clauses.termination, clauses.data_return,
    clauses.personal_info, clauses.data_location,
]  # fmt: skip


def _found(sentence: Sentence) -> Iterator[Found]:
    for rule in RULES:
        yield from _found_by(rule, sentence)


def _found_by(rule: Rule, sentence: Sentence) -> Iterator[Found]:
    for field, value, start, end, problem in rule(sentence.text):
        yield Found(
            field, value, sentence.text[start:end], sentence.text, sentence.page, start, end,
            problem=problem,
        )  # fmt: skip


def extract_terms(pages: list[str]) -> list[Found]:
    """Every key term found, one per field and value (its first sentence), in field order;
    values of one field that disagree are all marked ``conflict``."""
    by_field: dict[str, dict[str, Found]] = {}
    read = sentences(pages)
    tax = _document_tax(read)
    positions = _party_positions(read)
    for sentence in read:
        for found in _found(sentence):
            if found.field in positions:
                found = replace(found, field=positions[found.field])
            if found.field == "amount" and found.value["tax_included"] is None and tax is not None:
                found = replace(found, value={**found.value, "tax_included": tax})
            by_field.setdefault(found.field, {}).setdefault(found.key, found)
    if "seats" not in by_field:
        for found in _table_across(read):
            by_field.setdefault(found.field, {}).setdefault(found.key, found)
    _weigh_termination(by_field, positions)
    result = []
    for field in FIELD_ORDER:
        values = list(by_field.get(field, {}).values())
        clash = len(values) > 1
        result += [replace(found, conflict=clash and not found.problem) for found in values]
    return result


def _table_across(read: list[Sentence]) -> Iterator[Found]:
    """An order table whose header and first row were read as two sentences (OCR puts a blank
    line between a table's rows): the seats from the header and the row together."""
    for sentence, following in zip(read, read[1:], strict=False):
        if sentence.page == following.page and rules.quantity_header(sentence.text):
            joined = Sentence(sentence.page, f"{sentence.text} {following.text}")
            found = list(_found_by(rules.seats, joined))
            if found:
                yield from found
                return


# "甲方向乙方提供…服务" (甲方 is the vendor), "乙方应向甲方支付" (乙方 pays: the customer).
_A_SELLS = re.compile(
    r"(?:甲方|Party A)\s*(?:应|将|同意)?\s*(?:向|为)\s*(?:乙方|Party B)\s*提供|乙方\s*(?:应|须)?\s*向\s*甲方\s*支付|"
    r"乙方\s*(?:向|从)\s*甲方\s*(?:采购|购买|订购)|Party A (?:shall )?provides? .{0,40}to Party B",
    re.IGNORECASE,
)


def _party_positions(read: list[Sentence]) -> dict[str, str]:
    """Which of 甲方 / 乙方 is the vendor: 乙方 unless the document says 甲方 sells."""
    sells = any(_A_SELLS.search(sentence.text) for sentence in read)
    if sells:
        return {"party_a": "vendor", "party_b": "customer"}
    return {"party_a": "customer", "party_b": "vendor"}


def _document_tax(read: list[Sentence]) -> bool | None:
    """Whether the document says its prices include tax ("(含增值税)" under a table's total,
    "All fees are exclusive of VAT"): one answer, or None when it says nothing or both."""
    said = {
        rules.tax_statement(sentence.text) for sentence in read
    } - {None}  # fmt: skip
    return said.pop() if len(said) == 1 else None


def _weigh_termination(by_field: dict[str, dict[str, Found]], positions: dict[str, str]) -> None:
    """Who may end the contract early, from every sentence's signal: either party; we, the
    customer (whatever the vendor may not); only the vendor; neither."""
    signals = by_field.pop("_termination", {})
    said: dict[str, Found] = {}
    for found in signals.values():
        side, _sep, what = found.value.partition("_")
        if found.value.startswith("party_"):  # "party_a_may": 甲方 may
            side, what = found.value[:7], found.value[8:]
            said.setdefault(f"{positions[side]}_{what}", found)
        else:
            said.setdefault(found.value, found)
    may_c, may_v = "customer_may" in said, "vendor_may" in said or "vendor_only" in said
    if "both" in said or (may_c and may_v):
        value, evidence = "both", said.get("both") or said["customer_may"]
    elif may_c:
        value, evidence = "customer", said["customer_may"]
    elif may_v:
        value, evidence = "vendor_only", said.get("vendor_only") or said["vendor_may"]
    elif "none" in said:
        value, evidence = "none", said["none"]
    else:
        return
    found = replace(evidence, field="termination", value=value)
    by_field["termination"] = {found.key: found}


def answers(found: list[Found]) -> dict[str, Any]:
    """Each field's single, uncontradicted value (what a benchmark scores)."""
    out: dict[str, Any] = {}
    for item in found:
        if item.problem or item.conflict:
            continue
        out[item.field] = item.value
    return out


def summary(found: list[Found]) -> str:
    """A readable listing (``manage.py contract_terms``)."""
    lines = []
    for item in found:
        flag = (
            " [contradicted]" if item.conflict else (f" [{item.problem}]" if item.problem else "")
        )
        lines.append(f"{item.field:<14} {json.dumps(item.value, ensure_ascii=False)}{flag}")
        lines.append(f"{'':<14} p.{item.page}: {_clip(item)}")
    return "\n".join(lines)


def _clip(item: Found) -> str:
    before = item.sentence[max(0, item.start - 60) : item.start]
    after = item.sentence[item.end : item.end + 60]
    return re.sub(r"\s+", " ", f"…{before}[{item.text}]{after}…")
