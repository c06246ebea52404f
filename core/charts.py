"""Charts drawn on the server as SVG: one path for the web page and the PDF.

A chart is a string of inline ``<svg>`` (marked safe) that a template prints as it is, on screen
and in a WeasyPrint PDF alike. The SVG is self-contained and inert:

- every piece of text (labels, titles, series names, units) is XML-escaped here, and characters
  XML does not allow are dropped, so a name like ``<img src=…>`` or ``@import url(…)`` shows as
  text and never becomes markup;
- no ``<script>``, no event attributes, no ``<a>``/``href``/``xlink:href``, no ``<image>``, no
  ``<style>`` or ``style="…"`` (presentation attributes only, so the site's CSP that forbids
  inline styles holds and the PDF fetcher is never asked for anything);
- text uses the PDF's CJK font family first (``core.pdf.FONT_FAMILY``) and the page's font
  otherwise, so Chinese labels render in both; widths are estimated with CJK characters counted
  as wide, and labels too long for their space are shortened with "…" (the full text stays in a
  ``<title>`` tooltip).

API (all keyword arguments optional):

``bar_chart(items, *, title="", unit="", max_value=None, width=640, bar_height=18,
label_width=None, fmt=None, color=None) -> SafeString``
    Horizontal bars, one per ``(label, value)`` in ``items`` (in the given order). ``value`` is an
    int, float or Decimal, or ``None`` for "no data" (drawn as an empty row with "—"). The scale
    runs from 0 to ``max_value`` (default: the largest value; e.g. pass 100 for percentages).
    ``unit`` is appended to each value label (e.g. "%"); ``fmt`` formats a value (default:
    integers as they are, other numbers with one decimal place).

``line_chart(categories, series, *, title="", unit="", y_max=None, width=640, height=220,
fmt=None) -> SafeString``
    A trend: ``categories`` are the x labels (e.g. months "2026-01"), ``series`` a sequence of
    ``(name, values)`` with one value (or ``None``, a gap in the line) per category. The y axis
    runs from 0 to ``y_max`` (default: the largest value rounded up to a "nice" number). With more
    than one series a legend is drawn below.

Both return an empty-state SVG (the title and "no data") when there is nothing to draw. Sizes
are in CSS pixels; the SVG carries a ``viewBox`` so a stylesheet may scale it (``max-width:
100%; height: auto``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeAlias

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

Number: TypeAlias = int | float | Decimal
Formatter: TypeAlias = Callable[[Number], str]

# The PDF's merged CJK font first (core.pdf.FONT_FAMILY; spelled out here so that importing
# the charts does not import WeasyPrint's configuration), the page's fonts next.
FONT_STACK = "'Renewal Desk Sans', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"
PALETTE = ("#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#d63384", "#20c997", "#6c757d", "#dc3545")
TEXT = "#212529"
MUTED = "#6c757d"
GRID = "#dee2e6"
FONT_SIZE = 12
SMALL = 10

# Characters XML 1.0 does not allow (C0 controls other than tab/newline/CR, lone surrogates,
# U+FFFE/U+FFFF): an SVG containing one would not parse.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text(value: object) -> str:
    """``value`` as escaped XML text (for element content and attribute values)."""
    cleaned = _NOT_XML.sub("", str(value))
    return (
        cleaned.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


def text_width(value: str, size: float = FONT_SIZE) -> float:
    """Estimated width in px: wide (CJK) characters count as one em, others as 0.6 em."""
    return sum(
        size if unicodedata.east_asian_width(ch) in ("W", "F") else size * 0.6 for ch in value
    )


def shorten(value: str, width: float, size: float = FONT_SIZE) -> str:
    """``value`` cut to fit ``width`` px, ending in "…" when it was cut."""
    value = " ".join(_NOT_XML.sub("", str(value)).split())
    if text_width(value, size) <= width:
        return value
    out, used, room = "", 0.0, width - size * 0.6
    for ch in value:
        w = text_width(ch, size)
        if used + w > room:
            break
        out, used = out + ch, used + w
    return out + "…"


def default_format(value: Number) -> str:
    """Whole numbers as they are, others with one decimal place. Decimals (money) are rounded
    as Decimals, half up, never through a float."""
    if isinstance(value, int) or (isinstance(value, Decimal | float) and value == int(value)):
        return f"{int(value):,}"
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):,}"
    return f"{value:,.1f}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^n at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude + 1e-9:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _svg(width: float, height: float, title: str, body: list[str]) -> SafeString:
    label = text(title)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="{FONT_STACK}" font-size="{FONT_SIZE}" aria-label="{label}">'
        f"<title>{label}</title>"
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text is escaped above


def _title_line(title: str, width: float) -> list[str]:
    if not title:
        return []
    shown = text(shorten(title, width - 8, FONT_SIZE + 1))
    return [f'<text x="4" y="16" font-size="{FONT_SIZE + 1}" fill="{TEXT}">{shown}</text>']


def _empty(title: str, width: float) -> SafeString:
    top = 24 if title else 0
    body = _title_line(title, width)
    body.append(f'<text x="4" y="{top + 18}" fill="{MUTED}">{text(_("No data"))}</text>')
    return _svg(width, top + 28, title, body)


def bar_chart(
    items: Sequence[tuple[str, Number | None]],
    *,
    title: str = "",
    unit: str = "",
    max_value: Number | None = None,
    width: int = 640,
    bar_height: int = 18,
    label_width: int | None = None,
    fmt: Formatter | None = None,
    color: str | None = None,
) -> SafeString:
    """Horizontal bars for ``(label, value)`` pairs; see the module docstring."""
    fmt = fmt or default_format
    rows = [(str(label), value) for label, value in items]
    if not rows:
        return _empty(title, width)
    values = [float(v) for _label, v in rows if v is not None]
    scale = float(max_value) if max_value is not None else max(values, default=0.0)
    scale = scale if scale > 0 else 1.0
    if label_width is None:
        longest = max(text_width(label) for label, _v in rows)
        label_width = int(min(max(math.ceil(longest) + 12, 60), width * 0.4))
    value_room = 70 + text_width(unit)
    track = max(width - label_width - value_room - 8, 40)
    top = 24 if title else 4
    gap = 6
    fill = color or PALETTE[0]
    body = _title_line(title, width)
    for index, (label, value) in enumerate(rows):
        y = top + index * (bar_height + gap)
        middle = y + bar_height / 2 + FONT_SIZE * 0.35
        shown = shorten(label, label_width - 8)
        tip = f"<title>{text(label)}</title>" if shown != label else ""
        body.append(
            f'<text x="{label_width - 6}" y="{middle:.1f}" text-anchor="end" fill="{TEXT}">'
            f"{tip}{text(shown)}</text>"
        )
        body.append(
            f'<rect x="{label_width}" y="{y}" width="{track:.1f}" height="{bar_height}" '
            f'fill="#f1f3f5"/>'
        )
        if value is None:
            figure = "—"
        else:
            length = max(0.0, min(float(value) / scale, 1.0)) * track
            body.append(
                f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
                f'fill="{fill}"/>'
            )
            figure = fmt(value) + unit
        body.append(
            f'<text x="{label_width + track + 6:.1f}" y="{middle:.1f}" fill="{TEXT}">'
            f"{text(figure)}</text>"
        )
    height = top + len(rows) * (bar_height + gap) + 2
    return _svg(width, height, title, body)


def line_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number | None]]],
    *,
    title: str = "",
    unit: str = "",
    y_max: Number | None = None,
    width: int = 640,
    height: int = 220,
    fmt: Formatter | None = None,
) -> SafeString:
    """A trend line per ``(name, values)`` over ``categories``; see the module docstring."""
    fmt = fmt or default_format
    categories = [str(c) for c in categories]
    lines = [(str(name), list(values)) for name, values in series]
    numbers = [float(v) for _n, values in lines for v in values if v is not None]
    if not categories or not numbers:
        return _empty(title, width)
    top = 28 if title else 10
    legend_rows = math.ceil(len(lines) / 3) if len(lines) > 1 else 0
    plot_bottom = height - 28 - legend_rows * 18
    # Four grid steps of a "nice" size (0, 10, 20, 30, 40 rather than 0, 12.5, 25 …).
    ceiling = float(y_max) if y_max is not None else 4 * nice_ceiling(max(numbers) / 4)
    ceiling = ceiling if ceiling > 0 else 1.0
    ticks = [ceiling * i / 4 for i in range(5)]
    # Room for the y labels on the left, and for half an x label at either end.
    half_label = max(text_width(c, SMALL) for c in categories) / 2
    left = max(10 + max(text_width(fmt(_number(t)) + unit, SMALL) for t in ticks), 4 + half_label)
    right = width - 4 - half_label
    span = max(len(categories) - 1, 1)

    def x_at(index: int) -> float:
        if len(categories) == 1:
            return (left + right) / 2
        return left + (right - left) * index / span

    def y_at(value: float) -> float:
        return plot_bottom - (plot_bottom - top) * max(0.0, min(value / ceiling, 1.0))

    body = _title_line(title, width)
    for tick in ticks:
        y = y_at(tick)
        body.append(
            f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        body.append(
            f'<text x="{left - 4:.1f}" y="{y + 3:.1f}" text-anchor="end" font-size="{SMALL}" '
            f'fill="{MUTED}">{text(fmt(_number(tick)) + unit)}</text>'
        )
    slot = (right - left) / max(len(categories), 1)
    every = max(1, math.ceil(max(text_width(c, SMALL) for c in categories) / max(slot, 1)))
    for index, category in enumerate(categories):
        if index % every and index != len(categories) - 1:
            continue
        body.append(
            f'<text x="{x_at(index):.1f}" y="{plot_bottom + 14:.1f}" text-anchor="middle" '
            f'font-size="{SMALL}" fill="{MUTED}">{text(category)}</text>'
        )
    for number, (name, values) in enumerate(lines):
        colour = PALETTE[number % len(PALETTE)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for index, value in enumerate(values[: len(categories)]):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            point = f"{x_at(index):.1f},{y_at(float(value)):.1f}"
            segment.append(point)
            body.append(
                f'<circle cx="{point.split(",")[0]}" cy="{point.split(",")[1]}" r="2.5" '
                f'fill="{colour}"><title>{text(f"{name} {categories[index]}: {fmt(value)}{unit}")}'
                "</title></circle>"
            )
        if segment:
            segments.append(segment)
        for points in segments:
            if len(points) > 1:
                body.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"/>'
                )
    if legend_rows:
        column = (width - 8) / 3
        for number, (name, _values) in enumerate(lines):
            x = 4 + (number % 3) * column
            y = plot_bottom + 30 + (number // 3) * 18
            colour = PALETTE[number % len(PALETTE)]
            body.append(
                f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>'
            )
            body.append(
                f'<text x="{x + 14:.1f}" y="{y:.1f}" font-size="{SMALL}" fill="{TEXT}">'
                f"{text(shorten(name or _('Whole subscription'), column - 20, SMALL))}</text>"
            )
    return _svg(width, height, title, body)


def _number(value: float) -> Number:
    return int(value) if value == int(value) else value


__all__ = ["bar_chart", "line_chart", "nice_ceiling", "shorten", "text", "text_width"]
