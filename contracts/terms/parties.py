"""Who the parties are: the vendor and the customer, from "甲方（采购方）：…", "乙方：…",
"供应商：…", "Customer: …" or 'between Acme Ltd (the "Customer") and …'."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

CN_NAME = (
    r"[\u4e00-\u9fff](?:[^\s,，;；:：()（）\"“”]|[(（][\u4e00-\u9fff]{2,4}[)）]){1,39}?(?:有限责任公司|股份有限公司|有限公司|分公司|公司|集团|"
    r"研究院|中心|事务所)(?:(?:股份)?有限(?:责任)?公司|分公司)?"
)
_NOT_NAME = (
    r"(?!(?:This|The|That|Agreement|Between|And|By|Whereas|Party|Parties|Customer|Provider|Vendor|"
    r"Supplier|Licensor|Licensee|Client|Order|Contract|Master|Subscription|Services?|Terms)\b)"
)
EN_NAME = (
    _NOT_NAME + r"[A-Z][A-Za-z0-9&'.\-]*(?: (?:[A-Za-z0-9&'.\-]+|\([A-Z][A-Za-z ]{1,30}\)))"
    r"{0,7}?,? (?:Co\.,? ?Ltd\.?|Pty\.? Ltd\.?|"
    r"Pte\.? Ltd\.?|Ltd\.?|Limited|Inc\.?|LLC|L\.L\.C\.|GmbH|Corporation|Corp\.?|S\.A\.|B\.V\.|AG|plc)"
)
NAME = rf"(?:{EN_NAME}|{CN_NAME})"

_VENDOR_CN = "乙方|供应商|供方|卖方|服务商|服务方|服务提供方|服务提供商|许可方|出售方|销售方"
_CUSTOMER_CN = "甲方|采购方|买方|需方|用户方|客户|委托方|被许可方|购买方|订购方"
_VENDOR_EN = "Service Provider|Provider|Vendor|Supplier|Licensor|Seller|Party B|Contractor|Reseller"
_CUSTOMER_EN = "Customer|Client|Licensee|Buyer|Subscriber|Purchaser|Party A"
_LABELS = rf"{_CUSTOMER_CN}|{_VENDOR_CN}|{_VENDOR_EN}|{_CUSTOMER_EN}"

_LABELLED = re.compile(
    rf"(?P<label>{_LABELS})(?:\s*[(（](?P<role>[^)）]{{1,16}})[)）])?\s*(?:名称|Name)?\s*[:：]\s*"
    rf"(?P<name>{NAME})"
)
# A table's row: "需方 天津…有限公司" (OCR and the text layer may lose the space between Chinese
# words), "Licensee Shanghai … Co., Ltd.".
_AT_START = re.compile(
    rf"(?:^|(?<=\s))(?:\(\d\)\s*)?(?P<label>{_LABELS})(?:\s*[(（](?P<role>[^)）]{{1,16}})[)）])?"
    rf"\s*(?:名称|Name)?(?:\s+(?P<name>{NAME})|(?P<cn>{CN_NAME}))"
)
# "客户信息（甲方） 供应商信息（乙方）" over "名称 山东…有限公司 名称 上海…有限公司".
_NAME_PAIR = re.compile(rf"名称\s*(?P<a>{CN_NAME})\s*名称\s*(?P<b>{CN_NAME})")
_DEFINED = re.compile(
    rf"(?P<name>{NAME})\s*(?:,[^()（）]{{0,260}}?)?[(（]\s*(?:hereinafter (?:referred to as )?)?"
    rf"(?:以下简称|下称)?\s*(?:the\s+)?[\"“]?(?P<label>{_LABELS})[\"”]?\s*[)）]"
)
_VENDOR_ROLE = re.compile(
    r"供|卖|服务|(?<!被)许可|提供|销售|Provider|Vendor|Supplier|Licensor", re.I
)
_CUSTOMER_ROLE = re.compile(
    r"采购|买|需方|用户|客户|委托|被许可|订购|Customer|Client|Licensee", re.I
)


@dataclass(frozen=True)
class Party:
    # "vendor" or "customer"; "party_a" / "party_b" for 甲方 / 乙方 (Party A / B) without a role
    # written beside them: which is the vendor, the document says elsewhere (extract.py).
    role: str
    name: str
    start: int
    end: int


_ROLE_IN_NAME = re.compile(r"盖章|签章|签字|甲方|乙方|需方|供方")
_NO_NAME = re.compile(r"(?:[\u4e00-\u9fff]?(?:有限|责任|股份|公司|集团)){1,4}")


def _role(label: str, role: str) -> str:
    if role and _CUSTOMER_ROLE.search(role):
        return "customer"
    if role and _VENDOR_ROLE.search(role):
        return "vendor"
    if label in ("甲方", "Party A"):
        return "party_a"
    if label in ("乙方", "Party B"):
        return "party_b"
    if re.fullmatch(_VENDOR_CN, label) or re.fullmatch(_VENDOR_EN, label):
        return "vendor"
    return "customer"


def parties(sentence: str) -> Iterator[Party]:
    if pair := _NAME_PAIR.search(sentence):  # an order form's two columns: 甲方 first
        for role, key in (("party_a", "a"), ("party_b", "b")):
            name = pair.group(key).replace("(", "（").replace(")", "）")
            yield Party(role, name, pair.start(key), pair.end(key))
        return
    for pattern in (_LABELLED, _AT_START, _DEFINED):
        for match in pattern.finditer(sentence):
            groups = match.groupdict()
            key = "cn" if groups.get("cn") else "name"
            raw = match.group(key)
            name = raw.strip(" ,.;")
            if re.search(r"Ltd|Inc|Co|Corp|L\.L\.C|S\.A|B\.V", raw[-6:]):
                name = raw.strip(" ,;")  # keep "Ltd." / "Inc." whole
            name = re.sub(r"^(?:.*\bbetween\s+|(?:the|and|by)\s+)", "", name, flags=re.I)
            end = match.start(key) + len(raw.rstrip(" ,;"))
            start = end - len(name)
            if re.match(r"[\u4e00-\u9fff]", name):  # Chinese names keep full-width brackets
                name = name.replace("(", "（").replace(")", "）")
            if _NO_NAME.fullmatch(name) or _ROLE_IN_NAME.search(name):
                continue  # "公司公司", "乙方（盖章）公司": a seal's letters, read by OCR
            yield Party(_role(groups["label"], groups.get("role") or ""), name, start, end)
