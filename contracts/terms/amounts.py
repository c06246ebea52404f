"""Amounts of money as contracts write them: ¥150,000.00, 人民币150,000元, 15万元, 人民币壹拾伍万元整,
RMB 150,000, US$12,000, "USD 12,000", with the currency and whether tax is included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from contracts.terms.numbers import ARABIC, to_decimal

# Longest first: "美元" before "元", "US$" and "HK$" before "$".
_CURRENCIES = [
    (r"US\$|USD|U\.S\. ?dollars?|US dollars?|美元|美金", "USD"),
    (r"HK\$|HKD|港币|港元", "HKD"),
    (r"S\$|SGD|新加坡元", "SGD"),
    (r"€|EUR|euros?|欧元", "EUR"),
    (r"£|GBP|英镑", "GBP"),
    (r"JPY|日元", "JPY"),
    (r"RMB|CNY|人民币|¥|Renminbi|元", "CNY"),
    (r"\$|dollars?", "USD"),
]
_CODE = {}
_ALTERNATIVES = []
for pattern, code in _CURRENCIES:
    for part in pattern.split("|"):
        _ALTERNATIVES.append(part)
        _CODE[part.replace("\\", "")] = code
CURRENCY = "|".join(sorted(_ALTERNATIVES, key=lambda p: len(p.replace("\\", "")), reverse=True))
CAPITAL = "零壹贰叁肆伍陆柒捌玖拾佰仟万亿"

_MONEY = re.compile(
    rf"(?P<pre>{CURRENCY})\s*(?:\(\s*(?:大写|小写)?\s*\)\s*)?[:：]?\s*(?P<n1>{ARABIC})\s*"
    rf"(?P<u1>万|亿|million|thousand|k\b|m\b)?\s*(?P<post1>{CURRENCY})?"
    rf"|(?<![\d,.])(?P<n2>{ARABIC})\s*(?P<u2>万|亿|million|thousand)?\s*(?P<post2>{CURRENCY})"
    rf"|(?P<cap>[{CAPITAL}]{{2,}}元(?:[{CAPITAL}]角)?(?:[{CAPITAL}]分)?整?)",
    re.IGNORECASE,
)
_UNIT = {"万": 10_000, "亿": 100_000_000, "million": 1_000_000, "m": 1_000_000, "thousand": 1000}
_UNIT["k"] = 1000
# A price per something, not an amount: "750元/账号/年", "USD 10 per user per month".
_PER = re.compile(r"^\s*(?:/|每|per\b|each\b|a (?:user|seat|month|year))", re.IGNORECASE)

_TAX_EXCLUDED = re.compile(
    r"不含税|未含税|不含增值税|税费另计|税款另计|不包含(?:任何)?税|"
    r"(?:exclusive|excluding|exclusive of|net) of (?:all |any )?(?:applicable )?(?:taxes|tax|VAT)|"
    r"(?:tax|VAT|GST)[- ]exclusive|exclusive of (?:\d+(?:\.\d+)?% )?(?:VAT|GST|tax)|"
    r"excluding (?:all |any )?(?:applicable )?(?:taxes|tax|VAT|GST)|plus (?:all )?(?:applicable )?"
    r"(?:taxes|tax|VAT)|(?:taxes|VAT) (?:are |is )?(?:not included|extra|excluded)|before tax",
    re.IGNORECASE,
)
_TAX_INCLUDED = re.compile(
    r"含税|含增值税|含\s*\d+(?:\.\d+)?\s*%\s*(?:的)?增值税|价税合计|税费已包含|已含税|包含(?:全部|所有)?税|"
    r"(?:tax|VAT|GST)[- ]inclusive|inclusive of (?:\d+(?:\.\d+)?% )?(?:VAT|GST|tax)|"
    r"inclusive of (?:all |any )?(?:applicable )?(?:taxes|tax|VAT|GST)|including (?:all |any )?"
    r"(?:applicable )?(?:taxes|tax|VAT)|(?:taxes|tax|VAT) (?:are |is )?included",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Money:
    start: int
    end: int
    amount: Decimal
    currency: str
    capital: bool  # written in 大写 numerals


def _capital(text: str) -> Decimal | None:
    text = text.rstrip("整")
    yuan, _sep, rest = text.partition("元")
    whole = to_decimal(yuan)
    if whole is None:
        return None
    for unit, scale in (("角", Decimal("0.1")), ("分", Decimal("0.01"))):
        if unit in rest:
            digit, _sep, rest = rest.partition(unit)
            value = to_decimal(digit)
            if value is not None:
                whole += value * scale
    return whole


def moneys(text: str) -> Iterator[Money]:
    for match in _MONEY.finditer(text):
        if _PER.match(text[match.end() :]):
            continue
        groups = match.groupdict()
        if groups["cap"]:
            value = _capital(groups["cap"])
            if value is not None:
                yield Money(match.start(), match.end(), value, "CNY", True)
            continue
        number, unit = groups["n1"] or groups["n2"], groups["u1"] or groups["u2"]
        currency = groups["pre"] or groups["post2"]
        if groups["pre"] and groups["post1"] and _code(groups["post1"]) != "CNY":
            currency = groups["post1"]  # "人民币" is never written before "美元"; trust the unit
        amount = to_decimal(number)
        if amount is None or currency is None:
            continue
        if unit:
            amount *= _UNIT[unit.lower()]
        yield Money(match.start(), match.end(), amount, _code(currency), False)


def _code(raw: str) -> str:
    for key, code in _CODE.items():
        if raw.lower() == key.lower():
            return code
    return "CNY"


def tax_included(sentence: str) -> bool | None:
    if _TAX_EXCLUDED.search(sentence):
        return False
    if _TAX_INCLUDED.search(sentence):
        return True
    return None
