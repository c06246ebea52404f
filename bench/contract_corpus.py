#!/usr/bin/env python
"""A corpus of software-subscription contracts with known key terms (issue #22).

    .venv/bin/python bench/contract_corpus.py OUT_DIR [--count 40] [--seed 22] [--scans N]

Writes Chinese and English contracts (alternating, so half of each) as text PDFs rendered by
WeasyPrint, and for ``--scans`` of them (spread over the corpus; default all) a scanned-looking
version rendered from the text PDF: pages rasterised by pypdfium2 at 200-300 dpi, grey, turned by
up to 0.7 degrees, a little noise and blur, JPEG at quality ~75, a seal stamped over a Chinese
company's name in the signature block, then an image-only PDF (img2pdf) or a single page as a PNG
or JPEG file. ``truth.json`` beside the files lists every contract with its files and its terms.

Layouts: ``zh_articles`` (第一条 … numbered articles, parties block, signature table),
``zh_table`` (a key-terms table of 项目 / 约定内容, then numbered general clauses), ``zh_order``
(an order form: customer/vendor table, an order lines table with 数量/单价/小计, 订购条款),
``en_msa`` ("1. Definitions … Term and Termination", sometimes with the fees in a Schedule at the
end), ``en_order`` (an Order Form with a key-terms table, then Terms and Conditions). Each
contract is 2-4 pages: confidentiality, IP, liability, SLA, force majeure, dispute resolution …
clauses are added until it is, so the terms are spread over the pages.

The truth (what a careful reader would fill in; a field is absent when the contract does not
state it):
  number, vendor, customer   text as written (the vendor/customer's full name)
  signed_on, valid_from, valid_to   "YYYY-MM-DD"; valid_to only when the end date is written
  term_months                int, only when a term is stated ("为期十二个月", "three (3) years")
  seats                      int: accounts / users / licences bought
  amount                     {"amount": "150000.00", "currency": "CNY", "tax_included": bool|None}:
                             the contract total, or the annual fee when that is the only price
  billing_cycle              monthly | quarterly | annual | one_off
  payment_terms              days after the invoice; 0 when paid in advance
  auto_renew                 true, or false when the contract says it does not renew
  notice_days                days of notice to stop an automatic renewal
  price_cap                  "5.00": the cap on the renewal price increase, percent
  list_price                 true: renews at the vendor's then-current list price
  termination                who may end the contract early without cause (for convenience):
                             both | customer | vendor_only | none (termination for breach, force
                             majeure or non-payment does not count)
  data_return                true: a clause returning / exporting the customer's data at the end
  personal_info              true: a personal-information / personal-data protection clause
  data_location              CN | EU | US | SG | HK: where the customer's data is stored
Traps a fair reader must not fall for are on purpose: unit prices beside the total, 含6%增值税,
SLA and late-payment percentages, cure periods and termination notices beside the renewal notice,
renewal periods beside the term, governing law and arbitration seats abroad, a deletion clause
instead of a data-return clause, 甲方 as the vendor, and the seal over the signature block.

Each field mention is an element with an id, so the page of each mention is known (WeasyPrint's
anchors); a single scanned page's truth is the fields mentioned on that page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import os
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

T = TypeVar("T")

FIELDS = (
    "number",
    "vendor",
    "customer",
    "signed_on",
    "valid_from",
    "valid_to",
    "term_months",
    "seats",
    "amount",
    "billing_cycle",
    "payment_terms",
    "auto_renew",
    "notice_days",
    "price_cap",
    "list_price",
    "termination",
    "data_return",
    "personal_info",
    "data_location",
)
LAYOUTS = {"zh": ("zh_articles", "zh_table", "zh_order"), "en": ("en_msa", "en_order", "en_msa")}
CONTENT_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}


# --- the corpus's records ------------------------------------------------------------------------


@dataclass
class Document:
    """One file of the corpus: the text PDF, or a scan of all or one of its pages."""

    path: str  # relative to the corpus folder
    content_type: str
    kind: str  # "text" or "scan"
    pages: list[int]  # the contract's pages the file holds (from 1)
    dpi: int | None = None


@dataclass
class Case:
    """One contract: its files, its terms (truth) and where each term is written."""

    key: str
    language: str
    layout: str
    title: str
    page_count: int
    truth: dict[str, Any]
    written: dict[str, list[str]]  # field -> the mentions' text as written
    field_pages: dict[str, list[int]]  # field -> the pages mentioning it
    traps: list[str]
    documents: list[Document] = field(default_factory=list)
    stamps: list[list[float]] = field(default_factory=list)  # [page, x, y] in CSS px

    def truth_for(self, document: Document) -> dict[str, Any]:
        """The terms a reader can find in ``document``: all of them, or for a single scanned
        page those mentioned on that page."""
        if len(document.pages) >= self.page_count:
            return dict(self.truth)
        held = set(document.pages)
        return {
            name: value
            for name, value in self.truth.items()
            if held & set(self.field_pages.get(name, []))
        }

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        documents = [Document(**d) for d in data.pop("documents", [])]
        return cls(**data, documents=documents)


def load(corpus_dir: str | Path) -> list[Case]:
    """The cases of a corpus written earlier (its truth.json)."""
    data = json.loads((Path(corpus_dir) / "truth.json").read_text(encoding="utf-8"))
    return [Case.from_json(case) for case in data["cases"]]


# --- numbers, money and dates as contracts write them --------------------------------------------

ZH_DIGITS = "零一二三四五六七八九"
ZH_UPPER = "零壹贰叁肆伍陆柒捌玖"


def _four(n: int, digits: str, units: Sequence[str]) -> str:
    """0 < n < 10000 in Chinese digits with the units 千百十 (or 仟佰拾), inner zeros as 零."""
    out, zero, started = [], False, False
    for value, unit in zip((1000, 100, 10, 1), units, strict=True):
        d = n // value % 10
        if d:
            if zero:
                out.append(digits[0])
            out.append(digits[d] + unit)
            zero, started = False, True
        elif started:
            zero = True
    return "".join(out)


def zh_number(n: int) -> str:
    """1..9999 as written in running text: 十五, 三十, 一百二十."""
    text = _four(n, ZH_DIGITS, ("千", "百", "十", ""))
    return text[1:] if text.startswith("一十") else text


def zh_money_upper(amount: Decimal) -> str:
    """人民币 in capitals: 150000 -> 壹拾伍万元整, 1200500 -> 壹佰贰拾万零伍佰元整."""
    yuan = int(amount)
    cents = int((amount - yuan) * 100)
    out = ""
    gap = False
    for value, unit in ((yuan // 10**8, "亿"), (yuan // 10**4 % 10**4, "万"), (yuan % 10**4, "")):
        if not value:
            gap = bool(out)
            continue
        if out and (gap or value < 1000):
            out += "零"
        out += _four(value, ZH_UPPER, ("仟", "佰", "拾", "")) + unit
        gap = False
    out = (out or "零") + "元"
    jiao, fen = divmod(cents, 10)
    if not cents:
        return out + "整"
    if jiao:
        out += ZH_UPPER[jiao] + "角"
    if fen:
        out += ("零" if not jiao else "") + ZH_UPPER[fen] + "分"
    return out


EN_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def en_words(n: int) -> str:
    """0..999 in words: forty-five, one hundred twenty."""
    if n < 20:
        return EN_ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return EN_TENS[tens] + (f"-{EN_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{EN_ONES[hundreds]} hundred" + (f" {en_words(rest)}" if rest else "")


def grouped(amount: Decimal, places: int = 2) -> str:
    return f"{amount:,.{places}f}"


def zh_date(day: dt.date, style: int) -> str:
    if style == 1:
        return f"{day.year}年{day.month:02d}月{day.day:02d}日"
    if style == 2:
        return day.isoformat()
    if style == 3:
        year = "".join("〇一二三四五六七八九"[int(c)] for c in str(day.year))
        return f"{year}年{zh_number(day.month)}月{zh_number(day.day)}日"
    return f"{day.year}年{day.month}月{day.day}日"


EN_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def en_date(day: dt.date, style: int) -> str:
    month = EN_MONTHS[day.month - 1]
    if style == 1:
        return f"{day.day} {month} {day.year}"
    if style == 2:
        return day.isoformat()
    if style == 3:
        return (
            f"{month[:3]}. {day.day}, {day.year}"
            if len(month) > 3
            else f"{month} {day.day}, {day.year}"
        )
    return f"{month} {day.day}, {day.year}"


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, 28))


# --- the parties and products -----------------------------------------------------------------------

ZH_VENDORS = [
    ("北京云帆软件有限公司", "云帆", "云帆协同办公平台", "北京市海淀区西北旺东路10号院5号楼"),
    ("杭州数澜信息技术有限公司", "数澜", "数澜数据分析平台", "浙江省杭州市余杭区文一西路998号18幢"),
    (
        "深圳前海智维科技有限公司",
        "智维",
        "智维IT服务管理系统",
        "深圳市前海深港合作区前湾一路1号A栋201室",
    ),
    ("上海简道网络科技有限公司", "简道", "简道低代码开发平台", "上海市徐汇区宜山路700号B2栋12楼"),
    (
        "云启（上海）信息技术有限公司",
        "云启",
        "云启客户关系管理系统",
        "上海市浦东新区碧波路690号3号楼",
    ),
    ("南京擎天软件股份有限公司", "擎天", "擎天项目协作平台", "江苏省南京市雨花台区软件大道101号"),
    (
        "成都星图数据科技有限公司",
        "星图",
        "星图商业智能平台",
        "四川省成都市高新区天府大道中段1268号",
    ),
    ("广州易联云计算有限公司", "易联", "易联电子签章云服务", "广州市天河区华夏路30号富力盈通大厦"),
    (
        "武汉明码科技有限公司",
        "明码",
        "明码代码托管与持续集成平台",
        "湖北省武汉市东湖新技术开发区光谷大道77号",
    ),
    ("北京蓝鲸智联科技有限公司", "蓝鲸", "蓝鲸终端安全管理平台", "北京市朝阳区望京东路4号B座9层"),
    ("新睿（中国）软件有限公司", "新睿", "新睿人力资源管理云", "北京市东城区东直门南大街3号15层"),
    ("苏州开阳网络科技有限公司", "开阳", "开阳视频会议系统", "江苏省苏州市工业园区星湖街328号"),
]
ZH_CUSTOMERS = [
    ("上海明德医疗器械有限公司", "上海市浦东新区张衡路1588号"),
    ("江苏恒泰精密制造股份有限公司", "江苏省常州市武进区常武中路18号"),
    ("浙江禾丰食品集团有限公司", "浙江省嘉兴市南湖区亚中路566号"),
    ("北京华信智能装备有限公司", "北京市经济技术开发区科创十三街29号"),
    ("广东南粤通物流有限公司", "广东省东莞市长安镇振安中路368号"),
    ("天津滨海新材料科技有限公司", "天津市滨海新区黄海路276号"),
    ("重庆长嘉汽车零部件有限公司", "重庆市渝北区空港大道99号"),
    ("福建闽源茶业股份有限公司", "福建省福州市仓山区盘屿路868号"),
    ("山东鲁信化工有限公司", "山东省淄博市临淄区齐鲁化学工业园清田路5号"),
    ("湖南湘江教育科技有限公司", "湖南省长沙市岳麓区麓谷大道627号"),
]
EN_VENDORS = [
    ("Northwind Software, Inc.", "Northwind Analytics Cloud", "500 Howard Street, Suite 300, San Francisco, CA 94105, USA", "a Delaware corporation", "US"),
    ("Bluepeak Analytics Ltd", "Bluepeak Insights", "20 Farringdon Road, London EC1M 3HE, United Kingdom", "a company registered in England and Wales", "UK"),
    ("Cloudrise Technologies Pte. Ltd.", "Cloudrise Service Desk", "1 Fusionopolis Way, #10-01, Singapore 138632", "a company incorporated in Singapore", "SG"),
    ("Helio Systems GmbH", "Helio Project Suite", "Friedrichstrasse 68, 10117 Berlin, Germany", "a limited liability company organised under the laws of Germany", "DE"),
    ("Larkspur Labs LLC", "Larkspur Design Studio", "1200 Pike Street, Seattle, WA 98101, USA", "a Washington limited liability company", "US"),
    ("Quillon Data Pty Ltd", "Quillon Backup", "Level 12, 100 Miller Street, North Sydney NSW 2060, Australia", "a company registered in Australia", "AU"),
    ("Meridian Cloud Services Limited", "Meridian HR Cloud", "Unit 1802, 18/F, Tower 2, Times Square, Causeway Bay, Hong Kong", "a company incorporated in Hong Kong", "HK"),
    ("Tessellate Software B.V.", "Tessellate CAD Cloud", "Herengracht 420, 1017 BZ Amsterdam, the Netherlands", "a private limited company under Dutch law", "NL"),
    ("Orbitly, Inc.", "Orbitly Video Meetings", "350 Fifth Avenue, New York, NY 10118, USA", "a Delaware corporation", "US"),
    ("Kestrel Security Solutions Ltd.", "Kestrel Endpoint Protection", "3 Dublin Landings, North Wall Quay, Dublin 1, Ireland", "a company incorporated in Ireland", "IE"),
    ("Beijing Yunfan Software Co., Ltd.", "Yunfan Workspace", "Building 5, No. 10 Xibeiwang East Road, Haidian District, Beijing, China", "a company incorporated in the People's Republic of China", "CN"),
]  # fmt: skip
EN_CUSTOMERS = [
    ("Shanghai Mingde Medical Devices Co., Ltd.", "No. 1588 Zhangheng Road, Pudong New Area, Shanghai, China", "the People's Republic of China"),
    ("Suzhou Hengtai Precision Manufacturing Co., Ltd.", "No. 18 Changwu Middle Road, Wujin District, Changzhou, Jiangsu, China", "the People's Republic of China"),
    ("Hangzhou Hefeng Food Group Co., Ltd.", "No. 566 Yazhong Road, Nanhu District, Jiaxing, Zhejiang, China", "the People's Republic of China"),
    ("Shenzhen Lanhai Electronics Co., Ltd.", "No. 9 Keji South Road, Nanshan District, Shenzhen, China", "the People's Republic of China"),
    ("Beijing Huaxin Intelligent Equipment Co., Ltd.", "No. 29 Kechuang 13th Street, Beijing Economic-Technological Development Area, China", "the People's Republic of China"),
    ("Guangzhou Nanyuetong Logistics Co., Ltd.", "No. 368 Zhen'an Middle Road, Chang'an Town, Dongguan, Guangdong, China", "the People's Republic of China"),
    ("Tianjin Binhai New Materials Technology Co., Ltd.", "No. 276 Huanghai Road, Binhai New Area, Tianjin, China", "the People's Republic of China"),
    ("Pacific Harbour Trading (Hong Kong) Limited", "Room 1201, 12/F, Harbour Centre, 25 Harbour Road, Wan Chai, Hong Kong", "Hong Kong"),
]  # fmt: skip
ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
ZH_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红"
EN_FIRST = "James Sarah Michael Emma David Olivia Daniel Sophie Thomas Laura Wei Li Ming".split()
EN_LAST = "Smith Johnson Brown Taylor Wilson Miller Davies Clarke Wang Zhang Chen Liu".split()
EDITIONS_ZH = ("企业版", "专业版", "旗舰版", "标准版")
EDITIONS_EN = ("Enterprise", "Professional", "Business", "Standard")
BANKS = (
    "招商银行北京分行",
    "中国工商银行上海张江支行",
    "中国建设银行杭州高新支行",
    "中国银行深圳前海分行",
)


# --- drawing a contract's terms ------------------------------------------------------------------


def _weighted(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def draw_terms(rng: random.Random, language: str) -> dict[str, Any]:
    """The contract's terms (Python values; None when the contract does not state one) and the
    facts the wording needs (parties' details, unit price, renewal period …)."""
    t: dict[str, Any] = {"language": language}
    if language == "zh":
        vendor, brand, product, address = rng.choice(ZH_VENDORS)
        customer, caddress = rng.choice(ZH_CUSTOMERS)
        t.update(vendor=vendor, brand=brand, product=product, vendor_address=address)
        t.update(customer=customer, customer_address=caddress, edition=rng.choice(EDITIONS_ZH))
        t["currency"] = "CNY"
    else:
        vendor, product, address, incorporation, country = rng.choice(EN_VENDORS)
        customer, caddress, cplace = rng.choice(EN_CUSTOMERS)
        t.update(vendor=vendor, product=product, vendor_address=address, vendor_country=country)
        t.update(vendor_incorporation=incorporation, customer=customer)
        t.update(customer_address=caddress, customer_place=cplace, edition=rng.choice(EDITIONS_EN))
        t["currency"] = _weighted(rng, [("USD", 50), ("CNY", 25), ("EUR", 15), ("SGD", 10)])
    year = rng.choice((2024, 2025, 2025, 2026))
    signed = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
    start = signed + dt.timedelta(days=rng.randint(0, 40))
    if (start.month, start.day) == (2, 29):
        start += dt.timedelta(days=1)
    if rng.random() < 0.6:
        start = add_months(start.replace(day=1), 1)
    term = _weighted(rng, [(12, 55), (24, 15), (36, 20)])
    end = add_months(start, term) - dt.timedelta(days=1)
    if start.day != 1:
        end = dt.date(start.year + term // 12, start.month, start.day) - dt.timedelta(days=1)
    t["number"] = _contract_number(rng, t, signed) if rng.random() < 0.92 else None
    t["signed_on"] = signed
    t["valid_from"], t["valid_to"], t["term_months"] = start, end, term
    # How the period is written: term and dates, dates only, or start and term (no end date).
    t["period_style"] = _weighted(
        rng, [("both", 50), ("dates", 35), ("start_term", 10), ("none", 5)]
    )
    if t["period_style"] == "dates":
        t["term_months"] = None
    elif t["period_style"] == "start_term":
        t["valid_to"] = None
    elif t["period_style"] == "none":
        t["valid_from"] = t["valid_to"] = None
    t["signed_style"] = _weighted(rng, [("header", 30), ("sign", 35), ("both", 20), ("none", 15)])
    if t["signed_style"] == "none":
        t["signed_on"] = None

    seats = rng.choice((10, 20, 25, 50, 60, 80, 100, 120, 150, 200, 250, 300, 500, 800, 1000, 2000))
    t["seats_count"] = seats
    t["seats"] = seats if rng.random() < 0.88 else None
    if t["currency"] == "CNY":
        unit = Decimal(rng.choice((360, 480, 600, 720, 960, 1200, 1500, 1800, 2400, 3600)))
    else:
        unit = Decimal(rng.choice((60, 84, 96, 120, 180, 240, 300, 420, 600)))
    years = term // 12
    t["billing_cycle"] = _weighted(
        rng,
        [("annual", 45 if term == 12 else 60), ("one_off", 20), ("quarterly", 15), ("monthly", 8)]
        + [(None, 12)],
    )
    # The price: the contract total, or only the annual fee of an annually billed longer term.
    t["amount_basis"] = "total"
    if t["billing_cycle"] == "annual" and years > 1 and rng.random() < 0.4:
        t["amount_basis"] = "annual"
    per = years if t["amount_basis"] == "total" else 1
    t["unit_price"] = unit if (t["seats"] and rng.random() < 0.35) else None
    total = unit * seats * per
    if t["unit_price"] is None and rng.random() < 0.4:  # a negotiated discount
        total = (total * Decimal(rng.choice(("0.85", "0.9", "0.92", "0.8"))) / 100).quantize(
            Decimal(1)
        ) * 100
    t["amount_value"] = total.quantize(Decimal("0.01"))
    t["tax_rate"] = 6
    if language == "zh":
        t["tax_included"] = _weighted(rng, [(True, 55), (False, 20), (None, 25)])
    else:
        t["tax_included"] = _weighted(rng, [(False, 45), (True, 15), (None, 40)])
    t["amount"] = t["amount_value"] if rng.random() < 0.95 else None
    t["payment_terms"] = _weighted(
        rng, [(30, 35), (15, 12), (45, 8), (60, 8), (10, 4), (0, 18), (None, 15)]
    )

    t["auto_renew"] = _weighted(rng, [(True, 45), (False, 25), (None, 30)])
    t["notice_days"] = None
    if t["auto_renew"]:
        t["notice_days"] = _weighted(
            rng, [(30, 40), (60, 22), (90, 18), (15, 5), (45, 5), (None, 10)]
        )
    t["renewal_months"] = rng.choice((12, 12, term))
    t["price_cap"] = t["list_price"] = None
    draw = rng.random()
    if t["auto_renew"]:
        if draw < 0.42:
            t["price_cap"] = Decimal(rng.choice(("3", "5", "5", "5", "6", "8", "10", "10", "7.5")))
        elif draw < 0.62:
            t["list_price"] = True
    elif draw < 0.2:
        t["price_cap"] = Decimal(rng.choice(("3", "5", "5", "8", "10")))
    elif draw < 0.28:
        t["list_price"] = True
    if t["price_cap"] is not None:
        t["price_cap"] = t["price_cap"].quantize(Decimal("0.01"))

    t["termination"] = _weighted(
        rng,
        [("both", 30), ("customer", 15), ("vendor_only", 15), ("none", 12), (None, 28)],
    )
    t["termination_notice"] = rng.choice((30, 30, 60, 15, 90))
    t["breach_clause"] = rng.random() < 0.75
    t["cure_days"] = rng.choice((15, 30, 30, 10))
    t["data_return"] = True if rng.random() < 0.6 else None
    t["deletion_clause"] = t["data_return"] is None and rng.random() < 0.45
    t["personal_info"] = True if rng.random() < 0.65 else None
    t["data_location"] = None
    if rng.random() < 0.55:
        if language == "zh":
            t["data_location"] = _weighted(rng, [("CN", 80), ("HK", 10), ("SG", 10)])
        else:
            t["data_location"] = _weighted(
                rng, [("CN", 30), ("US", 20), ("EU", 20), ("SG", 20), ("HK", 10)]
            )
    t["roles_swapped"] = language == "zh" and rng.random() < 0.12  # 甲方 is the vendor
    return t


def _contract_number(rng: random.Random, t: dict[str, Any], signed: dt.date) -> str:
    seq = rng.randint(1, 999)
    ymd = signed.strftime("%Y%m%d")
    if t["language"] == "zh":
        forms = [
            f"HT-{signed.year}-{seq:04d}",
            f"CG{ymd}{seq:03d}",
            f"XS-{signed.year}-{seq:03d}",
            f"IT-CG-{signed.year}-{seq:03d}",
            f"SaaS{signed.year}{seq:04d}",
        ]
    else:
        initials = "".join(w[0] for w in t["vendor"].split()[:2]).upper()
        forms = [
            f"{initials}-{signed.year}-{seq:04d}",
            f"Q-{rng.randint(10000, 99999):08d}",
            f"SSA-{signed.year}-{seq:03d}",
            f"OF{ymd}-{seq:02d}",
        ]
    return rng.choice(forms)


# --- marking mentions --------------------------------------------------------------------------


class Marks:
    """Wraps a field's mention in an element with an id (its page is then known) and records the
    mention as written. Wordings are drawn from lists of marked options, so only the mentions
    whose id made it into the final HTML count (``keep``)."""

    def __init__(self) -> None:
        self.count = 0
        self.fields: dict[str, str] = {}  # id -> field
        self.texts: dict[str, str] = {}  # id -> the mention as written
        self.signature_ids: list[str] = []

    def __call__(self, name: str, text: str, *, signature: bool = False) -> str:
        assert name in FIELDS, name
        self.count += 1
        ident = f"f-{name}-{self.count}"
        self.fields[ident] = name
        self.texts[ident] = re.sub(r"<[^>]+>", "", text)
        if signature:
            self.signature_ids.append(ident)
        return f'<span id="{ident}">{text}</span>'

    def keep(self, body: str) -> None:
        """Forget the mentions of options that were not chosen."""
        present = set(re.findall(r'<span id="(f-[a-z_]+-\d+)">', body))
        self.fields = {k: v for k, v in self.fields.items() if k in present}
        self.texts = {k: v for k, v in self.texts.items() if k in present}
        self.signature_ids = [k for k in self.signature_ids if k in present]

    @property
    def written(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for ident, name in self.fields.items():
            out.setdefault(name, []).append(self.texts[ident])
        return out


class Words:
    """Wording choices, each drawn from its own seeded generator (by key), so a choice does not
    depend on how many filler clauses were drawn before it."""

    def __init__(self, base: str) -> None:
        self.base = base

    def rng(self, key: str) -> random.Random:
        return random.Random(f"{self.base}/{key}")  # noqa: S311 - benchmark data

    def pick(self, key: str, options: Sequence[T]) -> T:
        return self.rng(key).choice(list(options))

    def chance(self, key: str, p: float) -> bool:
        return self.rng(key).random() < p

    def index(self, key: str, n: int) -> int:
        return self.rng(key).randrange(n)


def _person_zh(w: Words, key: str) -> str:
    r = w.rng(key)
    return r.choice(ZH_SURNAMES) + "".join(r.choice(ZH_GIVEN) for _ in range(r.randint(1, 2)))


def _person_en(w: Words, key: str) -> str:
    r = w.rng(key)
    return f"{r.choice(EN_FIRST)} {r.choice(EN_LAST)}"


def _phone(w: Words, key: str) -> str:
    r = w.rng(key)
    if r.random() < 0.5:
        return f"1{r.choice('3589')}{r.randint(0, 9)}{r.randint(10000000, 99999999)}"
    return f"0{r.choice(('10', '21', '571', '755', '25'))}-{r.randint(20000000, 89999999)}"


# --- Chinese wording ---------------------------------------------------------------------------------


class ZhWriter:
    """Chinese clauses for one contract: each method returns HTML with the mentions marked."""

    def __init__(self, t: dict[str, Any], w: Words, m: Marks) -> None:
        self.t, self.w, self.m = t, w, m
        labels = w.pick(
            "roles", [("甲方", "乙方"), ("甲方", "乙方"), ("需方", "供方"), ("甲方", "乙方")]
        )
        if t["roles_swapped"]:
            labels = ("乙方", "甲方")
        self.C, self.V = labels
        self.date_style = w.pick("date_style", [0, 0, 0, 0, 1, 1, 2])

    # numbers and dates
    def n(self, key: str, value: int) -> str:
        return self.w.pick(key, [zh_number(value), str(value), zh_number(value)])

    def date(self, day: dt.date, key: str = "") -> str:
        style = self.date_style
        if key == "signed" and self.w.chance("cn_date", 0.12):
            style = 3
        return zh_date(day, style)

    def term_words(self, months: int, key: str = "term") -> str:
        years = {12: "一年", 24: "两年", 36: "三年"}[months]
        return self.w.pick(key, [years, f"{zh_number(months)}个月", f"{months}个月"])

    def percent(self, value: Decimal, key: str) -> str:
        plain = f"{value.normalize():f}"
        spoken = zh_number(int(value)) + (f"点{ZH_DIGITS[int(plain[-1])]}" if "." in plain else "")
        return self.w.pick(key, [f"{plain}%", f"{plain}％", f"百分之{spoken}"])

    # the parties
    def number(self, label: str = "合同编号") -> str:
        if not self.t["number"]:
            return ""
        return f'<p class="right">{label}：{self.m("number", self.t["number"])}</p>'

    def party_lines(self, role: str, name_field: str) -> str:
        t, w = self.t, self.w
        is_vendor = name_field == "vendor"
        kind = ""
        if role in ("甲方", "乙方") and w.chance(f"rolekind-{role}", 0.6):
            kind = "（服务方）" if is_vendor else "（采购方）"
        name = self.m(name_field, t[name_field])
        address = t["vendor_address"] if is_vendor else t["customer_address"]
        lines = [f"<b>{role}{kind}：</b>{name}", f"地址：{address}"]
        lines.append(f"法定代表人：{_person_zh(w, f'rep-{role}')}")
        if w.chance(f"contact-{role}", 0.7):
            lines.append(
                f"联系人：{_person_zh(w, f'contact-{role}')}　电话：{_phone(w, f'phone-{role}')}"
            )
        return '<p class="party">' + "<br>".join(lines) + "</p>"

    def parties(self) -> str:
        customer = self.party_lines(self.C, "customer")
        vendor = self.party_lines(self.V, "vendor")
        return vendor + customer if self.t["roles_swapped"] else customer + vendor

    def preamble(self) -> str:
        t, C, V = self.t, self.C, self.V
        A, B = (V, C) if t["roles_swapped"] else (C, V)  # 甲方 first
        options = [
            f"根据《中华人民共和国民法典》及相关法律法规的规定，{A}、{B}双方本着平等、自愿、公平、诚实信用的原则，"
            f"就{C}订购{V}{t['product']}软件服务事宜，经友好协商，达成如下协议，以资共同遵守。",
            f"{A}、{B}经平等协商，就{V}向{C}提供{t['product']}软件订阅服务的相关事宜达成一致，特订立本合同。",
            f"为明确双方的权利义务，{A}与{B}依据《中华人民共和国民法典》等法律法规，经协商一致，签订本合同。",
        ]
        return f"<p>{self.w.pick('preamble', options)}</p>"

    def header_dates(self) -> str:
        t = self.t
        parts = []
        if t["signed_on"] and t["signed_style"] in ("header", "both"):
            parts.append(f"签订日期：{self.m('signed_on', self.date(t['signed_on'], 'signed'))}")
        if self.w.chance("place", 0.5):
            parts.append(f"签订地点：{t['customer_address'][:6]}")
        return f'<p class="right">{"　".join(parts)}</p>' if parts else ""

    # the service
    def service(self) -> str:
        t, C, V, m = self.t, self.C, self.V, self.m
        product = f"{t['product']}（{t['edition']}）"
        seats = t["seats"]
        if seats is None:
            return f"<p>{V}向{C}提供{product}软件订阅服务，具体功能模块以附件《产品功能清单》为准。</p>"
        storage = self.w.pick("storage", (10, 20, 50, 100))
        options = [
            f"{V}同意向{C}提供{product}软件即服务（SaaS）订阅服务，{C}订购的授权用户数为{m('seats', f'{seats}个')}。",
            f"本合同项下{C}购买的{product}账号数量为{m('seats', f'{seats}个')}，每个账号仅限一名{C}员工使用，不得共享。",
            f"订阅规格：{product}，{m('seats', f'{seats}个用户账号')}，每账号含{storage}GB云存储空间。",
            f"{V}向{C}提供{product}订阅服务，{C}可开通的使用账号不超过{m('seats', f'{seats}个')}，超出部分需另行采购。",
            f"产品：{product}；许可数量：{m('seats', f'{seats}用户')}。",
        ]
        return f"<p>{self.w.pick('service', options)}</p>"

    def period(self) -> str:
        t, C, V, m = self.t, self.C, self.V, self.m
        style = t["period_style"]
        if style == "none":
            return f"<p>本合同项下服务期限自{V}开通账号之日起计算，具体以{V}系统开通记录为准。</p>"
        start = m("valid_from", self.date(t["valid_from"])) if t["valid_from"] else ""
        end = m("valid_to", self.date(t["valid_to"])) if t["valid_to"] else ""
        months = t["term_months"] or 0
        if style == "both":
            term = m("term_months", self.term_words(months))
            options = [
                f"本合同服务期限为{term}，自{start}起至{end}止。",
                f"订阅服务期为{term}，即{start}至{end}。",
                f"{V}提供服务的期限为{start}至{end}，共计{m('term_months', f'{months}个月')}。",
            ]
            if self.w.index("period-both", 3) == 2:
                return f"<p>{options[2]}</p>"
            return f"<p>{self.w.pick('period-both2', options[:2])}</p>"
        if style == "dates":
            choice = self.w.index("period-dates", 3)
            if choice == 1:
                again = m("valid_from", self.date(t["valid_from"]))
                return f"<p>{V}应于{start}前为{C}开通全部账号，服务期自{again}起至{end}止。</p>"
            if choice == 2:
                return f"<p>本合同项下订阅服务的起止日期为{start}至{end}。</p>"
            return f"<p>服务期限：自{start}至{end}。</p>"
        term = m("term_months", self.term_words(months))
        options = [
            f"本合同项下订阅服务自{start}起算，为期{term}。",
            f"服务期限为{term}，自{start}起计算。",
        ]
        return f"<p>{self.w.pick('period-start', options)}</p>"

    def amount_text(self) -> str:
        t, w = self.t, self.w
        value: Decimal = t["amount_value"]
        whole = value == value.to_integral()
        forms = [
            f"人民币{grouped(value, 0 if whole else 2)}元",
            f"¥{grouped(value)}",
            f"人民币{zh_money_upper(value)}（¥{grouped(value)}）",
            f"¥{grouped(value)}元（大写：人民币{zh_money_upper(value)}）",
            f"RMB {grouped(value, 0 if whole else 2)}",
        ]
        if value % 1000 == 0:
            forms.append(f"人民币{(value / 10000).normalize():f}万元")
        return w.pick("amount-form", forms)

    def tax_text(self) -> str:
        included, rate = self.t["tax_included"], self.t["tax_rate"]
        if included is None:
            return ""
        if included:
            return self.w.pick(
                "tax",
                ["（含税）", f"（含{rate}%增值税）", f"，该金额已包含{rate}%的增值税", "（含增值税）",
                 f"（含税价，增值税税率为{rate}%）"],
            )  # fmt: skip
        return self.w.pick(
            "tax", ["（不含税）", f"，该金额不含增值税，增值税由{self.C}另行承担", "（不含税价）"]
        )

    def billing_text(self) -> str:
        cycle, C = self.t["billing_cycle"], self.C
        if cycle is None:
            return ""
        options = {
            "annual": ["服务费按年支付", f"{C}按服务年度分期支付服务费", "费用按年度结算"],
            "one_off": [f"{C}应一次性支付全部合同价款", "上述费用一次性付清"],
            "quarterly": ["服务费按季度支付", "费用每季度结算一次"],
            "monthly": ["服务费按月支付", "费用按月结算"],
        }[cycle]
        return self.m("billing_cycle", self.w.pick("billing", options))

    def payment_text(self) -> str:
        days, C, V = self.t["payment_terms"], self.C, self.V
        if days is None:
            return ""
        if days == 0 and self.t["billing_cycle"] in (None, "one_off"):
            options = [f"{C}应于服务开通前预付全部费用", f"款项采用预付方式，{C}应在服务开通前付清"]
        elif days == 0:
            options = [
                f"{C}须在每个计费周期开始前预付该周期费用",
                f"款项采用预付方式，{C}应在每期服务开始前付清当期费用",
            ]
        else:
            n = self.n("pay-n", days)
            options = [
                f"{C}应在收到{V}开具的合法有效增值税专用发票后{n}日内支付",
                f"{C}于收到发票之日起{n}日内付款",
                f"见票后{n}天内支付",
            ]
        return self.m("payment_terms", self.w.pick("payment", options))

    def fees(self) -> list[str]:
        """The fee paragraphs: total (maybe with a unit price), billing and payment, account."""
        t, C, V, m = self.t, self.C, self.V, self.m
        out = []
        if t["amount"] is not None:
            amount = m("amount", self.amount_text())
            tax = self.tax_text()
            unit = ""
            if t["unit_price"] is not None:
                unit = self.w.pick(
                    "unit",
                    [f"单价为每用户每年人民币{grouped(t['unit_price'], 0)}元，",
                     f"按每账号每年{grouped(t['unit_price'], 0)}元计，"],
                )  # fmt: skip
            if t["amount_basis"] == "annual":
                sentence = self.w.pick(
                    "annual",
                    [f"{unit}年度服务费为{amount}{tax}。", f"{unit}每年服务费为{amount}{tax}。"],
                )
            else:
                sentence = self.w.pick(
                    "total",
                    [f"{unit}本合同总金额为{amount}{tax}。", f"{unit}合同总价款：{amount}{tax}。",
                     f"{unit}{C}应向{V}支付订阅服务费共计{amount}{tax}。"],
                )  # fmt: skip
            out.append(f"<p>{sentence}</p>")
        billing, payment = self.billing_text(), self.payment_text()
        if billing and payment:
            out.append(f"<p>{billing}，{payment}。</p>")
        elif billing or payment:
            out.append(f"<p>{billing or payment}。</p>")
        if self.w.chance("bank", 0.6):
            out.append(
                f"<p>{V}收款账户信息如下：户名：{m('vendor', t['vendor'])}；"
                f"开户行：{self.w.pick('bank', BANKS)}；账号：{self.w.rng('acct').randint(10**14, 10**15 - 1)}。</p>"
            )
        return out

    def renewal(self) -> list[str]:
        t, C, V, m = self.t, self.C, self.V, self.m
        out = []
        renew = self.term_words(t["renewal_months"], "renewal-words")
        if t["auto_renew"] is True:
            if t["notice_days"] is None:
                text = f"本合同期满后自动续期{renew}。"
                out.append(f"<p>{m('auto_renew', text)}</p>")
            else:
                n = m("notice_days", self.n("notice-n", t["notice_days"]))
                options = [
                    f"本合同期满前{n}日，任何一方未以书面形式通知对方终止的，{m('auto_renew', f'本合同自动续期{renew}')}，续期次数不限。",
                    f"服务期限届满时，如{C}未在到期日前至少{n}日书面通知{V}不再续订，{m('auto_renew', f'本订阅服务将自动续订{renew}')}，依此类推。",
                    f"{m('auto_renew', f'合同到期后自动续约{renew}')}。如任何一方不同意续约，应于到期前{n}天书面通知对方。",
                    f"{m('auto_renew', '本合同到期后自动续展，续展期限与原服务期限相同')}，除非一方在期限届满{n}日前书面通知另一方不予续展。",
                ]
                out.append(f"<p>{self.w.pick('renew', options)}</p>")
        elif t["auto_renew"] is False:
            options = [
                f"本合同期满后不自动续期。{C}如需继续使用，双方应另行签订续约合同。",
                "服务期满后本合同自然终止，不自动续约。",
                f"本订阅服务到期后不会自动续费，续费须由{C}另行书面确认。",
            ]
            out.append(f"<p>{m('auto_renew', self.w.pick('norenew', options))}</p>")
        if t["price_cap"] is not None:
            p = m("price_cap", self.percent(t["price_cap"], "cap-form"))
            options = [
                f"续约时，{V}服务单价涨幅不超过上一服务期单价的{p}。",
                f"续期服务费较本期服务费的上浮比例不得超过{p}。",
                f"续订价格的上涨幅度不高于{p}。",
            ]
            out.append(f"<p>{self.w.pick('cap', options)}</p>")
        if t["list_price"]:
            options = [
                f"续期费用按{V}届时公布的标准价格执行。",
                f"续订时按照{V}官网届时有效的刊例价格收费。",
                f"续约价格以续约时{V}的公开报价为准，不再享受本合同约定的折扣。",
            ]
            out.append(f"<p>{m('list_price', self.w.pick('list', options))}</p>")
        return out

    def data(self) -> list[str]:
        t, C, V, m = self.t, self.C, self.V, self.m
        out = []
        location = t["data_location"]
        if location:
            options = {
                "CN": [
                    f"{V}应将{C}数据存储于{m('data_location', '中华人民共和国境内')}的服务器，未经{C}书面同意，不得将{C}数据传输至境外。",
                    f"本服务的服务器部署于{m('data_location', '中国大陆境内')}，{C}的业务数据存储于华东（上海）地域。",
                    f"数据存储地点：{m('data_location', '中国境内')}。",
                ],
                "HK": [f"{C}数据存储于{V}位于{m('data_location', '香港特别行政区')}的数据中心。"],
                "SG": [f"{C}数据存储于{V}位于{m('data_location', '新加坡')}的数据中心。"],
                "EU": [
                    f"{C}数据存储于{m('data_location', '欧盟境内')}（德国法兰克福）的数据中心。"
                ],
                "US": [f"{C}数据存储于{m('data_location', '美国境内')}的数据中心。"],
            }[location]
            out.append(f"<p>{self.w.pick('location', options)}</p>")
        if t["personal_info"]:
            options = [
                f"双方应遵守《中华人民共和国个人信息保护法》《中华人民共和国数据安全法》等法律法规。{V}因提供本服务而处理{C}员工个人信息的，"
                f"应仅限于实现本合同目的所必需的范围，并采取必要的安全保护措施。",
                f"{V}作为受托方处理个人信息的，应当按照双方约定的目的、方式处理，不得超出约定处理个人信息，并在合同终止后删除相关个人信息。",
            ]
            out.append(f"<p>{m('personal_info', self.w.pick('pi', options))}</p>")
        if t["data_return"]:
            n = self.n("return-n", 30)
            options = [
                f"本合同终止或期满后{n}日内，{V}应按{C}要求以通用格式（如Excel、CSV）向{C}返还或提供导出{C}全部业务数据，并在{C}确认后彻底删除。",
                f"服务终止后，{V}应为{C}提供不少于{n}日的数据导出期，协助{C}完成数据迁移。",
                f"合同终止时，{V}应协助{C}完成数据迁移，并将{C}数据完整交还{C}。",
            ]
            out.append(f"<p>{m('data_return', self.w.pick('return', options))}</p>")
        elif t["deletion_clause"]:
            out.append(
                f"<p>本合同终止或期满后，{V}有权删除{C}账户内的全部数据，且无义务为{C}保留或提供任何数据。</p>"
            )
        return out

    def termination(self) -> list[str]:
        t, C, V, m = self.t, self.C, self.V, self.m
        out = []
        n = self.n("term-n", t["termination_notice"])
        kind = t["termination"]
        if kind:
            options = {
                "both": [
                    f"任何一方均可提前{n}日书面通知对方解除本合同，{V}应按剩余服务期退还已收取的相应费用。",
                    f"双方均有权提前{n}日以书面形式通知对方提前终止本合同。",
                ],
                "customer": [
                    f"{C}有权随时提前{n}日书面通知{V}解除本合同，{V}应退还未使用服务期对应的费用；{V}不得单方解除本合同。",
                    f"{C}可提前{n}日书面通知{V}终止本合同，无需承担违约责任。",
                ],
                "vendor_only": [
                    f"{V}有权提前{n}日书面通知{C}终止服务并解除本合同。{C}在服务期内不得提前解除本合同，已支付的费用不予退还。",
                    f"{V}可根据业务调整提前{n}日通知{C}终止本服务；{C}不得以任何理由单方提前终止本合同。",
                ],
                "none": [
                    f"本合同生效后，在服务期内任何一方均不得单方解除本合同，{C}已支付的费用不予退还。",
                    "本订阅服务在服务期内不可撤销、不可退款，任何一方不得提前解除本合同。",
                ],
            }[kind]
            out.append(f"<p>{m('termination', self.w.pick('termination', options))}</p>")
        if t["breach_clause"]:
            cure = self.n("cure-n", t["cure_days"])
            options = [
                f"任何一方严重违反本合同约定，经守约方书面催告后{cure}日内仍未纠正的，守约方有权书面通知对方解除本合同，并要求违约方赔偿损失。",
                f"{C}逾期付款超过{cure}日的，{V}有权暂停服务；经催告后仍未支付的，{V}有权解除本合同。",
            ]
            out.append(f"<p>{self.w.pick('breach', options)}</p>")
        return out

    def signature(self) -> str:
        t, m = self.t, self.m
        date = "日期：　　　年　　月　　日"
        dated = t["signed_on"] and t["signed_style"] in ("sign", "both")

        def cell(role: str, name_field: str) -> str:
            line = date
            if dated:
                line = f"日期：{m('signed_on', self.date(t['signed_on'], 'signed'))}"
            return (
                f"<td>{role}（盖章）：{m(name_field, t[name_field], signature=True)}<br>"
                f"法定代表人或授权代表（签字）：<br>{line}</td>"
            )

        customer = cell(self.C, "customer")
        vendor = cell(self.V, "vendor")
        cells = customer + vendor if self.C in ("甲方", "需方") else vendor + customer
        return f'<table class="sign"><tr>{cells}</tr></table>'


ZH_FILLERS: list[tuple[str, list[str]]] = [
    ("双方的权利和义务", [
        "{C}应指定专人作为系统管理员，负责账号的开通、分配与日常管理，并妥善保管账号及密码。",
        "{C}不得将本服务转售、出租或以其他方式提供给第三方使用，不得对软件进行反向工程、反编译或反汇编。",
        "{V}应按照本合同约定及产品说明文档提供服务，并在工作日9:00至18:00提供电话、邮件及在线客服支持。",
        "{V}对系统进行计划内维护的，应至少提前48小时通知{C}，维护时间原则上安排在非工作时间。",
    ]),
    ("服务水平", [
        "{V}保证本服务的月度可用率不低于99.9%。月度可用率未达到上述标准的，{V}应按当月服务费的5%至20%向{C}提供服务抵扣。",
        "对于一级故障，{V}应在接到报告后30分钟内响应、4小时内恢复；对于二级故障，应在2小时内响应、24小时内解决。",
        "服务抵扣为{C}就服务不可用所能获得的唯一补偿，每月抵扣总额不超过当月服务费的30%。",
    ]),
    ("技术支持与培训", [
        "{V}应在服务开通后为{C}提供不少于2次的线上操作培训，每次不少于2小时。",
        "服务期内，{V}免费为{C}提供产品的版本升级与安全补丁更新。",
        "{C}如需现场实施或定制开发服务，双方应另行签订补充协议。",
    ]),
    ("验收", [
        "{V}完成账号开通后，{C}应在5个工作日内进行验收；{C}逾期未提出书面异议的，视为验收合格。",
        "验收合格不免除{V}在服务期内应承担的质量保证义务。",
    ]),
    ("知识产权", [
        "{V}提供的软件、文档及相关技术的知识产权归{V}或其许可方所有，{C}仅在服务期内享有非独占、不可转让的使用权。",
        "{C}在使用本服务过程中上传、产生的业务数据及其衍生成果归{C}所有。",
        "{V}保证所提供的服务不侵犯任何第三方的知识产权；如因此导致{C}被第三方索赔，{V}应负责处理并承担全部责任。",
    ]),
    ("保密条款", [
        "双方对在签订和履行本合同过程中知悉的对方商业秘密、技术信息及其他未公开信息负有保密义务，未经对方书面同意，不得向任何第三方披露。",
        "本条约定的保密义务不因本合同的解除、终止或履行完毕而失效，保密期限为本合同终止后三年。",
        "因法律法规或监管机构要求而披露的，披露方应在法律允许的范围内及时通知对方。",
    ]),
    ("违约责任", [
        "{C}逾期付款的，每逾期一日，应按逾期金额的万分之五向{V}支付违约金。",
        "{V}未按约定提供服务的，每延迟一日，应按合同总金额的千分之一向{C}支付违约金，但违约金总额不超过合同总金额的10%。",
        "除故意或重大过失外，任何一方在本合同项下的累计赔偿责任不超过索赔发生前十二个月内{C}实际支付的服务费总额。",
    ]),
    ("不可抗力", [
        "因地震、火灾、洪水、战争、政府行为、电信部门技术调整等不可抗力导致一方不能履行本合同的，受影响一方应在不可抗力发生后十五日内书面通知对方，并提供相关证明。",
        "因不可抗力导致本合同部分或全部不能履行的，受影响一方可部分或全部免除责任。",
    ]),
    ("反商业贿赂", [
        "双方在合同履行过程中应恪守廉洁原则，任何一方不得向对方工作人员提供回扣、礼金、有价证券或其他不正当利益。",
        "任何一方违反本条约定的，另一方有权要求其承担相应的违约责任。",
    ]),
    ("通知与送达", [
        "双方在本合同首部列明的地址、联系人及电话为有效送达方式。任何一方变更联系方式的，应在变更后三日内书面通知对方。",
        "通知以专人送达的，签收之日为送达日；以快递方式送达的，寄出后第三日视为送达；以电子邮件送达的，发出之日视为送达。",
    ]),
    ("陈述与保证", [
        "双方均为依法设立并有效存续的法人，具有签订和履行本合同的民事权利能力和民事行为能力。",
        "双方签订和履行本合同不违反其章程、内部规定或对其有约束力的其他协议。",
    ]),
    ("权利义务的转让", [
        "未经对方书面同意，任何一方不得将本合同项下的全部或部分权利义务转让给第三方。",
        "{V}经{C}书面同意将部分服务委托第三方提供的，{V}仍应对第三方的行为向{C}承担责任。",
    ]),
    ("争议解决", [
        "本合同的订立、效力、解释、履行及争议解决均适用中华人民共和国法律。",
        "因本合同引起的或与本合同有关的任何争议，双方应友好协商解决；协商不成的，任何一方均可向{C}所在地有管辖权的人民法院提起诉讼。",
    ]),
    ("其他", [
        "本合同自双方签字并盖章之日起生效。本合同一式两份，{C}、{V}各执一份，具有同等法律效力。",
        "本合同未尽事宜，双方可另行签订补充协议，补充协议与本合同具有同等法律效力。本合同附件为本合同不可分割的组成部分。",
    ]),
]  # fmt: skip
ZH_FILLER_LAST = ("争议解决", "其他")


# --- English wording -----------------------------------------------------------------------------------


def en_n(w: Words, key: str, value: int) -> str:
    return w.pick(key, [f"{en_words(value)} ({value})", str(value), f"{en_words(value)} ({value})"])


class EnWriter:
    """English clauses for one contract."""

    def __init__(self, t: dict[str, Any], w: Words, m: Marks) -> None:
        self.t, self.w, self.m = t, w, m
        self.V = w.pick("vendor-label", ["Provider", "Licensor", "Vendor", "Supplier"])
        self.C = w.pick("customer-label", ["Customer", "Customer", "Licensee", "Subscriber"])
        self.date_style = w.pick("date_style", [0, 0, 0, 1, 1, 2, 3])

    def date(self, day: dt.date) -> str:
        return en_date(day, self.date_style)

    def term_words(self, months: int, key: str) -> str:
        years = months // 12
        return self.w.pick(
            key,
            [f"{en_words(months)} ({months}) months",
             f"{en_words(years)} ({years}) year{'s' if years > 1 else ''}", f"{months} months"],
        )  # fmt: skip

    def percent(self, value: Decimal, key: str) -> str:
        plain = f"{value.normalize():f}"
        if "." in plain:
            return f"{plain}%"
        return self.w.pick(
            key, [f"{en_words(int(value))} percent ({plain}%)", f"{plain}%", f"{plain} percent"]
        )

    def amount_text(self) -> str:
        value, currency = self.t["amount_value"], self.t["currency"]
        whole = value == value.to_integral()
        g0 = grouped(value, 0 if whole else 2)
        forms = {
            "USD": [
                f"USD {grouped(value)}",
                f"US${g0}",
                f"${grouped(value)} (US dollars)",
                f"USD {g0}",
            ],
            "CNY": [f"RMB {g0}", f"CNY {grouped(value)}", f"RMB {grouped(value)}"],
            "EUR": [f"EUR {grouped(value)}", f"€{grouped(value)}", f"EUR {g0}"],
            "SGD": [f"SGD {grouped(value)}", f"S${g0}"],
        }[currency]
        return self.w.pick("amount-form", forms)

    def tax_text(self) -> str:
        included, rate = self.t["tax_included"], self.t["tax_rate"]
        if included is None:
            return ""
        if included:
            return self.w.pick(
                "tax",
                [
                    f" (inclusive of {rate}% VAT)",
                    ", inclusive of all applicable taxes",
                    " (tax inclusive)",
                ],
            )
        return self.w.pick(
            "tax",
            [" (exclusive of VAT)", ", exclusive of all applicable taxes", " (excluding taxes)"],
        )

    def parties(self) -> str:
        t, m, V, C = self.t, self.m, self.V, self.C
        made = ""
        if t["signed_on"] and t["signed_style"] in ("header", "both"):
            made = f" on {m('signed_on', self.date(t['signed_on']))}"
        vendor = m("vendor", t["vendor"])
        customer = m("customer", t["customer"])
        title = self.w.pick(
            "agreement-name",
            [
                "Software Subscription Agreement",
                "Subscription Agreement",
                "SaaS Services Agreement",
            ],
        )
        if self.w.chance("parties-list", 0.5):
            return (
                f'<p>This {title} (this "Agreement") is made{made} by and between {vendor}, '
                f"{t['vendor_incorporation']}, with its principal office at {t['vendor_address']} "
                f'("{V}"), and {customer}, a company incorporated in {t["customer_place"]} with its '
                f'registered office at {t["customer_address"]} ("{C}").</p>'
            )
        dated = f"<p><b>THIS AGREEMENT</b> is dated {made[4:]}.</p>" if made else ""
        return (
            f"{dated}<p><b>PARTIES</b></p>"
            f"<p>(1) {vendor}, {t['vendor_incorporation']}, whose principal office is at "
            f'{t["vendor_address"]} ("{V}"); and</p>'
            f"<p>(2) {customer}, a company incorporated in {t['customer_place']}, whose registered "
            f'office is at {t["customer_address"]} ("{C}").</p>'
        )

    def seats_sentence(self) -> str:
        t, m, C = self.t, self.m, self.C
        seats = t["seats"]
        product = f"{t['product']} ({t['edition']} Edition)"
        if seats is None:
            return f"<p>{self.V} grants {C} a non-exclusive, non-transferable right to access and use {product} during the Subscription Term for its internal business purposes.</p>"
        options = [
            f"{self.V} grants {C} a non-exclusive, non-transferable right to access and use {product} during the Subscription Term. {C} may permit up to {m('seats', f'{seats} Authorized Users')} to use the Service.",
            f"{C} has purchased {m('seats', f'{seats} named user subscriptions')} to {product}. Each subscription may be used by one individual only and may not be shared.",
            f"The subscription covers {m('seats', f'{seats} seats')} of {product}. Additional seats may be added at any time by a further order.",
        ]
        return f"<p>{self.w.pick('seats', options)}</p>"

    def period(self) -> str:
        t, m, V = self.t, self.m, self.V
        style = t["period_style"]
        if style == "none":
            return f"<p>The Subscription Term begins on the date {V} makes the Service available to {self.C}.</p>"
        start = m("valid_from", self.date(t["valid_from"])) if t["valid_from"] else ""
        end = m("valid_to", self.date(t["valid_to"])) if t["valid_to"] else ""
        if style == "both":
            term = m("term_months", self.term_words(t["term_months"], "term"))
            options = [
                f'The initial subscription term shall commence on {start} and continue for a period of {term}, ending on {end} (the "Initial Term").',
                f"{V} will provide the Service for an initial term of {term}, from {start} to {end}.",
            ]
            return f"<p>{self.w.pick('period-both', options)}</p>"
        if style == "dates":
            options = [
                f"This Agreement is effective from {start} until {end}, unless terminated earlier in accordance with its terms.",
                f'The Subscription Term begins on {start} and ends on {end} (the "Initial Term").',
            ]
            return f"<p>{self.w.pick('period-dates', options)}</p>"
        term = m("term_months", self.term_words(t["term_months"], "term"))
        return f'<p>The initial Subscription Term is {term}, commencing on {start} (the "Initial Term").</p>'

    def billing_text(self) -> str:
        cycle = self.t["billing_cycle"]
        if cycle is None:
            return ""
        options = {
            "annual": ["Fees are invoiced annually in advance", f"{self.V} will invoice {self.C} annually"],
            "one_off": ["Fees are invoiced in full upon execution of this Agreement", "Fees are billed as a single one-time charge"],
            "quarterly": ["Fees are invoiced quarterly in advance", f"{self.V} will invoice the Fees quarterly"],
            "monthly": ["Fees are billed monthly", f"{self.V} will invoice {self.C} monthly in arrears"],
        }[cycle]  # fmt: skip
        return self.m("billing_cycle", self.w.pick("billing", options))

    def payment_text(self, joined: bool) -> str:
        days = self.t["payment_terms"]
        if days is None:
            return ""
        if days == 0:
            options = [
                "payable in full in advance",
                "payable in advance before the Service is made available",
            ]
            if self.t["billing_cycle"] not in (None, "one_off"):
                options = ["payable in advance of each billing period", "payable in advance"]
            text = self.w.pick("payment0", options)
            return self.m("payment_terms", text if joined else f"All Fees are {text}")
        n = en_n(self.w, "pay-n", days)
        options = [
            f"payable within {n} days of the invoice date",
            f"payable net {days} days from the date of invoice",
            f"due within {n} days after {self.C} receives the invoice",
        ]
        text = self.w.pick("payment", options)
        return self.m("payment_terms", text if joined else f"Each invoice is {text}")

    def fees(self) -> list[str]:
        t, m, C, V = self.t, self.m, self.C, self.V
        out = []
        if t["amount"] is not None:
            amount = m("amount", self.amount_text())
            tax = self.tax_text()
            if t["amount_basis"] == "annual":
                sentence = self.w.pick(
                    "annual",
                    [f"The annual subscription fee is {amount}{tax}.",
                     f"{C} shall pay {V} an annual fee of {amount}{tax}."],
                )  # fmt: skip
            else:
                sentence = self.w.pick(
                    "total",
                    [f"The total Subscription Fees payable under this Agreement are {amount}{tax}.",
                     f'In consideration of the Service, {C} shall pay {amount}{tax} in total (the "Fees").'],
                )  # fmt: skip
            if t["unit_price"] is not None:
                sentence = (
                    f"The Fees are calculated at {t['currency']} {grouped(t['unit_price'], 0)} per "
                    f"user per year. {sentence}"
                )
            out.append(f"<p>{sentence}</p>")
        billing = self.billing_text()
        payment = self.payment_text(joined=bool(billing))
        if billing and payment:
            out.append(
                f"<p>{billing} and are {payment}.</p>"
                if "Fees are" in billing
                else f"<p>{billing}; invoices are {payment}.</p>"
            )
        elif billing or payment:
            out.append(f"<p>{billing or payment}.</p>")
        out.append(
            "<p>Any amount not paid when due shall bear interest at the rate of 1.5% per month "
            f"or the maximum rate permitted by law, whichever is lower. {V} may suspend the Service "
            "if any undisputed invoice remains unpaid for more than fifteen (15) days after its due date.</p>"
        )
        return out

    def renewal(self) -> list[str]:
        t, m, C, V = self.t, self.m, self.C, self.V
        out = []
        renew = self.term_words(t["renewal_months"], "renewal-words")
        if t["auto_renew"] is True:
            if t["notice_days"] is None:
                out.append(
                    f"<p>{m('auto_renew', 'This Agreement renews automatically at the end of each Subscription Term.')}</p>"
                )
            else:
                n = m("notice_days", en_n(self.w, "notice-n", t["notice_days"]))
                options = [
                    f'Upon expiry of the Initial Term, {m("auto_renew", f"this Agreement shall automatically renew for successive renewal terms of {renew} each")} (each a "Renewal Term") unless either party notifies the other in writing of its intention not to renew at least {n} days prior to the end of the then-current term.',
                    f"{m('auto_renew', 'Subscriptions will automatically renew for additional periods equal to the expiring subscription term')}, unless either party gives the other written notice of non-renewal at least {n} days before the end of the relevant subscription term.",
                    f"{m('auto_renew', f'This Agreement will renew automatically for further periods of {renew}')} unless {C} cancels by giving {n} days' written notice before the renewal date.",
                ]
                out.append(f"<p>{self.w.pick('renew', options)}</p>")
        elif t["auto_renew"] is False:
            options = [
                "This Agreement shall not automatically renew. Any renewal shall be subject to a new order form executed by both parties.",
                "The subscription will expire at the end of the Subscription Term and will not renew automatically.",
                f"There is no automatic renewal; {C} may renew by placing a new order.",
            ]
            out.append(f"<p>{m('auto_renew', self.w.pick('norenew', options))}</p>")
        if t["price_cap"] is not None:
            p = m("price_cap", self.percent(t["price_cap"], "cap-form"))
            options = [
                f"Any increase in the Fees for a renewal term shall not exceed {p} of the Fees for the immediately preceding term.",
                f"Renewal pricing will not increase by more than {p} over the prior term's fees.",
                f"{V} may increase the Fees upon renewal by no more than {p}.",
            ]
            out.append(f"<p>{self.w.pick('cap', options)}</p>")
        if t["list_price"]:
            options = [
                f"Fees for each renewal term will be charged at {V}'s then-current list price.",
                "Renewal subscriptions will be invoiced at the list price in effect at the time of renewal.",
                f"Upon renewal, pricing will revert to {V}'s then-current standard list pricing.",
            ]
            out.append(f"<p>{m('list_price', self.w.pick('list', options))}</p>")
        return out

    def location_words(self) -> str:
        return {
            "CN": self.w.pick("cn-words", ["mainland China", "the People's Republic of China"]),
            "EU": "the European Union",
            "US": "the United States",
            "SG": "Singapore",
            "HK": "Hong Kong",
        }[self.t["data_location"]]

    def data(self) -> list[str]:
        t, m, C, V = self.t, self.m, self.C, self.V
        out = []
        if t["personal_info"]:
            options = [
                "Each party shall comply with all applicable data protection laws, including the Personal Information Protection Law of the People's Republic of China, in its processing of personal data under this Agreement.",
                f"To the extent {V} processes Personal Data on behalf of {C}, it shall do so only on {C}'s documented instructions and in accordance with the Data Processing Addendum attached as Exhibit B.",
            ]
            out.append(f"<p>{m('personal_info', self.w.pick('pi', options))}</p>")
        if t["data_location"]:
            where = m("data_location", self.location_words())
            options = [
                f"{V} shall store and process {C} Data only in data centres located in {where}.",
                f"All {C} Data will be hosted within {where} and shall not be transferred outside it without {C}'s prior written consent.",
            ]
            out.append(f"<p>{self.w.pick('location', options)}</p>")
        out.append(
            f"<p>{V} shall maintain appropriate technical and organisational measures to protect {C} "
            "Data against unauthorised access, including encryption in transit and at rest.</p>"
        )
        return out

    def exit(self) -> list[str]:
        t, m, C, V = self.t, self.m, self.C, self.V
        if t["data_return"]:
            options = [
                f"Upon termination or expiration of this Agreement, {V} shall make {C} Data available to {C} for export in a commonly used format for thirty (30) days, after which {V} will delete it.",
                f"Within thirty (30) days after termination, {V} shall return all {C} Data to {C} and, upon {C}'s written confirmation, securely delete all copies.",
                f"{V} will provide reasonable assistance to migrate {C} Data to {C} or a successor provider upon expiry or termination.",
            ]
            return [f"<p>{m('data_return', self.w.pick('return', options))}</p>"]
        if t["deletion_clause"]:
            return [
                f"<p>{V} has no obligation to retain {C} Data after termination or expiration of this Agreement and may delete it thereafter.</p>"
            ]
        return []

    def termination(self) -> list[str]:
        t, m, C, V = self.t, self.m, self.C, self.V
        out = []
        n = en_n(self.w, "term-n", t["termination_notice"])
        kind = t["termination"]
        if kind:
            options = {
                "both": [
                    f"Either party may terminate this Agreement for convenience upon {n} days' prior written notice to the other party.",
                    f"This Agreement may be terminated by either party at any time, without cause, on {n} days' written notice.",
                ],
                "customer": [
                    f"{C} may terminate this Agreement for convenience at any time upon {n} days' written notice to {V}, and {V} shall refund any prepaid Fees covering the remainder of the Subscription Term. {V} may not terminate this Agreement for convenience.",
                    f"{C} may terminate this Agreement without cause on {n} days' written notice.",
                ],
                "vendor_only": [
                    f"{V} may terminate this Agreement for any reason upon {n} days' written notice to {C}. {C} may not terminate this Agreement for convenience, and Fees paid are non-refundable.",
                    f"{V} reserves the right to terminate this Agreement without cause on {n} days' notice; {C} has no right to terminate for convenience.",
                ],
                "none": [
                    "Neither party may terminate this Agreement for convenience. Subscriptions are non-cancellable and Fees paid are non-refundable.",
                    f"This Agreement is non-cancellable for the duration of the Subscription Term, and {C} may not terminate it for convenience.",
                ],
            }[kind]
            out.append(f"<p>{m('termination', self.w.pick('termination', options))}</p>")
        if t["breach_clause"]:
            cure = en_n(self.w, "cure-n", t["cure_days"])
            out.append(
                "<p>Either party may terminate this Agreement by written notice if the other party "
                f"materially breaches this Agreement and fails to cure the breach within {cure} days "
                "after receiving written notice of it, or if the other party becomes insolvent.</p>"
            )
        return out

    def signature(self) -> str:
        t, m = self.t, self.m
        dated = t["signed_on"] and t["signed_style"] in ("sign", "both")

        def cell(name_field: str, key: str) -> str:
            date = (
                f"Date: {m('signed_on', self.date(t['signed_on']))}"
                if dated
                else "Date: ____________"
            )
            titles = {
                "v": ["VP, Sales", "Chief Revenue Officer", "Director", "General Counsel"],
                "c": ["General Manager", "Chief Information Officer", "Head of Procurement"],
            }
            title = self.w.pick(f"title-{key}", titles[key])
            return (
                f"<td><b>{m(name_field, t[name_field], signature=True)}</b><br>By: ______________________<br>"
                f"Name: {_person_en(self.w, f'signer-{key}')}<br>Title: {title}<br>{date}</td>"
            )

        return (
            "<p>IN WITNESS WHEREOF, the parties have caused this Agreement to be executed by their "
            "duly authorised representatives.</p>"
            f'<table class="sign"><tr>{cell("vendor", "v")}{cell("customer", "c")}</tr></table>'
        )

    def governing_law(self) -> str:
        country = self.t["vendor_country"]
        law, forum = {
            "SG": ("the Republic of Singapore", "the Singapore International Arbitration Centre (SIAC) in Singapore"),
            "HK": ("the Hong Kong Special Administrative Region", "the Hong Kong International Arbitration Centre (HKIAC) in Hong Kong"),
            "UK": ("England and Wales", "the London Court of International Arbitration (LCIA) in London"),
            "US": ("the State of New York", "the International Centre for Dispute Resolution in New York"),
        }.get(country, ("the People's Republic of China", "the China International Economic and Trade Arbitration Commission (CIETAC) in Beijing"))  # fmt: skip
        return (
            f"<p>This Agreement shall be governed by and construed in accordance with the laws of {law}, "
            "without regard to its conflict of laws principles. Any dispute arising out of or in "
            f"connection with this Agreement shall be finally resolved by arbitration administered by {forum}.</p>"
        )


EN_FILLERS: list[tuple[str, list[str]]] = [
    ("Definitions", [
        '"Authorized User" means an employee or contractor of {C} whom {C} has authorised to use the Service.',
        '"{C} Data" means all data, content and information submitted to the Service by or on behalf of {C}.',
        '"Documentation" means the user guides and specifications for the Service that {V} makes available online.',
        '"Service" means the hosted software service described in the applicable order, including any updates {V} makes generally available.',
    ]),
    ("Support and Service Levels", [
        "{V} shall use commercially reasonable efforts to make the Service available 99.9% of the time in each calendar month, excluding scheduled maintenance.",
        "{V} will respond to Severity 1 incidents within one (1) hour and to Severity 2 incidents within four (4) hours during the support hours stated in the Documentation.",
        "If monthly availability falls below 99.9%, {C} is entitled to a service credit of 5% of the monthly Fees for each full 1% shortfall, up to 25% of the monthly Fees.",
    ]),
    ("{C} Responsibilities", [
        "{C} is responsible for all activity occurring under its accounts and shall keep its login credentials confidential.",
        "{C} shall not (a) sell, resell, license or sublicense the Service, (b) reverse engineer the Service, or (c) use the Service to store or transmit malicious code.",
        "{C} shall notify {V} promptly of any unauthorised use of any password or account.",
    ]),
    ("Confidentiality", [
        "Each party shall hold the other party's Confidential Information in confidence and shall not disclose it to any third party except to its employees and advisers who need to know it.",
        "The obligations in this Section shall survive for a period of three (3) years following termination or expiration of this Agreement.",
        "Confidential Information does not include information that is or becomes publicly available through no fault of the receiving party.",
    ]),
    ("Intellectual Property", [
        "{V} and its licensors retain all right, title and interest in and to the Service and the Documentation, including all intellectual property rights therein.",
        "{C} retains all rights in {C} Data. {C} grants {V} a limited licence to host and process {C} Data solely to provide the Service.",
    ]),
    ("Warranties", [
        "{V} warrants that the Service will perform materially in accordance with the Documentation for ninety (90) days from the start of the Subscription Term.",
        "EXCEPT AS EXPRESSLY PROVIDED IN THIS AGREEMENT, THE SERVICE IS PROVIDED \"AS IS\" AND EACH PARTY DISCLAIMS ALL OTHER WARRANTIES, EXPRESS OR IMPLIED.",
    ]),
    ("Indemnification", [
        "{V} shall defend {C} against any claim by a third party alleging that the Service infringes that third party's intellectual property rights, and shall pay any damages finally awarded.",
        "{C} shall promptly notify {V} of any such claim and give {V} sole control of its defence and settlement.",
    ]),
    ("Limitation of Liability", [
        "IN NO EVENT SHALL EITHER PARTY'S AGGREGATE LIABILITY ARISING OUT OF THIS AGREEMENT EXCEED THE TOTAL FEES PAID BY {C} IN THE TWELVE (12) MONTHS PRECEDING THE EVENT GIVING RISE TO THE CLAIM.",
        "Neither party shall be liable for any indirect, incidental, special or consequential damages, or for loss of profits or revenues.",
    ]),
    ("Force Majeure", [
        "Neither party shall be liable for any failure or delay in performance caused by events beyond its reasonable control, including natural disasters, war, epidemics or failures of public networks.",
        "The affected party shall notify the other party within ten (10) days of the occurrence of such an event.",
    ]),
    ("Audit", [
        "{V} may, no more than once in any twelve (12) month period and on reasonable notice, verify {C}'s compliance with the usage limits of this Agreement.",
    ]),
    ("Anti-Corruption and Export Control", [
        "Each party shall comply with all applicable anti-bribery and anti-corruption laws and shall not offer or accept any improper payment in connection with this Agreement.",
        "{C} shall not permit any Authorized User to access the Service in violation of applicable export control or sanctions laws.",
    ]),
    ("General", [
        "Neither party may assign this Agreement without the prior written consent of the other party, except in connection with a merger or sale of substantially all of its assets.",
        "This Agreement constitutes the entire agreement between the parties and supersedes all prior agreements relating to its subject matter. It may be executed in counterparts.",
        "Notices shall be in writing and delivered by hand, courier or e-mail to the addresses set out above.",
    ]),
]  # fmt: skip


# --- layouts -----------------------------------------------------------------------------------------


def _fill(text: str, C: str, V: str) -> str:
    if text.replace("{C}", "").replace("{V}", "").isupper():  # a clause in capitals
        C, V = C.upper(), V.upper()
    return text.replace("{C}", C).replace("{V}", V)


def _zh_filler_block(number: str, title: str, clauses: list[str], C: str, V: str) -> str:
    body = "".join(f"<p>{i}. {_fill(c, C, V)}</p>" for i, c in enumerate(clauses, 1))
    return f"<h2>{number}　{title}</h2>{body}"


def _order(w: Words, key: str, items: list[T]) -> list[T]:
    items = list(items)
    w.rng(key).shuffle(items)
    return items


def zh_articles(t: dict[str, Any], w: Words, m: Marks, fillers: int) -> tuple[str, str]:
    z = ZhWriter(t, w, m)
    title = w.pick(
        "title",
        [
            "软件订阅服务合同",
            f"{t['product']}订阅服务合同",
            "软件即服务（SaaS）订阅协议",
            "云服务订购合同",
        ],
    )
    sub = w.pick("sub-style", ["numbered", "cn"])

    def article(title_: str, paragraphs: list[str]) -> tuple[str, list[str]]:
        return title_, paragraphs

    # The articles carrying terms, in a fixed order; fillers between them.
    core: list[tuple[str, list[str]]] = [
        article("服务内容", [z.service()]),
        article(
            "服务期限", [z.period()] + (z.renewal() if w.chance("renew-in-period", 0.4) else [])
        ),
        article("合同金额及支付方式", z.fees()),
    ]
    renew_in_period = len(core[1][1]) > 1
    data = z.data()
    if data:
        core.append(
            article(
                "数据安全与个人信息保护" if t["personal_info"] else "数据安全",
                data
                + [
                    "{V}应建立健全数据安全管理制度，采取加密存储、访问控制等措施，防止{C}数据泄露、毁损或丢失。"
                ],
            )
        )
    if not renew_in_period:
        renewal = z.renewal()
        if renewal:
            core.append(article("续约", renewal))
    termination = z.termination()
    if termination:
        core.append(article("合同的解除", termination))
    pool = [f for f in _order(w, "fillers", ZH_FILLERS) if f[0] not in ZH_FILLER_LAST]
    chosen = pool[:fillers]
    last = [f for f in ZH_FILLERS if f[0] in ZH_FILLER_LAST]
    # Interleave: core articles first half, fillers spread among them.
    sections: list[tuple[str, list[str]]] = []
    early = [
        f for f in chosen if f[0] in ("双方的权利和义务", "服务水平", "技术支持与培训", "验收")
    ]
    late = [f for f in chosen if f not in early]
    sections += core[:3] + early + core[3:] + late + last
    parts = [f"<h1>{title}</h1>", z.number(), z.header_dates(), z.parties(), z.preamble()]
    for i, (head, paragraphs) in enumerate(sections, 1):
        number = f"第{zh_number(i)}条"
        parts.append(f"<h2>{number}　{head}</h2>")
        for j, p in enumerate(paragraphs, 1):
            p = _fill(p, z.C, z.V)
            if not p.startswith("<p>"):
                p = f"<p>{p}</p>"
            label = f"{i}.{j}　" if sub == "numbered" else f"（{zh_number(j)}）"
            parts.append(p.replace("<p>", f"<p>{label}", 1))
    parts.append("<p>（以下无正文）</p>")
    parts.append(z.signature())
    return title, "".join(parts)


def zh_table(t: dict[str, Any], w: Words, m: Marks, fillers: int) -> tuple[str, str]:
    z = ZhWriter(t, w, m)
    title = w.pick("title", ["软件服务采购合同", "软件订阅采购合同", "信息化软件服务合同"])
    rows = []
    if t["number"]:
        rows.append(("合同编号", m("number", t["number"])))
    party_rows = [(z.C, m("customer", t["customer"])), (z.V, m("vendor", t["vendor"]))]
    rows += party_rows[::-1] if t["roles_swapped"] else party_rows
    if t["signed_on"] and t["signed_style"] in ("header", "both"):
        rows.append(("签订日期", m("signed_on", z.date(t["signed_on"], "signed"))))
    rows.append(("产品及服务", re.sub("^<p>|</p>$", "", z.service())))
    rows.append(("服务期限", re.sub("^<p>|</p>$", "", z.period())))
    fees = z.fees()
    rows.append(("合同金额及支付", "".join(re.sub("^<p>|</p>$", "", f) + "<br>" for f in fees)))
    renewal = z.renewal()
    if renewal:
        rows.append(("续约条款", "<br>".join(re.sub("^<p>|</p>$", "", r) for r in renewal)))
    data = z.data()
    location = [d for d in data if "data_location" in d]
    if location:
        rows.append(("数据存储", re.sub("^<p>|</p>$", "", location[0])))
    table = "".join(f"<tr><th>{a}</th><td>{b}</td></tr>" for a, b in rows)
    general = [d for d in data if "data_location" not in d] + z.termination()
    pool = _order(w, "fillers", [f for f in ZH_FILLERS if f[0] not in ZH_FILLER_LAST])[:fillers]
    # General clauses as whole groups (a clause's sentences stay together), the terms' among them.
    groups = [[re.sub("^<p>|</p>$", "", g) for g in general]] + [items for _, items in pool]
    clauses = [c for group in _order(w, "clause-order", groups) for c in group]
    clauses += [c for f in ZH_FILLERS if f[0] in ZH_FILLER_LAST for c in f[1]]
    body = "".join(f"<p>{i}. {_fill(c, z.C, z.V)}</p>" for i, c in enumerate(clauses, 1))
    parts = [
        f"<h1>{title}</h1>",
        z.preamble(),
        "<h2>一、合同主要条款</h2>",
        f'<table class="grid terms"><tr><th class="h">项目</th><th class="h">约定内容</th></tr>{table}</table>',
        "<h2>二、通用条款</h2>",
        body,
        "<h2>三、签署</h2>",
        z.signature(),
    ]
    return title, "".join(parts)


def zh_order(t: dict[str, Any], w: Words, m: Marks, fillers: int) -> tuple[str, str]:
    z = ZhWriter(t, w, m)
    title = w.pick("title", [f"{t['brand']}云服务订购单", "软件服务订购单", "订购单"])
    head = []
    if t["number"]:
        head.append(f"订单编号：{m('number', t['number'])}")
    if t["signed_on"] and t["signed_style"] in ("header", "both"):
        head.append(f"签订日期：{m('signed_on', z.date(t['signed_on'], 'signed'))}")
    parties = (
        '<table class="grid info">'
        f'<tr><th class="h" colspan="2">客户信息（{z.C}）</th><th class="h" colspan="2">供应商信息（{z.V}）</th></tr>'
        f"<tr><th>名称</th><td>{m('customer', t['customer'])}</td><th>名称</th><td>{m('vendor', t['vendor'])}</td></tr>"
        f"<tr><th>地址</th><td>{t['customer_address']}</td><th>地址</th><td>{t['vendor_address']}</td></tr>"
        f"<tr><th>联系人</th><td>{_person_zh(w, 'c-contact')} {_phone(w, 'c-phone')}</td>"
        f"<th>联系人</th><td>{_person_zh(w, 'v-contact')} {_phone(w, 'v-phone')}</td></tr></table>"
    )
    # The order lines: quantity (the seats), unit price, period, subtotal.
    seats = m("seats", str(t["seats"])) if t["seats"] else "1（套）"
    unit = grouped(t["unit_price"]) if t["unit_price"] is not None else "—"
    period_cell = "见下文"
    if t["valid_from"] and t["valid_to"] and w.chance("period-cell", 0.6):
        period_cell = (
            f"{m('valid_from', z.date(t['valid_from']))}至{m('valid_to', z.date(t['valid_to']))}"
        )
        period_para = ""
    else:
        period_para = re.sub("^<p>|</p>$", "", z.period())
    subtotal = total = "详见报价单"
    if t["amount"] is not None:
        total = m("amount", z.amount_text()) + z.tax_text()
        subtotal = m("amount", grouped(t["amount_value"]))
    lines = (
        '<table class="grid lines"><col style="width:26%"><col style="width:10%">'
        '<col style="width:12%"><col style="width:15%"><col style="width:21%"><col style="width:16%">'
        '<tr><th class="h">产品名称</th><th class="h">版本</th>'
        '<th class="h">数量（账号）</th><th class="h">单价（元/账号/年）</th><th class="h">服务期</th>'
        '<th class="h">小计</th></tr>'
        f"<tr><td>{t['product']}</td><td>{t['edition']}</td><td>{seats}</td><td>{unit}</td>"
        f"<td>{period_cell}</td><td>{subtotal}</td></tr>"
        f'<tr><th colspan="5">合计</th><td>{total}</td></tr></table>'
    )
    terms = []
    if period_para:
        terms.append(period_para)
    billing, payment = z.billing_text(), z.payment_text()
    if billing or payment:
        terms.append("付款方式：" + "，".join(x for x in (billing, payment) if x) + "。")
    terms += [re.sub("^<p>|</p>$", "", r) for r in z.renewal()]
    terms += [re.sub("^<p>|</p>$", "", d) for d in z.data()]
    terms += [re.sub("^<p>|</p>$", "", d) for d in z.termination()]
    pool = _order(w, "fillers", [f for f in ZH_FILLERS if f[0] not in ZH_FILLER_LAST])[:fillers]
    for _, items in pool:
        terms += items
    terms.append(
        f"本订购单未尽事宜，以双方签署的《{t['brand']}云服务主协议》为准；如有冲突，以本订购单为准。"
    )
    body = "".join(f"<p>{i}. {_fill(c, z.C, z.V)}</p>" for i, c in enumerate(terms, 1))
    parts = [
        f"<h1>{title}</h1>",
        f'<p class="right">{"　".join(head)}</p>' if head else "",
        "<h2>一、双方信息</h2>",
        parties,
        "<h2>二、订购明细</h2>",
        lines,
        "<h2>三、订购条款</h2>",
        body,
        z.signature(),
    ]
    return title, "".join(parts)


def _en_section(number: int, title: str, paragraphs: list[str], C: str, V: str) -> str:
    out = [f"<h2>{number}. {_fill(title, C, V)}</h2>"]
    for j, p in enumerate(paragraphs, 1):
        p = _fill(p, C, V)
        if not p.startswith("<p>"):
            p = f"<p>{p}</p>"
        out.append(p.replace("<p>", f"<p>{number}.{j} ", 1))
    return "".join(out)


def en_msa(t: dict[str, Any], w: Words, m: Marks, fillers: int) -> tuple[str, str]:
    e = EnWriter(t, w, m)
    title = w.pick(
        "title",
        [
            "SOFTWARE SUBSCRIPTION AGREEMENT",
            "SAAS SUBSCRIPTION AGREEMENT",
            "CLOUD SERVICES AGREEMENT",
            "SUBSCRIPTION SERVICES AGREEMENT",
        ],
    )
    schedule = w.chance("schedule", 0.4)
    fillers_all = _order(
        w, "fillers", [f for f in EN_FILLERS if f[0] not in ("Definitions", "General")]
    )
    chosen = fillers_all[:fillers]
    sections: list[tuple[str, list[str]]] = [next(f for f in EN_FILLERS if f[0] == "Definitions")]
    sections.append(("Subscription and Access", [e.seats_sentence()]))
    fees = e.fees()
    if schedule:
        sections.append(
            (
                "Fees and Payment",
                [
                    f"{e.C} shall pay the Fees set out in Schedule 1. All amounts are stated and payable in the currency shown there.",
                    fees[-1],
                ],
            )
        )
    else:
        sections.append(("Fees and Payment", fees))
    sections += chosen[: len(chosen) // 2]
    data_title = "Data Protection and Security" if t["personal_info"] else "Data Security"
    sections.append((data_title, e.data()))
    sections += chosen[len(chosen) // 2 :]
    term_section = [e.period(), *e.renewal(), *e.termination(), *e.exit()]
    term_section.append(
        "Provisions of this Agreement which by their nature should survive termination shall survive any termination or expiration of this Agreement."
    )
    sections.append(("Term and Termination", term_section))
    general = next(f for f in EN_FILLERS if f[0] == "General")
    sections.append(("General", [e.governing_law(), *general[1]]))
    parts = [f"<h1>{title}</h1>"]
    if t["number"]:
        label = w.pick("number-label", ["Agreement No.", "Contract No.", "Agreement Number"])
        parts.append(f'<p class="right">{label}: {m("number", t["number"])}</p>')
    parts.append(e.parties())
    parts.append("<p>The parties agree as follows:</p>")
    for i, (head, paragraphs) in enumerate(sections, 1):
        parts.append(_en_section(i, head, paragraphs, e.C, e.V))
    parts.append(e.signature())
    if schedule:
        rows = fees[:-1]
        parts.append('<h2 class="break">Schedule 1 – Fees</h2>')
        parts.append(
            '<table class="grid terms"><tr><th class="h">Product</th><th class="h">Edition</th><th class="h">Term</th></tr>'
            f"<tr><td>{t['product']}</td><td>{t['edition']}</td><td>As set out in Section {len(sections) - 1}</td></tr></table>"
        )
        parts += rows
    return title, "".join(parts)


def en_order(t: dict[str, Any], w: Words, m: Marks, fillers: int) -> tuple[str, str]:
    e = EnWriter(t, w, m)
    title = w.pick("title", ["ORDER FORM", "SUBSCRIPTION ORDER FORM", "SERVICE ORDER FORM"])
    rows: list[tuple[str, str]] = []
    if t["number"]:
        rows.append(("Order Form No.", m("number", t["number"])))
    rows.append((e.C, m("customer", t["customer"])))
    rows.append((f"{e.C} Address", t["customer_address"]))
    rows.append((e.V, m("vendor", t["vendor"])))
    if t["valid_from"]:
        rows.append(("Subscription Start Date", m("valid_from", e.date(t["valid_from"]))))
    if t["valid_to"]:
        rows.append(("Subscription End Date", m("valid_to", e.date(t["valid_to"]))))
    if t["term_months"]:
        rows.append(
            ("Subscription Term", m("term_months", e.term_words(t["term_months"], "term-cell")))
        )
    if t["billing_cycle"]:
        cell = {
            "annual": "Annually in advance",
            "one_off": "One-time, upfront",
            "quarterly": "Quarterly in advance",
            "monthly": "Monthly",
        }[t["billing_cycle"]]
        rows.append(("Billing Frequency", m("billing_cycle", cell)))
    if t["payment_terms"] is not None:
        cell = (
            "Payable in advance"
            if t["payment_terms"] == 0
            else w.pick("net", [f"Net {t['payment_terms']}", f"Net {t['payment_terms']} days"])
        )
        rows.append(("Payment Terms", m("payment_terms", cell)))
    if t["auto_renew"] is not None:
        if t["auto_renew"] and t["notice_days"]:
            cell = f"{m('auto_renew', 'Yes')} – renews for successive periods of {e.term_words(t['renewal_months'], 'renewal-words')} unless either party gives at least {m('notice_days', en_n(w, 'notice-n', t['notice_days']))} days' written notice of non-renewal"
        else:
            cell = m("auto_renew", "Yes" if t["auto_renew"] else "No")
        rows.append(("Auto-Renewal", cell))
    if t["price_cap"] is not None:
        rows.append(
            (
                "Renewal Price Cap",
                f"Increase of no more than {m('price_cap', e.percent(t['price_cap'], 'cap-form'))} per renewal term",
            )
        )
    if t["list_price"]:
        rows.append(("Renewal Pricing", m("list_price", f"{e.V}'s then-current list price")))
    if t["data_location"]:
        rows.append(("Data Hosting Region", m("data_location", e.location_words())))
    key_terms = "".join(f"<tr><th>{a}</th><td>{b}</td></tr>" for a, b in rows)
    seats = m("seats", str(t["seats"])) if t["seats"] else "Enterprise-wide"
    unit = f"{t['currency']} {grouped(t['unit_price'])}" if t["unit_price"] is not None else "—"
    total = m("amount", e.amount_text()) + e.tax_text() if t["amount"] is not None else "As quoted"
    label = "Annual Fee" if t["amount_basis"] == "annual" else "Total Fees"
    lines = (
        '<table class="grid lines"><col style="width:34%"><col style="width:18%">'
        '<col style="width:18%"><col style="width:30%"><tr><th class="h">Product</th><th class="h">Edition</th>'
        '<th class="h">Quantity (users)</th><th class="h">Unit Price / user / year</th></tr>'
        f"<tr><td>{t['product']}</td><td>{t['edition']}</td><td>{seats}</td><td>{unit}</td></tr>"
        f'<tr><th colspan="3">{label}</th><td>{total}</td></tr></table>'
    )
    clauses = [*e.data(), *e.termination(), *e.exit()]
    pool = _order(w, "fillers", [f for f in EN_FILLERS if f[0] not in ("Definitions", "General")])[
        :fillers
    ]
    sections = [
        ("Order Terms", clauses),
        *pool,
        ("General", [e.governing_law(), *EN_FILLERS[-1][1]]),
    ]
    parts = [
        f"<h1>{title}</h1>",
        f"<p>This Order Form is entered into between the {e.V} and the {e.C} named below and is governed by {e.V}'s Master Subscription Agreement and the terms below.</p>",
        f'<table class="grid terms">{key_terms}</table>',
        "<h2>Products and Fees</h2>",
        lines,
        "<h2>Terms and Conditions</h2>",
    ]
    for i, (head, paragraphs) in enumerate(sections, 1):
        parts.append(_en_section(i, head, paragraphs, e.C, e.V))
    parts.append(e.signature())
    return title, "".join(parts)


LAYOUT_FUNCTIONS: dict[str, Callable[[dict[str, Any], Words, Marks, int], tuple[str, str]]] = {
    "zh_articles": zh_articles,
    "zh_table": zh_table,
    "zh_order": zh_order,
    "en_msa": en_msa,
    "en_order": en_order,
}


# --- rendering -----------------------------------------------------------------------------------------


class Renderer:
    """WeasyPrint with the project's CJK font (core.pdf.font_path) loaded once."""

    def __init__(self, base_dir: Path) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        from core.pdf import font_path, static_only_fetcher

        self.fonts = FontConfiguration()
        self.fetcher = static_only_fetcher()
        self.face = CSS(
            string=f"@font-face {{ font-family: 'Corpus CJK'; src: url('{font_path().as_uri()}'); }}",
            font_config=self.fonts,
            url_fetcher=self.fetcher,
        )
        self.base_url = base_dir.resolve().as_uri() + "/"

    def render(self, body: str, title: str, css: str) -> Any:
        from weasyprint import CSS, HTML

        page = f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>{body}</body></html>'
        style = CSS(string=css, font_config=self.fonts, url_fetcher=self.fetcher)
        document = HTML(string=page, base_url=self.base_url, url_fetcher=self.fetcher)
        return document.render(stylesheets=[self.face, style], font_config=self.fonts)


def style_css(language: str, w: Words) -> str:
    if language == "zh":
        family = "'Corpus CJK', sans-serif"
        size = w.pick("font-size", ["10.5pt", "11pt", "12pt"])
        indent = w.pick("indent", ["2em", "0"])
        footer = 'content: "第 " counter(page) " 页 共 " counter(pages) " 页"'
    else:
        family = w.pick(
            "font", ["'Nimbus Roman'", "'DejaVu Serif'", "'Nimbus Sans'", "'DejaVu Sans'"]
        )
        family += ", 'Corpus CJK', serif"
        size = w.pick("font-size", ["10pt", "10.5pt", "11pt"])
        indent = "0"
        footer = 'content: "Page " counter(page) " of " counter(pages)'
    line = w.pick("line-height", ["1.5", "1.6", "1.75"])
    margin = w.pick("margin", ["25mm 22mm", "20mm 25mm", "28mm 25mm 25mm"])
    return f"""
    @page {{ size: A4; margin: {margin}; @bottom-center {{ {footer}; font-size: 9pt; font-family: {family}; }} }}
    html {{ font-family: {family}; font-size: {size}; line-height: {line}; color: #111; }}
    h1 {{ text-align: center; font-size: 1.55em; letter-spacing: {"0.15em" if language == "zh" else "0.03em"}; margin: 0 0 0.8em; }}
    h2 {{ font-size: 1.05em; margin: 0.9em 0 0.3em; page-break-after: avoid; }}
    h2.break {{ page-break-before: always; }}
    p {{ margin: 0.25em 0; text-indent: {indent}; page-break-inside: avoid; text-align: justify; }}
    p.right {{ text-align: right; text-indent: 0; }}
    p.party {{ text-indent: 0; margin: 0.5em 0; }}
    table.grid {{ border-collapse: collapse; width: 100%; margin: 0.4em 0 0.8em; }}
    table.grid th, table.grid td {{ border: 0.6pt solid #222; padding: 3pt 5pt; vertical-align: top; text-align: left; font-weight: normal; }}
    table.grid th {{ background: #eee; }}
    table.terms th {{ width: 22%; }}
    table.info th {{ width: 10%; }}
    table.grid th.h {{ width: auto; text-align: center; }}
    table.lines {{ table-layout: fixed; }}
    tr {{ page-break-inside: avoid; }}
    table.sign {{ width: 100%; margin-top: 2em; page-break-inside: avoid; }}
    table.sign td {{ width: 50%; vertical-align: top; line-height: 2.1; padding-right: 1em; }}
    """


def _json_value(name: str, value: Any, t: dict[str, Any]) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if name == "amount":
        return {
            "amount": f"{t['amount_value']:.2f}",
            "currency": t["currency"],
            "tax_included": t["tax_included"],
        }
    if name == "price_cap":
        return f"{value:.2f}"
    return value


def _traps(t: dict[str, Any]) -> list[str]:
    traps = []
    if t["auto_renew"] and (t["notice_days"] or 0) > 30:
        traps.append(f"long_notice_{t['notice_days']}")
    if t["auto_renew"] and t["price_cap"] is None and not t["list_price"]:
        traps.append("no_price_cap")
    if t["price_cap"] is not None and t["price_cap"] > 5:
        traps.append(f"price_cap_{t['price_cap'].normalize():f}")
    if t["list_price"]:
        traps.append("list_price")
    if t["termination"] in ("vendor_only", "none"):
        traps.append(f"termination_{t['termination']}")
    if t["data_return"] is None:
        traps.append("no_data_return" + ("_deletion_clause" if t["deletion_clause"] else ""))
    if t["unit_price"] is not None:
        traps.append("unit_price")
    if t["amount_basis"] == "annual":
        traps.append("annual_fee_only")
    if t["roles_swapped"]:
        traps.append("vendor_is_jiafang")
    if t["auto_renew"] and t["renewal_months"] != (t["term_months"] or t["renewal_months"]):
        traps.append("renewal_period_differs")
    if t["termination"] and t["auto_renew"] and t["termination_notice"] != t["notice_days"]:
        traps.append("termination_notice_differs")
    return traps


@dataclass
class Built:
    title: str
    pdf: bytes
    page_count: int
    marks: Marks
    anchors: dict[str, tuple[int, float, float]]


# Filler clauses that usually give a layout 2, 3 or 4 pages (a first guess, then adjusted).
FILLERS_FOR_PAGES = {
    "zh_articles": {2: 1, 3: 6, 4: 11},
    "zh_table": {2: 2, 3: 10, 4: 12},
    "zh_order": {2: 2, 3: 8, 4: 12},
    "en_msa": {2: 0, 3: 3, 4: 7},
    "en_order": {2: 0, 3: 4, 4: 9},
}


def build_contract(t: dict[str, Any], layout: str, w: Words, renderer: Renderer) -> Built:
    """Render the contract, adding filler clauses until it has its target number of pages (2-4)."""
    target = w.pick("pages", [2, 3, 3, 4])
    css = style_css(t["language"], w)
    function = LAYOUT_FUNCTIONS[layout]
    fillers = FILLERS_FOR_PAGES[layout][target]
    tried: dict[int, Any] = {}
    most = len(ZH_FILLERS if t["language"] == "zh" else EN_FILLERS)
    for _ in range(4):
        marks = Marks()
        title, body = function(t, w, marks, fillers)
        marks.keep(body)
        document = renderer.render(body, title, css)
        pages = len(document.pages)
        tried[fillers] = (pages, document, marks, title)
        if pages == target:
            break
        # About three filler clauses a page: jump there, then settle.
        nxt = min(most, max(0, fillers + (target - pages) * 3))
        if nxt in tried:
            nxt = min(most, max(0, fillers + (1 if pages < target else -1)))
        if nxt in tried:
            break
        fillers = nxt
    if tried[fillers][0] != target:  # the closest to the target within 2-4 pages
        ok = {k: v for k, v in tried.items() if 2 <= v[0] <= 4} or tried
        fillers = min(ok, key=lambda k: (abs(ok[k][0] - target), k))
    pages, document, marks, title = tried[fillers]
    anchors: dict[str, tuple[int, float, float]] = {}
    for number, page in enumerate(document.pages, 1):
        for name, (x, y, *_) in page.anchors.items():
            anchors[name] = (number, x, y)
    return Built(title, document.write_pdf(), pages, marks, anchors)


# --- scans ---------------------------------------------------------------------------------------------


def _stamp(
    image: Any, cx: float, cy: float, text: str, font_file: str, rng: random.Random, scale: float
) -> Any:
    """A company seal (a ring, a star and the name around it) centred on (cx, cy), in the grey a
    red seal scans to, darkening (never lightening) what is under it."""
    from PIL import Image, ImageChops, ImageDraw, ImageFont

    radius = int(0.8 * 96 * scale)  # ~42 mm across
    size = radius * 2 + 8
    layer = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(layer)
    ink = rng.randint(105, 140)
    width = max(3, radius // 18)
    draw.ellipse((4, 4, size - 4, size - 4), outline=ink, width=width)
    # The star.
    mx = my = size / 2
    outer, inner = radius * 0.28, radius * 0.11
    points = []
    for k in range(10):
        r = outer if k % 2 == 0 else inner
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((mx + r * math.cos(angle), my + r * math.sin(angle)))
    draw.polygon(points, fill=ink)
    # The name around the upper arc.
    font = ImageFont.truetype(font_file, int(radius * 0.26))
    chars = [c for c in text if not c.isspace()]
    span = math.radians(250)
    for k, char in enumerate(chars):
        angle = -math.pi / 2 - span / 2 + span * (k + 0.5) / len(chars)
        glyph = Image.new("L", (int(radius * 0.34), int(radius * 0.34)), 0)
        ImageDraw.Draw(glyph).text(
            (glyph.width / 2, glyph.height / 2), char, fill=255, font=font, anchor="mm"
        )
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        gx = mx + radius * 0.72 * math.cos(angle) - glyph.width / 2
        gy = my + radius * 0.72 * math.sin(angle) - glyph.height / 2
        layer.paste(ink, (int(gx), int(gy)), glyph)
    layer = layer.rotate(rng.uniform(-25, 25), fillcolor=255)
    left, top = int(cx - size / 2), int(cy - size / 2)
    region = image.crop((left, top, left + size, top + size))
    image.paste(ImageChops.darker(region, layer), (left, top))
    return image


def _signature_scribble(image: Any, x: float, y: float, rng: random.Random, scale: float) -> Any:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    points = []
    length = rng.uniform(1.2, 1.8) * 96 * scale
    for k in range(60):
        u = k / 59
        points.append(
            (x + u * length, y + math.sin(u * rng.uniform(8, 14)) * 8 * scale * (1 - u * 0.5))
        )
    draw.line(points, fill=rng.randint(30, 70), width=max(2, int(2 * scale)))
    return image


def scan_pages(
    pdf_path: Path,
    pages: list[int],
    dpi: int,
    rng: random.Random,
    stamps: list[tuple[int, float, float, str]],
    scribbles: list[tuple[int, float, float]],
    font_file: str,
) -> list[Any]:
    """The pages as a scanner would give them: grey, turned a little, noisy, a little blurred."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageChops, ImageFilter

    scale = dpi / 96  # CSS px -> image px
    out = []
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        for number in pages:
            page = pdf[number - 1]
            image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            page.close()
            for page_no, x, y, name in stamps:
                if page_no == number:
                    cx = (x + rng.uniform(40, 110)) * scale  # over the name, as seals are
                    cy = (y + rng.uniform(-5, 25)) * scale
                    image = _stamp(image, cx, cy, name, font_file, rng, scale)
            for page_no, x, y in scribbles:
                if page_no == number:
                    image = _signature_scribble(image, x * scale, y * scale, rng, scale)
            image = image.rotate(
                rng.uniform(-0.7, 0.7), resample=Image.Resampling.BICUBIC, fillcolor=255
            )
            low, high = rng.randint(18, 40), rng.randint(228, 246)
            image = image.point(lambda v, lo=low, hi=high: int(lo + v * (hi - lo) / 255))
            grain = Image.effect_noise((image.width // 2, image.height // 2), rng.uniform(8, 16))
            noise = grain.resize(image.size, Image.Resampling.NEAREST)
            image = ImageChops.add(image, noise, 1.0, -128)
            image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 0.8) * dpi / 300))
            out.append(image)
    finally:
        pdf.close()
    return out


def _jpeg(image: Any, dpi: int, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, dpi=(dpi, dpi))
    return buffer.getvalue()


# --- the corpus --------------------------------------------------------------------------------------


def _scan_indices(count: int, scans: int) -> set[int]:
    scans = max(0, min(scans, count))
    return {i * count // scans for i in range(scans)} if scans else set()


def generate(
    out_dir: str | Path, count: int = 40, seed: int = 22, scans: int | None = None
) -> list[Case]:
    """Write ``count`` contracts (text PDFs) and scans of ``scans`` of them (default: all) into
    ``out_dir`` with ``truth.json``; returns the cases. The same seed gives the same contracts;
    contract ``i`` does not depend on ``count``."""
    import img2pdf

    from core.pdf import font_path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    renderer = Renderer(out)
    scanned = _scan_indices(count, count if scans is None else scans)
    cases: list[Case] = []
    for i in range(count):
        language = "zh" if i % 2 == 0 else "en"
        layout = LAYOUTS[language][(i // 2) % 3]
        base = f"{seed}/{i}"
        t = draw_terms(random.Random(f"{base}/terms"), language)  # noqa: S311 - benchmark data
        w = Words(base)
        built = build_contract(t, layout, w, renderer)
        key = f"c{i + 1:03d}"
        pdf_name = f"{key}-{layout}.pdf"
        (out / pdf_name).write_bytes(built.pdf)
        truth = {
            name: _json_value(name, t[name], t)
            for name in FIELDS
            if t.get(name) is not None and name in built.marks.written
        }
        field_pages: dict[str, list[int]] = {}
        for ident, name in built.marks.fields.items():
            if ident in built.anchors:
                field_pages.setdefault(name, [])
                page = built.anchors[ident][0]
                if page not in field_pages[name]:
                    field_pages[name].append(page)
        signed = [ident for ident in built.marks.signature_ids if ident in built.anchors]
        stamps = [list(built.anchors[ident]) for ident in signed]
        case = Case(
            key=key,
            language=language,
            layout=layout,
            title=built.title,
            page_count=built.page_count,
            truth=truth,
            written={k: v for k, v in built.marks.written.items() if k in truth},
            field_pages={k: sorted(v) for k, v in field_pages.items() if k in truth},
            traps=_traps(t),
            stamps=stamps,
        )
        case.documents.append(
            Document(pdf_name, "application/pdf", "text", list(range(1, built.page_count + 1)))
        )
        if i in scanned:
            rng = random.Random(f"{base}/scan")  # noqa: S311 - benchmark data
            kind = _weighted(rng, [("pdf", 4), ("png", 1), ("jpg", 1)])
            dpi = rng.choice((200, 240, 300) if kind == "pdf" else (200, 240))
            if kind == "pdf":
                pages = list(range(1, built.page_count + 1))
            elif rng.random() < 0.7 or built.page_count < 2:
                pages = [1]
            else:
                counts = {p: 0 for p in range(1, built.page_count + 1)}
                for pages_of in case.field_pages.values():
                    for p in pages_of:
                        counts[p] += 1
                pages = [max(range(2, built.page_count + 1), key=lambda p: counts[p])]
            names = {"vendor": t["vendor"], "customer": t["customer"]}
            seal = [
                (int(s[0]), s[1], s[2], names[built.marks.fields[ident]])
                for s, ident in zip(stamps, signed, strict=True)
            ]
            stamp_list = seal if language == "zh" else []
            scribble_list = [(p, x + 60, y + 40) for p, x, y, _ in seal] if language == "en" else []
            images = scan_pages(
                out / pdf_name, pages, dpi, rng, stamp_list, scribble_list, str(font_path())
            )
            quality = rng.randint(70, 80)
            if kind == "pdf":
                name = f"{key}-scan.pdf"
                (out / name).write_bytes(
                    img2pdf.convert([_jpeg(im, dpi, quality) for im in images])
                )
            elif kind == "png":
                name = f"{key}-scan-p{pages[0]}.png"
                images[0].save(out / name, "PNG", dpi=(dpi, dpi), optimize=False)
            else:
                name = f"{key}-scan-p{pages[0]}.jpg"
                (out / name).write_bytes(_jpeg(images[0], dpi, quality))
            case.documents.append(
                Document(name, CONTENT_TYPES[Path(name).suffix], "scan", pages, dpi)
            )
        cases.append(case)
    manifest = {
        "seed": seed,
        "count": count,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "fields": list(FIELDS),
        "cases": [case.to_json() for case in cases],
    }
    (out / "truth.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return cases


def setup() -> None:
    """Django settings (core.pdf's font), no database."""
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--scans", type=int, default=None, help="contracts scanned (default: all)")
    args = parser.parse_args()
    setup()
    started = time.perf_counter()
    cases = generate(args.out_dir, args.count, args.seed, args.scans)
    elapsed = time.perf_counter() - started
    pages = sum(c.page_count for c in cases)
    scans = [d for c in cases for d in c.documents if d.kind == "scan"]
    print(
        f"{len(cases)} contracts ({sum(c.language == 'zh' for c in cases)} Chinese), {pages} pages, "
        f"{len(scans)} scanned documents ({sum(len(d.pages) for d in scans)} pages) "
        f"in {elapsed:.1f} s -> {args.out_dir}/truth.json"
    )


if __name__ == "__main__":
    main()
