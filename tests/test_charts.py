"""Server-side SVG charts (core/charts.py): escaped text, nothing active, CJK widths."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree

from core.charts import bar_chart, line_chart, nice_ceiling, shorten, text_width

HOSTILE = [
    "<img src=http://169.254.169.254>",
    "<link rel=attachment href=file:///etc/passwd>",
    "@import url(http://169.254.169.254/x.css);",
    "<script>alert(1)</script>\x00\x07",
]


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 - our own output, checked to be well-formed


def test_hostile_labels_are_text_and_nothing_active_is_drawn() -> None:
    charts = [
        bar_chart([(name, 3) for name in HOSTILE], title=HOSTILE[0], unit="%"),
        line_chart(["2026-01", HOSTILE[1]], [(name, [1, 2]) for name in HOSTILE], title=HOSTILE[2]),
    ]
    for svg in charts:
        root = parse(svg)  # well-formed: the control characters were dropped
        tags = {el.tag.split("}")[-1] for el in root.iter()}
        assert tags <= {"svg", "title", "text", "rect", "line", "circle", "polyline"}
        for el in root.iter():
            assert not {k for k in el.attrib if "href" in k or k.startswith("on") or k == "style"}
        assert "<img" not in svg and "<link" not in svg and "<script" not in svg
        assert "&lt;img src=http://169.254.169.254&gt;" in svg


def test_bars_scale_to_the_maximum_and_show_missing_values() -> None:
    svg = bar_chart([("研发", Decimal("50.0")), ("市场", None)], max_value=100, unit="%", width=400)
    root = parse(svg)
    texts = [el.text for el in root.iter() if el.tag.endswith("text")]
    assert texts == ["研发", "50%", "市场", "—"]
    bars = [el for el in root.iter() if el.tag.endswith("rect") and el.get("fill") != "#f1f3f5"]
    track = [el for el in root.iter() if el.tag.endswith("rect") and el.get("fill") == "#f1f3f5"]
    assert float(bars[0].get("width", "")) * 2 == float(track[0].get("width", ""))


def test_cjk_counts_wide_and_long_labels_are_shortened() -> None:
    assert text_width("研发", 10) == 20 and text_width("ab", 10) == 12
    short = shorten("研发中心" * 20, 100)
    assert short.endswith("…") and text_width(short) <= 100
    assert nice_ceiling(7.5) == 10 and nice_ceiling(0.3) == 0.5 and nice_ceiling(0) == 1


def test_empty_charts_say_so() -> None:
    assert "No data" in bar_chart([], title="x") or "无数据" in bar_chart([], title="x")
    assert parse(line_chart([], [], title="t")) is not None


def test_value_labels_round_decimals_as_decimals() -> None:
    from decimal import Decimal

    from core.charts import default_format

    # Through a float, 2.25 prints "2.2" (half to even) and 0.35 "0.3" (not exact in binary);
    # money rounds half up like every amount the product shows.
    assert default_format(Decimal("2.25")) == "2.3"
    assert default_format(Decimal("0.35")) == "0.4"
    assert default_format(Decimal("12345678901234.05")) == "12,345,678,901,234.1"
    assert default_format(Decimal("7")) == "7"
    assert default_format(3) == "3"
    assert default_format(2.5) == "2.5"
