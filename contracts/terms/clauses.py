"""The rules of the exit and data clauses: who may end the contract early (signals weighed over
the whole document in extract.py), data return, personal information, data location."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

Hit = tuple[str, Any, int, int, str]
I = re.IGNORECASE  # noqa: E741


def _has(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(pattern, text, I)


# --- Exit, data ----------------------------------------------------------------------------------

_END = r"解除|终止|terminat"
_CUSTOMERS = r"甲方|需方|客户|采购方|买方|用户方|委托方|被许可方|customer|client|licensee|subscriber|purchaser|buyer"
_VENDORS = r"乙方|供方|供应商|服务商|卖方|许可方|provider|vendor|supplier|licensor|seller"
_MAY = (
    r"(?<!无)有权|(?<![不无])可(?:以)?(?!能)|may(?! not)|is entitled to|shall have the right to|"
    r"has the right to|reserves the right to"
)
_MAY_NOT = r"无权|不得|不能|不可|may not|shall not|cannot|has no right to|is not entitled to"
# What a sentence says of the right to end the contract early (for convenience, not for cause):
# signals that extract.py weighs over the whole document.
_SIGNALS = [
    ("none", r"任何一方均?不得|双方均不得|neither party (?:may|shall)|may not be terminated by either"),
    ("both", rf"(?:任何一方|双方均?|(?<!任何)一方|\beither party|\beach party|\bboth parties)[^,，。;]{{0,12}}(?:{_MAY})"),
    ("customer_not", rf"(?<!被)(?:{_CUSTOMERS})[^,，。;]{{0,16}}?(?:{_MAY_NOT})"),
    ("vendor_not", rf"(?:{_VENDORS})[^,，。;]{{0,16}}?(?:{_MAY_NOT})"),
    ("vendor_only", r"仅(?:乙方|供方|供应商|服务商|许可方)|只有乙方|only (?:the )?(?:provider|vendor|supplier|licensor)"),
    ("customer_may", rf"(?<!被)(?:{_CUSTOMERS})[^,，。;]{{0,16}}?(?:{_MAY})"),
    ("vendor_may", rf"(?:{_VENDORS})[^,，。;]{{0,16}}?(?:{_MAY})"),
]  # fmt: skip
_FOR_CAUSE = (
    r"违约|breach|insolven|bankrupt|破产|不可抗力|force majeure|material|未支付|未付|逾期|催告|unpaid|"
    r"non-payment|fails? to pay|cure|保密|confidential|surviv|终止后|期满后|终止或期满|终止时|"
    r"(?:upon|after|following) (?:any )?(?:termination|expir)|migrat|return|delete"
)


def termination(text: str) -> Iterator[Hit]:
    """Signals of who may end the contract early (weighed in extract.py as "termination")."""
    # "无需承担违约责任" (without liability) says the right is free, not that it is for a breach.
    plain = re.sub(
        r"(?:无需|不)承担(?:任何)?违约责任|without (?:any )?(?:liability|penalty)", "", text
    )
    if not _has(_END, text) or _has(r"续|renew|non-renewal", text) or _has(_FOR_CAUSE, plain):
        return
    passive = _has(
        rf"(?<!not )(?:be )?terminated by (?:the )?(?:(?P<both>either|each) party|(?P<c>{_CUSTOMERS})|(?P<v>{_VENDORS}))",
        text,
    )
    if passive is not None:
        signal = (
            "both"
            if passive.group("both")
            else ("customer_may" if passive.group("c") else "vendor_may")
        )
        yield "_termination", signal, passive.start(), passive.end(), ""
        return
    for signal, pattern in _SIGNALS:  # every signal of the sentence, once each
        if match := re.search(rf"(?:{pattern})[^,，。;]{{0,40}}?(?:{_END})", text, I):
            # 甲方 / 乙方: which is the customer, the document says (extract.py).
            actor = re.match(r"(?:甲方|乙方)", match.group(0))
            if actor is not None and signal.startswith(("customer", "vendor")):
                side = "party_a" if actor.group(0) == "甲方" else "party_b"
                signal = f"{side}_{signal.split('_', 1)[1]}"
            yield "_termination", signal, match.start(), match.end(), ""


_DATA_RETURN = re.compile(
    r"(?:返还|退还|交还|导出|迁移|移交|提取|取回)[^,，。;；]{0,12}?(?:数据|资料)|"
    r"(?:export|retriev|return|download)\w*[^.;]{0,40}\bdata\b|\bdata\b[^.;]{0,30}(?:export|retriev|return)|"
    r"数据(?:返还|导出|迁移|移交|取回)|return (?:all )?(?:of )?(?:the )?(?:customer|client|licensee|its|your)?\s?data|"
    r"export (?:all )?(?:of )?(?:its|their|the|customer|client)?\s?data|data (?:export|return|portability|retrieval)|"
    r"retrieve (?:its|their|all) data|transition assistance|migrat\w*[^.;]{0,40}\bdata\b|"
    r"\bdata\b[^.;]{0,30}migrat|(?:customer|client|licensee|its|their) data"
    r"[^.;]{0,40}(?:available for|to) (?:export|download|retriev)",
    I,
)


def data_return(text: str) -> Iterator[Hit]:
    if match := _DATA_RETURN.search(text):
        yield "data_return", True, match.start(), match.end(), ""


_PERSONAL = re.compile(r"个人信息|个人数据|个人隐私|personal (?:data|information)|PIPL|GDPR", I)


def personal_info(text: str) -> Iterator[Hit]:
    if match := _PERSONAL.search(text):
        yield "personal_info", True, match.start(), match.end(), ""


_PLACES = [
    ("CN", r"中华人民共和国境内|中国境内|中国大陆|境内|mainland China|within (?:the )?(?:People's Republic of China|PRC|China)|in (?:the )?PRC"),
    ("EU", r"欧盟|European Union|\bEU\b|\bEEA\b"),
    ("US", r"美国|United States|\bUSA\b"),
    ("SG", r"新加坡|Singapore"),
    ("HK", r"香港|Hong Kong"),
]  # fmt: skip


def data_location(text: str) -> Iterator[Hit]:
    if not _has(
        r"存储|存放|保存|托管|服务器|数据中心|机房|stored|hosted|host|located|reside|data cent|processed",
        text,
    ):
        return
    if not _has(r"数据|data|信息|information", text):
        return
    for code, pattern in _PLACES:
        if match := _has(pattern, text):
            yield "data_location", code, match.start(), match.end(), ""
            return
