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

from contracts.terms import rules
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
    rules.price_cap, rules.list_price, rules.termination, rules.data_return,
    rules.personal_info, rules.data_location,
]  # fmt: skip


def _found(sentence: Sentence) -> Iterator[Found]:
    for rule in RULES:
        for field, value, start, end, problem in rule(sentence.text):
            yield Found(
                field, value, sentence.text[start:end], sentence.text, sentence.page, start, end,
                problem=problem,
            )  # fmt: skip


def extract_terms(pages: list[str]) -> list[Found]:
    """Every key term found, one per field and value (its first sentence), in field order;
    values of one field that disagree are all marked ``conflict``."""
    by_field: dict[str, dict[str, Found]] = {}
    for sentence in sentences(pages):
        for found in _found(sentence):
            by_field.setdefault(found.field, {}).setdefault(found.key, found)
    result = []
    for field in FIELD_ORDER:
        values = list(by_field.get(field, {}).values())
        clash = len(values) > 1
        result += [replace(found, conflict=clash and not found.problem) for found in values]
    return result


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
