"""The key-term reader on fixed texts, with exact expected values (no database)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.terms.extract import answers, extract_terms
from tests.contracts.terms.samples import CHINESE, ENGLISH


def read(*pages: str) -> dict[str, Any]:
    return answers(extract_terms(list(pages)))


def test_chinese_contract_every_term() -> None:
    assert read(CHINESE) == {
        "number": "HT-2026-0315",
        "vendor": "北京云帆软件有限公司",
        "customer": "上海星河科技有限公司",
        "signed_on": "2026-02-20",
        "valid_from": "2026-03-01",
        "valid_to": "2027-02-28",
        "term_months": 12,
        "seats": 200,
        "amount": {"amount": "150000.00", "currency": "CNY", "tax_included": True},
        "billing_cycle": "one_off",
        "payment_terms": 30,
        "auto_renew": True,
        "notice_days": 60,
        "list_price": True,
        "termination": "vendor_only",
        "personal_info": True,
        "data_location": "CN",
    }


def test_english_contract_every_term() -> None:
    assert read(ENGLISH) == {
        "number": "SSA-2026-0042",
        "vendor": "Nimbus Cloud Inc.",
        "customer": "Shanghai Galaxy Technology Co., Ltd.",
        "signed_on": "2026-02-15",
        "valid_from": "2026-03-01",
        "valid_to": "2027-02-28",
        "term_months": 12,
        "seats": 250,
        "amount": {"amount": "48000.00", "currency": "USD", "tax_included": False},
        "billing_cycle": "annual",
        "payment_terms": 30,
        "auto_renew": True,
        "notice_days": 90,
        "price_cap": "7.00",
        "termination": "both",
        "data_return": True,
        "personal_info": True,
        "data_location": "SG",
    }


def test_each_found_term_keeps_its_sentence_page_and_place() -> None:
    found = extract_terms(["第一页没有条款。", CHINESE])
    notice = next(item for item in found if item.field == "notice_days")
    assert notice.page == 2
    assert notice.sentence[notice.start : notice.end] == notice.text == "六十日"
    assert "书面通知" in notice.sentence


@pytest.mark.parametrize(
    ("sentence", "field", "value"),
    [
        (
            "合同总价为人民币壹拾伍万元整。",
            "amount",
            {"amount": "150000.00", "currency": "CNY", "tax_included": None},
        ),
        (
            "年费合计15万元(不含税)。",
            "amount",
            {"amount": "150000.00", "currency": "CNY", "tax_included": False},
        ),
        (
            "合同金额:RMB 86,500.50,含税。",
            "amount",
            {"amount": "86500.50", "currency": "CNY", "tax_included": True},
        ),
        (
            "The total fees are US$12,000 inclusive of VAT.",
            "amount",
            {"amount": "12000.00", "currency": "USD", "tax_included": True},
        ),
        ("甲方应在合同到期前提前三十日书面通知乙方不再续约。", "notice_days", 30),
        ("续费时需提前一个月书面通知对方,否则合同自动续期。", "notice_days", 30),
        (
            "Either party may give notice of non-renewal no less than 45 days before expiry.",
            "notice_days",
            45,
        ),
        ("续约价格涨幅不超过5%。", "price_cap", "5.00"),
        ("续费价格上调幅度不超过百分之八。", "price_cap", "8.00"),
        ("本合同有效期自2026年3月1日至2027年2月28日止。", "valid_to", "2027-02-28"),
        ("本合同期限为二〇二六年三月一日至二〇二七年二月二十八日。", "valid_from", "2026-03-01"),
        ("This Agreement is for a period of twenty-four (24) months.", "term_months", 24),
        ("本合同为期三年。", "term_months", 36),
        ("授权用户数:伍佰个。", "seats", 500),
        ("Number of Users: 1,200", "seats", 1200),
        ("合同到期后不自动续期。", "auto_renew", False),
        ("This Agreement shall not automatically renew.", "auto_renew", False),
        ("Fees are invoiced quarterly in advance.", "billing_cycle", "quarterly"),
        ("费用按月结算。", "billing_cycle", "monthly"),
        ("Payment terms: net 45 from the invoice date.", "payment_terms", 45),
        ("合同终止后三十日内,乙方应向甲方返还全部数据。", "data_return", True),
        (
            "All Customer Data shall be stored within the People's Republic of China.",
            "data_location",
            "CN",
        ),
        ("Renewal shall be at Provider's then-current list price.", "list_price", True),
        ("任何一方均不得提前解除本合同。", "termination", "none"),
    ],
)
def test_wordings(sentence: str, field: str, value: Any) -> None:
    assert read(sentence).get(field) == value


def test_a_date_that_does_not_exist_is_flagged_not_guessed() -> None:
    found = extract_terms(["本合同有效期自2026年2月30日起至2027年2月28日止。"])
    start = next(item for item in found if item.field == "valid_from")
    assert start.value is None and start.problem == "invalid_date" and start.text == "2026年2月30日"
    assert "valid_from" not in answers(found)


def test_two_notice_periods_contradict_and_neither_is_preferred() -> None:
    found = extract_terms([
        "合同期满自动续期,甲方如不续约应提前三十日书面通知乙方。",
        "第九条 如甲方不再续约,须在到期前至少提前九十日书面通知乙方。",
    ])  # fmt: skip
    notices = [item for item in found if item.field == "notice_days"]
    assert sorted(item.value for item in notices) == [30, 90]
    assert all(item.conflict for item in notices)
    assert "notice_days" not in answers(found)


def test_amounts_in_two_currencies_are_both_shown_as_contradicting() -> None:
    found = extract_terms(["The total fees are USD 12,000 (approximately RMB 86,000)."])
    amounts = [item for item in found if item.field == "amount"]
    assert {item.value["currency"] for item in amounts} == {"USD", "CNY"}
    assert all(item.conflict for item in amounts)


def test_filler_clauses_say_nothing() -> None:
    assert (
        read(
            "第八条 保密 双方应对在履行本合同过程中知悉的对方商业秘密承担保密义务,保密期限为五年。",
            "Each party shall keep the other's Confidential Information confidential for 3 years.",
            "违约方应在收到书面通知后三十日内纠正其违约行为。",
        )
        == {}
    )


def test_ocr_spacing_and_full_width_characters_are_read_like_text() -> None:
    ocr = "本 合 同 总 金 额 为 人 民 币 １５０，０００．００ 元 (含 税)。\n合 同 期 满 后 自 动 续 期 , 如 不 续 约 须 提 前 ６０ 日 书 面 通 知 。"
    assert read(ocr) == {
        "amount": {"amount": "150000.00", "currency": "CNY", "tax_included": True},
        "auto_renew": True,
        "notice_days": 60,
    }


def test_an_order_table_read_by_ocr_as_two_sentences_still_gives_its_seats() -> None:
    # OCR leaves a blank line between a table's header and its row, and reads the dash of an
    # empty unit price as 一 with the spaces around it gone.
    header = "产品名称 版本 数量 单价(元/ 服务期 小计\n(账 账号/年)"
    row = "简道低代码开发平台 标准版 150 一 见下文 432,000.00"
    assert read(f"二、订购明细\n{header}\n\n{row}")["seats"] == 150
    english = (
        "Product Edition Quantity (users) Unit Price / user / year\n\nEndpoint Standard 2000 — "
    )
    assert read(english)["seats"] == 2000


def test_a_blank_line_inside_an_english_sentence_does_not_end_it() -> None:
    text = (
        "5.3 Subscriber may terminate this Agreement without cause on 30 days' written notice.\n"
        "5.4 Either party may terminate this Agreement by written notice if the other party\n\n"
        "materially breaches this Agreement and fails to cure the breach within ten (10) days.\n"
    )
    assert read(text)["termination"] == "customer"


def test_a_seals_letters_are_no_party() -> None:
    found = read(
        "供方：上海简道网络科技有限公司\n\n(以下无正文)\n需方(盖章)：上澄明德供方(盖章)：公司公司"
    )
    assert found["vendor"] == "上海简道网络科技有限公司"


def test_ocr_misreadings_give_no_value_rather_than_a_wrong_one() -> None:
    # "¥900,000.00" with its first digit misread: the 大写 amount beside it is the answer.
    found = read("3.1 本合同总金额为竟00,000.00元(大写: 人民币玖拾万元整)，该金额不含增值税。")
    assert found["amount"] == {"amount": "900000.00", "currency": "CNY", "tax_included": False}
    assert "customer" not in read("甲方(盖章)乙方(盖章)公司")
    signed = read("法定代表人或授权代表\n2024年09月13日 日期: 2024年09月13日")
    assert signed["signed_on"] == "2024-09-13"
