"""One rule per key term: given a sentence, the values it states, each with its span. A rule
only speaks when the sentence is about its term (a notice period is read from a sentence about
renewal or expiry, an amount from one about the total), so filler clauses stay silent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from contracts.terms.amounts import moneys, tax_included
from contracts.terms.numbers import COUNT, NUMBER, count_value, dates, percents, periods
from contracts.terms.parties import parties

Hit = tuple[str, Any, int, int, str]
I = re.IGNORECASE  # noqa: E741


def _has(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(pattern, text, I)


# --- Number and parties ------------------------------------------------------------------------

_NUMBER = re.compile(
    r"(?:合同编号|合同号|协议编号|订单编号|合同编码|采购编号|Contract\s+(?:No\.?|Number|#)|"
    r"Agreement\s+(?:No\.?|Number)|Order\s+(?:Form\s+)?(?:No\.?|Number)|Reference\s+No\.?)"
    r"\s*[:：]?\s*(?P<v>[A-Za-z0-9][A-Za-z0-9\-_/.]*[A-Za-z0-9])",
    I,
)


def number(text: str) -> Iterator[Hit]:
    for match in _NUMBER.finditer(text):
        if re.search(r"\d", match.group("v")):
            yield "number", match.group("v"), match.start("v"), match.end("v"), ""


def parties_of(text: str) -> Iterator[Hit]:
    for party in parties(text):
        yield party.role, party.name, party.start, party.end, ""


# --- Dates and term ----------------------------------------------------------------------------

_RANGE_JOIN = re.compile(
    r"^\s*(?:起|开始)?\s*(?:至|到|—|–|-|~|～|to|until|till|through|and\s+(?:ending|expiring|ends)"
    r"\s+on|,?\s*(?:and\s+)?(?:ending|expiring)\s+on)\s*(?:the\s+)?$",
    I,
)
_VALIDITY = (
    r"effective|有效期|期限|服务期|订阅期|合同期|起至|至.*止|起算|为期|\bterm\b|valid|commenc|"
    r"subscription period|period"
)
_START_LABEL = re.compile(
    r"(?:开始日期|起始日期|生效日期|服务开始日期|订阅开始日期|服务起始日|(?:Subscription |Service )?"
    r"(?:Start|Commencement) Date)\s*[:：]?\s*$",
    I,
)
_END_LABEL = re.compile(
    r"(?:结束日期|终止日期|到期日期?|届满日期|截止日期|服务结束日期|订阅结束日期|(?:Subscription |Service )?"
    r"(?:End|Expiration|Expiry|Termination) Date)\s*[:：]?\s*$",
    I,
)
_FROM_AROUND = re.compile(
    r"(?:自|从|于)\s*$|(?:commenc\w*|start\w*|begin\w*|effective)\s+(?:on|from|as of)\s+(?:the\s+)?$|"
    r"\bfrom\s+(?:the\s+)?$",
    I,
)
_TO_AROUND = re.compile(
    r"(?:至|到)\s*$|(?:ending|end|ends|expir\w*|terminat\w*)\s+on\s+(?:the\s+)?$|\b(?:until|through)\s+$",
    I,
)
_SIGNED_LABEL = re.compile(
    r"(?:(?:^|[\s:：)）日])(?:日期|Date)\s*[:：]|签订日期|签署日期|签约日期|签订时间|签署时间|Date of (?:Signature|Execution)|Signature Date|"
    r"Execution Date|Signed (?:on|at)|Date Signed)\s*[:：]?\s*$",
    I,
)
_SIGNED_AROUND = re.compile(
    r"(?:于|在)\s*$|entered into (?:as of |on )?(?:the )?$|made (?:and entered into )?(?:as of |on )"
    r"(?:the )?$|dated (?:as of )?$",
    I,
)


def _date_value(hit: Any) -> tuple[Any, str]:
    return (hit.value.isoformat(), "") if hit.value else (None, "invalid_date")


def dates_of(text: str) -> Iterator[Hit]:
    hits = list(dates(text))
    used: set[int] = set()
    for first, second in zip(hits, hits[1:], strict=False):
        between = text[first.end : second.start]
        if (
            _RANGE_JOIN.match(between)
            and _has(_VALIDITY, text)
            and not _has(r"付款|支付|payment|invoice", text)
        ):
            for name, hit in (("valid_from", first), ("valid_to", second)):
                value, problem = _date_value(hit)
                yield name, value, hit.start, hit.end, problem
            used |= {first.start, second.start}
    for hit in hits:
        if hit.start in used:
            continue
        before = text[max(0, hit.start - 40) : hit.start]
        after = text[hit.end : hit.end + 12]
        field: str | None = None
        if _START_LABEL.search(before):
            field = "valid_from"
        elif _END_LABEL.search(before):
            field = "valid_to"
        elif (
            _has(_VALIDITY, text)
            and _FROM_AROUND.search(before)
            and not _has(r"^\s*(?:签|生效)", after)
        ):
            field = "valid_from"
        elif _has(_VALIDITY, text) and (
            _TO_AROUND.search(before) or _has(r"^\s*(?:止|到期|届满)", after)
        ):
            field = "valid_to"
        elif _SIGNED_LABEL.search(before) or (
            _SIGNED_AROUND.search(before)
            and _has(r"^\s*(?:签订|签署|签约)|^", after)
            and _has(r"签订|签署|签约|entered into|made|dated", text)
        ):
            field = "signed_on"
        if field:
            value, problem = _date_value(hit)
            yield field, value, hit.start, hit.end, problem


_TERM_WORD = re.compile(
    r"(?:合同期限|服务期限|订阅期限|有效期限?|使用期限|许可期限|期限|为期|服务期|订阅期)\s*(?:为|是|共)?\s*[:：]?\s*"
    r"|(?:for\s+an?\s+(?:initial\s+)?(?:period|term)\s+of|(?:initial\s+)?(?:subscription\s+)?term\s+"
    r"(?:of|shall\s+be|is)|(?:Subscription\s+|Initial\s+)?Term\s*:?|period\s+of)\s*",
    I,
)


def term_months(text: str) -> Iterator[Hit]:
    if _has(
        r"续|renew|extend|延长|顺延|notice|通知|付款|支付|payment|warrant|保修|质保|保密|confidential|保存|retain|retention|surviv|"
        r"(?:following|after) (?:the )?(?:termination|expir)|终止后|期满后",
        text,
    ):
        return
    for word in _TERM_WORD.finditer(text):
        for period in periods(text[word.end() : word.end() + 24]):
            if period.months and period.start <= 2:
                start = word.end() + period.start
                yield "term_months", period.months, start, word.end() + period.end, ""
                break


# --- Seats and money ---------------------------------------------------------------------------

_SEAT_WORDS = (
    r"用户账号|账号|帐号|授权用户|用户许可|用户数|用户|许可证?|席位|坐席|license[sd]?|licence[sd]?|"
    r"seats?|named users?|users?|accounts?|subscriptions?"
)
_SEATS_AFTER = re.compile(
    rf"(?:{_SEAT_WORDS})\s*(?:数量|数|总数|名额|个数)?\s*(?:为|共|:|：|共计|合计|up to|of)?\s*"
    rf"(?P<n>{COUNT})\s*(?:个|名|人|套|份|户)?(?![\d.%年月日天])",
    I,
)
_SEATS_BEFORE = re.compile(
    rf"(?:up to\s+)?(?P<n>{COUNT})\s*(?:个|名|套|份|户)?\s*(?:\(\d+\)\s*)?(?:named\s+|concurrent\s+|"
    rf"authori[sz]ed\s+)?(?:{_SEAT_WORDS})(?![A-Za-z])",
    I,
)
_NOT_SEATS = (
    r"单价|每个?(?:账号|用户)|per (?:user|seat|licen)|/(?:账号|用户|user|seat)|上限为每|超出"
)


# An order form's table: the header "Quantity (users)" / "数量（账号）", then the product row whose
# first whole number before a price ("… Professional 60 USD 600.00", "…旗舰版 50 3,600.00") is it.
_QUANTITY_HEADER = re.compile(
    r"(?:Quantity\s*)?\(\s*(?:users?|seats?|licen[cs]es?|accounts?)\s*\)|(?:数量\s*)?\(\s*(?:账\s*号|用户|许可|席位)\s*\)"
    r"|数量(?=[^。]{0,30}\(\s*账(?!\s*号))",  # OCR: the cell "数量（账号）" broken over lines
    I,
)
_ROW_QUANTITY = re.compile(
    r"(?<![\d.,/])(?P<n>\d{1,6})(?:\s*\((?:套|个|users?)\))?(?:\s+(?:[A-Z]{3}\s*|[¥$€£]\s*)?"
    r"(?:\d{1,3}(?:,\d{3})*\.\d{2}\b|[—–])"
    # OCR reads the dash of an empty unit price as 一 (or 二), the spaces around it gone in Chinese.
    r"|\s*[一二](?![\d一二三四五六七八九十年月日个]))"
)


def quantity_header(text: str) -> bool:
    """The sentence has an order table's quantity header ("Quantity (users)", "数量（账号）")."""
    return _QUANTITY_HEADER.search(text) is not None


def _table_seats(text: str) -> Iterator[Hit]:
    header = _QUANTITY_HEADER.search(text)
    if header is None:
        return
    row = _ROW_QUANTITY.search(text, header.end())
    if row is not None and 0 < int(row.group("n")) < 1_000_000:
        yield "seats", int(row.group("n")), row.start("n"), row.end("n"), ""


def seats(text: str) -> Iterator[Hit]:
    table = list(_table_seats(text))
    if table:
        yield from table
        return
    if _has(
        r"违约|penalt|超出|exceed|additional (?:users|seats)|增加|新增|storage|存储空间|GB", text
    ) and not _has(
        r"Number of (?:Users|Seats|Licen[cs]es)|Quantity|数量|账号数|用户数|订阅规格|许可数量", text
    ):
        return
    in_dates = [(hit.start, hit.end) for hit in dates(text)]
    for pattern in (_SEATS_AFTER, _SEATS_BEFORE):
        for match in pattern.finditer(text):
            start, end = match.span("n")
            if any(a <= start < b for a, b in in_dates):
                continue  # "May 1, 2026": part of a date
            value = count_value(match.group("n"))
            tail = text[match.end() : match.end() + 6]
            head = text[max(0, start - 8) : start]
            if _has(_NOT_SEATS, head) or re.match(r"\s*(?:元|%|/|per|GB|TB)", tail, I):
                continue
            if value and 0 < value < 1_000_000:
                yield "seats", value, start, end, ""
                return


_TOTAL = (
    r"总金额|总价|总价款|合同金额|合同价款|合同总额|总计|合计|总费用|费用总额|费用合计|订阅费用?|年费|服务费用?|许可费用?|"
    r"价款|total|fees?\b|contract value|amount|subscription fee|price|shall pay|agrees to pay|支付"
)


_STRONG_TOTAL = (
    r"总金额|总价|总价款|合同总额|总计|共计|合计|总费用|费用总额|费用合计|合同金额|合同价款|"
    r"total|in total|aggregate|contract value"
)
_UNIT_PRICE = re.compile(
    r"单价|每(?:个)?(?:用户|账号|帐号|人|席位|坐席|许可)|per (?:user|seat|licen|named)|/\s*(?:user|seat|账号|用户)|"
    r"unit price|each (?:user|seat)",
    I,
)


def amount(text: str) -> Iterator[Hit]:
    keyword = _has(_TOTAL, text)
    if keyword is None or _has(r"违约金|滞纳金|赔偿|penalt|liabilit|late fee|interest", text):
        return
    found = [
        money for money in moneys(text)
        if money.start >= keyword.start()
        and not _UNIT_PRICE.search(text[max(0, money.start - 14) : money.start])
    ]  # fmt: skip
    strong = _has(_STRONG_TOTAL, text)
    if strong is not None:
        found = [money for money in found if money.start >= strong.start()] or found
    if not found:
        return
    tax = tax_included(text)
    first = found[0]
    values = {(first.amount, first.currency)}
    yield "amount", _money(first.amount, first.currency, tax), first.start, first.end, ""
    for other in found[1:]:
        if other.currency != first.currency and (other.amount, other.currency) not in values:
            values.add((other.amount, other.currency))  # amounts in two currencies: both shown
            yield "amount", _money(other.amount, other.currency, tax), other.start, other.end, ""


def tax_statement(text: str) -> bool | None:
    """What a sentence about prices says of tax (None: nothing, or not about prices)."""
    if len(text) > 300 or not _has(
        r"价|费|金额|合计|总计|共计|fee|price|amount|charge|total|^\W*\(", text
    ):
        return None
    if _has(r"发票|invoice", text) and not _has(r"价|金额|fee|price|amount", text):
        return None
    return tax_included(text)


def _money(value: Decimal, currency: str, tax: bool | None) -> dict[str, Any]:
    return {"amount": f"{value:.2f}", "currency": currency, "tax_included": tax}


_PAYMENT = (
    r"付款|支付|结算|账单|计费|缴纳|付费|收费|开具发票|bill|invoic|payable|payment|paid|pay\b"
)
_CYCLES = [
    ("one_off", r"一次性(?:支付|付清|付款|结清|缴纳)|一次付清|one[- ]time(?: payment| fee| charge|,)|single (?:payment|instal?lment|one-time charge)|lump[- ]sum|invoiced in full"),
    ("monthly", r"按月(?:支付|结算|付款|计费|缴纳)?|每月(?:支付|结算|付款)|月付|(?:billed|invoiced|payable|paid) monthly|monthly (?:in advance|in arrears|billing|invoic|instal)|invoice \w+ monthly"),
    ("quarterly", r"按季度?(?:支付|结算|付款|计费)?|每季度?(?:支付|结算|付款)|季付|(?:billed|invoiced|payable|paid) quarterly|quarterly (?:in advance|in arrears|billing|invoic|instal)|invoice \w+ quarterly"),
    ("annual", r"按(?:服务)?年度|按年(?:支付|结算|付款|计费|缴纳)?|每年(?:支付|结算|付款)|年付|一年一付|(?:billed|invoiced|payable|paid) (?:annually|yearly)|annual(?:ly)? (?:in advance|billing|invoic)|(?:annually|yearly) in advance|invoice \w+ (?:annually|yearly)"),
]  # fmt: skip


_FREQUENCY = re.compile(
    r"Billing (?:Frequency|Cycle)\s*:?\s*(?:(?P<monthly>Monthly)|(?P<quarterly>Quarterly)|"
    r"(?P<annual>Annual(?:ly)?|Yearly)|(?P<one_off>One[- ]time|Once))|"
    r"(?:计费|付款|结算)(?:周期|方式)\s*:?\s*(?:(?P<m2>按月|每月)|(?P<q2>按季度?|每季度?)|(?P<a2>按年|每年)|(?P<o2>一次性))",
    I,
)
_FREQ_NAMES = {"m2": "monthly", "q2": "quarterly", "a2": "annual", "o2": "one_off"}


def billing_cycle(text: str) -> Iterator[Hit]:
    if table := _FREQUENCY.search(text):
        name = next(key for key, value in table.groupdict().items() if value)
        yield "billing_cycle", _FREQ_NAMES.get(name, name), table.start(), table.end(), ""
        return
    if not _has(_PAYMENT, text):
        return
    for cycle, pattern in _CYCLES:
        if match := _has(pattern, text):
            yield "billing_cycle", cycle, match.start(), match.end(), ""
            return


_DUE = re.compile(
    rf"(?:发票|见票|invoice|签订|签署|signature|execution|signing|生效)[^。;]{{0,30}}?(?:后|之日起|起)?\s*"
    rf"(?P<p>{COUNT}\s*(?:个)?\s*(?:工作日|自然日|日|天|calendar days?|business days?|days?))\s*(?:内|以内)?"
    rf"|(?:within|in)\s+(?P<q>{COUNT}\s*(?:calendar |business )?days?)\s+(?:of|after|from|following)"
    rf"|\bnet\s*(?P<net>\d{{1,3}})\b|(?P<adv>预付|预先支付|提前支付全部|in advance|upfront|up-front|prepaid)",
    I,
)


def payment_terms(text: str) -> Iterator[Hit]:
    if not _has(_PAYMENT, text) or _has(
        r"违约金|滞纳金|penalt|late|suspend|暂停|逾期|overdue|past due|unpaid|refund|退还|退款",
        text,
    ):
        return
    advance = None
    for match in _DUE.finditer(text):
        if match.group("adv"):
            advance = advance or match
            continue
        raw = match.group("net") or match.group("p") or match.group("q")
        group = "net" if match.group("net") else ("p" if match.group("p") else "q")
        period = next(periods(raw), None) if group != "net" else None
        days = int(raw) if group == "net" else (period.days if period else None)
        if days:
            yield "payment_terms", days, match.start(group), match.end(group), ""
            return
    if advance is not None:
        yield "payment_terms", 0, advance.start(), advance.end(), ""


# --- Renewal -----------------------------------------------------------------------------------

_NO_AUTO = re.compile(
    r"不(?:会|得|再|予)?自动(?:续期|续约|续订|续费|延期|顺延|延续|续展)|无自动续|非自动续|"
    r"(?:shall|will|does|do) not (?:be )?(?:automatically |auto-?)renew|no automatic renewal|"
    r"not (?:be )?(?:automatically|auto-?)\s?renewed",
    I,
)
_AUTO = re.compile(
    r"自动(?:续期|续约|续订|续费|延期|顺延|延续|续展)|automatically (?:be )?renew|auto-?renew|renew automatically|"
    r"(?:shall|will) (?:automatically )?(?:be )?renew(?:ed)? for (?:successive|an additional|additional|a further)|"
    r"successive renewal (?:terms|periods)",
    I,
)


_AUTO_LABEL = re.compile(r"Auto(?:matic)?[- ]?Renewal\s*:?\s*(?:(?P<yes>Yes)|(?P<no>No|None))\b", I)


def auto_renew(text: str) -> Iterator[Hit]:
    if label := _AUTO_LABEL.search(text):
        yield "auto_renew", bool(label.group("yes")), label.start(), label.end(), ""
    elif match := _NO_AUTO.search(text):
        yield "auto_renew", False, match.start(), match.end(), ""
    elif match := _AUTO.search(text):
        yield "auto_renew", True, match.start(), match.end(), ""


_RENEWAL = r"续|到期|期满|届满|renew|expir|end of the|non-renewal"
_NOTICE = r"通知|告知|提出|notice|notif"
_AHEAD = re.compile(
    r"提前|至少|不少于|不迟于|不得晚于|at least|no less than|not less than|no later than|minimum of",
    I,
)
_CURE = r"纠正|改正|补救|整改|cure|remedy|breach|违约"


def notice(text: str) -> Iterator[Hit]:
    if not (_has(_RENEWAL, text) and _has(_NOTICE, text)) or _has(_CURE, text):
        return
    for period in periods(text):
        before = text[max(0, period.start - 16) : period.start]
        after = text[period.end : period.end + 40]
        ahead = (
            _AHEAD.search(before)
            or before.endswith(("前", "之前", "以前"))
            or _has(r"^\W*(?:prior|before|in advance|'s? notice|’s? notice|notice)", after)
            or _has(r"^\s*(?:以|前|之前)?\s*(?:以?书面(?:形式)?)?(?:通知|告知|提出)", after)
        )
        if ahead and period.unit in ("day", "month"):
            yield "notice_days", period.days, period.start, period.end, ""


_RISE = r"涨|上调|增长|提高|调整|上浮|increase|uplift|raise|adjust|escalat"
# The price-cap rule's second word: the sentence is about prices.
_CAP = re.compile(
    r"不超过|不高于|不得超过|不得高于|最高|上限|封顶|以内|cap|not exceed|no more than|not more than|at most|"
    r"maximum|capped at|limited to|more than|up to|不得超过|不超出",
    I,
)


def price_cap(text: str) -> Iterator[Hit]:
    if not (_has(_RISE, text) and _has(r"续|renew|价格|单价|费用|服务费|pric|fee|rate", text)):
        return
    for percent in percents(text):
        before = text[max(0, percent.start - 40) : percent.start]
        if not _CAP.search(before) or _has(r"增值税|税率|VAT|tax|折扣|discount|违约", before):
            continue
        value = percent.value - 100 if percent.value > 100 else percent.value
        if 0 <= value <= 100:
            yield "price_cap", f"{value:.2f}", percent.start, percent.end, ""
            return


_LIST = re.compile(
    r"(?:届时|当时|当期|届期|彼时)(?:公布|有效|适用|执行|发布)?的?(?:标准|目录|刊例|官方|公开|市场)?(?:价格|价目|报价)|"
    r"标准价格续|目录价|刊例价|(?:then[- ]current|then[- ]prevailing|prevailing) (?:list )?(?:price|rate|pricing)s?|"
    r"list price|standard (?:rates|pricing|prices) (?:then )?in effect|公开报价|官网价格|公布价格|续约时[^,，。;]{0,8}报价",
    I,
)


def list_price(text: str) -> Iterator[Hit]:
    if _has(r"续|renew", text) and (match := _LIST.search(text)):
        yield "list_price", True, match.start(), match.end(), ""


__all__ = ["NUMBER"]
