"""Amounts on screen and in PDFs: thousands separators, a real minus, 万 / K-M short forms with
the exact amount on hover (core/money.py, core/templatetags/money.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from core.money import format_money, short_money


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("35545"), "35,545.00"),
        (Decimal("35545.5"), "35,545.50"),
        (Decimal("1234567.891"), "1,234,567.89"),
        (Decimal("0.005"), "0.01"),  # half up, as the ledger rounds
        (Decimal("2.675"), "2.68"),  # would be 2.67 through a float
        (Decimal("999.995"), "1,000.00"),
        (Decimal("-12.345"), "\u221212.35"),
        (Decimal("-1200000"), "\u22121,200,000.00"),
        (Decimal("-0.001"), "0.00"),  # no minus in front of a zero
        (Decimal("0"), "0.00"),
        (12000, "12,000.00"),
        ("4500.5", "4,500.50"),
        (None, "—"),
        ("", "—"),
        ("n/a", "—"),
        (Decimal("NaN"), "—"),
    ],
)
def test_money_writes_separators_and_two_places(value: object, shown: str) -> None:
    assert format_money(value) == shown


def test_money_takes_the_number_of_places() -> None:
    assert format_money(Decimal("1250000.50"), 0) == "1,250,001"
    assert format_money(Decimal("-99.94"), 1) == "\u221299.9"


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (Decimal("9999.99"), "9,999.99", "9,999.99"),  # below 10,000: the exact amount
        (Decimal("10000"), "1万", "10K"),
        (Decimal("35545"), "3.55万", "35.5K"),
        (Decimal("125000"), "12.5万", "125K"),
        (Decimal("1250000"), "125万", "1.25M"),
        (Decimal("1450000"), "145万", "1.45M"),
        (Decimal("12345678"), "1235万", "12.3M"),
        (Decimal("99995000"), "1亿", "100M"),  # 9,999.5万 rounds up into the next unit
        (Decimal("123456789"), "1.23亿", "123M"),
        (Decimal("999999"), "100万", "1M"),
        (Decimal("-1250000"), "\u2212125万", "\u22121.25M"),
        (None, "—", "—"),
    ],
)
def test_money_short_in_wan_for_chinese_and_k_m_for_english(
    value: Decimal | None, zh: str, en: str
) -> None:
    assert short_money(value, "zh-hans") == zh
    assert short_money(value, "en") == en
    with translation.override("zh-hans"):
        assert short_money(value) == zh
    with translation.override("en"):
        assert short_money(value) == en


def _render(source: str, **context: object) -> str:
    return Template("{% load money %}" + source).render(Context(context))


def test_the_filters_in_a_template_keep_the_exact_amount_on_hover() -> None:
    with translation.override("zh-hans"):
        assert _render("{{ v|money }}", v=Decimal("1250000")) == "1,250,000.00"
        assert _render("{{ v|money:0 }}", v=Decimal("1250000")) == "1,250,000"
        assert _render("{{ v|money_short }}", v=Decimal("1250000")) == (
            '<span class="money-short" title="1,250,000.00">125万</span>'
        )
        assert _render("{{ v|money_short }}", v=Decimal("500")) == "500.00"
        assert _render("{{ v|money }}", v=None) == "—"
    with translation.override("en"):
        assert _render("{{ v|money_short }}", v=Decimal("125000")) == (
            '<span class="money-short" title="125,000.00">125K</span>'
        )
