"""Chinese wording: ZhWriter writes one contract's clauses with the mentions marked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from bench.corpus.words import (
    BANKS,
    ZH_DIGITS,
    Marks,
    Words,
    _person_zh,
    _phone,
    grouped,
    zh_date,
    zh_money_upper,
    zh_number,
)


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
