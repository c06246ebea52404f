"""Numbers, amounts, periods and dates as contracts write them, Chinese and English: 壹拾伍万元整,
三十日, 百分之五, "sixty (60) days", "March 1, 2026". Chinese numerals go through cn2an and
dates written out in English through dateparser; this module finds the spans and says what they
are."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import cn2an
import dateparser

CN_DIGITS = "零〇一二两三四五六七八九十百千万亿壹贰贰叁肆伍陆柒捌玖拾佰仟"
ARABIC = r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"  # "00,000.00" is a misread
NUMBER = rf"(?:{ARABIC}|[{CN_DIGITS}]+)"
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_BASE = "|".join(sorted(_WORDS, key=len, reverse=True))
WORD = rf"(?:{_BASE})(?:[- ](?:hundred|thousand|and|{_BASE}))*"
# "sixty (60)", "60", "三十", "sixty": the number of an English or Chinese count.
COUNT = rf"(?:{WORD}\s*\(\s*\d+\s*\)|{NUMBER}|{WORD})"


def to_decimal(text: str) -> Decimal | None:
    """An Arabic or Chinese number (小写 or 大写), or None."""
    text = text.strip().replace(",", "")
    if not text:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return Decimal(text)
    if text.lower().split("-")[0].split(" ")[0] in _WORDS:
        return Decimal(_words(text.lower()))
    try:
        return Decimal(str(cn2an.cn2an(text.replace("〇", "零"), "smart")))
    except (ValueError, KeyError, IndexError, InvalidOperation):
        return None


def _words(text: str) -> int:
    total = current = 0
    for part in re.split(r"[- ]+", text):
        if part == "hundred":
            current *= 100
        elif part == "thousand":
            total, current = total + current * 1000, 0
        else:
            current += _WORDS.get(part, 0)
    return total + current


def count_value(text: str) -> int | None:
    """The integer of a COUNT: the digits in "sixty (60)" win over the words."""
    paren = re.search(r"\(\s*(\d+)\s*\)", text)
    value = to_decimal(paren.group(1) if paren else text)
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


# --- Periods -----------------------------------------------------------------------------------

_PERIOD = re.compile(
    rf"(?P<n>{COUNT}|一|两)\s*(?:个)?\s*(?P<unit>个?自然日|个?工作日|日|天|个月|月|年|周|"
    rf"(?:calendar |business |working )?days?|months?|years?|weeks?)(?![A-Za-z])",
    re.IGNORECASE,
)
UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


@dataclass(frozen=True)
class Period:
    start: int
    end: int
    count: int
    unit: str  # day, week, month or year

    @property
    def days(self) -> int:
        return self.count * UNIT_DAYS[self.unit]

    @property
    def months(self) -> int | None:
        return {"month": self.count, "year": 12 * self.count}.get(self.unit)


def _unit(raw: str) -> str:
    raw = raw.lower()
    if "日" in raw or "天" in raw or "day" in raw:
        return "day"
    if "周" in raw or "week" in raw:
        return "week"
    if "月" in raw or "month" in raw:
        return "month"
    return "year"


def periods(text: str) -> Iterator[Period]:
    for match in _PERIOD.finditer(text):
        if re.match(r"\s*\d{1,2}\s*月", text[match.end() :]):
            continue  # "2024年5月": a date, not a period of 2024 years
        count = count_value(match.group("n"))
        if count is None and match.group("n") in ("一", "两"):
            count = 1 if match.group("n") == "一" else 2
        unit = _unit(match.group("unit"))
        if count and count <= {"day": 3650, "week": 520, "month": 240, "year": 20}[unit]:
            yield Period(match.start(), match.end(), count, unit)


# --- Percentages -------------------------------------------------------------------------------

_PERCENT = re.compile(
    rf"(?P<a>\d+(?:\.\d+)?)\s*%|百分之\s*(?P<cn>[零一二三四五六七八九十点]+|\d+(?:\.\d+)?)"
    rf"|(?:{WORD})\s+percent\s*\(\s*(?P<p>\d+(?:\.\d+)?)\s*%\s*\)|(?P<w>{WORD}|\d+(?:\.\d+)?)\s+per\s?cent",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Percent:
    start: int
    end: int
    value: Decimal


def percents(text: str) -> Iterator[Percent]:
    for match in _PERCENT.finditer(text):
        raw = match.group("a") or match.group("p")
        if raw:
            value: Decimal | None = Decimal(raw)
        elif match.group("cn"):
            whole, _dot, frac = match.group("cn").partition("点")
            value = to_decimal(whole)
            if value is not None and frac:
                digits = "".join(str(to_decimal(ch)) for ch in frac)
                value = Decimal(f"{value}.{digits}")
        else:
            value = to_decimal(match.group("w"))
        if value is not None:
            yield Percent(match.start(), match.end(), value)


# --- Dates -------------------------------------------------------------------------------------

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
_DATES = re.compile(
    rf"(?P<cy>\d{{4}})\s*年\s*(?P<cm>\d{{1,2}})\s*月\s*(?P<cd>\d{{1,2}})\s*[日号]"
    rf"|(?P<ny>[〇零一二三四五六七八九]{{4}})\s*年\s*(?P<nm>[一二三四五六七八九十]{{1,3}})\s*月"
    rf"\s*(?P<nd>[一二三四五六七八九十]{{1,3}})\s*[日号]"
    rf"|(?<!\d)(?P<iy>\d{{4}})[-/.](?P<im>\d{{1,2}})[-/.](?P<id>\d{{1,2}})(?!\d)"
    rf"|\b(?P<en>(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:day\s+of\s+)?(?:{_MONTHS})\.?,?\s+\d{{4}})"
    rf"|(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}))\b",
)
_CN_YEAR = str.maketrans("〇零一二三四五六七八九", "00123456789")


@dataclass(frozen=True)
class DateHit:
    start: int
    end: int
    text: str
    value: dt.date | None  # None: written like a date, but no such day (2026年2月30日)


def _ymd(year: str | int, month: str | int, day: str | int) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def dates(text: str) -> Iterator[DateHit]:
    for match in _DATES.finditer(text):
        groups = match.groupdict()
        value: dt.date | None
        if groups["cy"]:
            value = _ymd(groups["cy"], groups["cm"], groups["cd"])
        elif groups["ny"]:
            month, day = to_decimal(groups["nm"]), to_decimal(groups["nd"])
            value = _ymd(groups["ny"].translate(_CN_YEAR), int(month or 0), int(day or 0))
        elif groups["iy"]:
            value = _ymd(groups["iy"], groups["im"], groups["id"])
        else:
            parsed = dateparser.parse(
                groups["en"], languages=["en"], settings={"STRICT_PARSING": True}
            )
            value = parsed.date() if parsed else None
        if value is not None and not 1990 <= value.year <= 2100:
            continue
        yield DateHit(match.start(), match.end(), match.group(0), value)
