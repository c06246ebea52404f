"""Contract wording's raw material: numbers, money and dates as contracts write them, the
parties and products, marking a field's mentions (Marks), seeded wording choices (Words), names
and phone numbers, and filling {C}/{V} into clauses."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

from bench.corpus.records import FIELDS

T = TypeVar("T")


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


# --- filling clauses -------------------------------------------------------------------------


def _fill(text: str, C: str, V: str) -> str:
    if text.replace("{C}", "").replace("{V}", "").isupper():  # a clause in capitals
        C, V = C.upper(), V.upper()
    return text.replace("{C}", C).replace("{V}", V)


def _order(w: Words, key: str, items: list[T]) -> list[T]:
    items = list(items)
    w.rng(key).shuffle(items)
    return items
