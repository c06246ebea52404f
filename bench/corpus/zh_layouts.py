"""The Chinese layouts (zh_articles, zh_table, zh_order) and their filler clauses."""

from __future__ import annotations

import re
from typing import Any

from bench.corpus.words import Marks, Words, _fill, _order, _person_zh, _phone, grouped, zh_number
from bench.corpus.zh_writer import ZhWriter

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


def _zh_filler_block(number: str, title: str, clauses: list[str], C: str, V: str) -> str:
    body = "".join(f"<p>{i}. {_fill(c, C, V)}</p>" for i, c in enumerate(clauses, 1))
    return f"<h2>{number}　{title}</h2>{body}"


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
