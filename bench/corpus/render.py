"""Rendering a contract with WeasyPrint: the layouts by name, the style sheet, the truth's JSON
values and traps, and build_contract (filler clauses added until the page count is right)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.corpus.en_layouts import EN_FILLERS, en_msa, en_order
from bench.corpus.words import Marks, Words
from bench.corpus.zh_layouts import ZH_FILLERS, zh_articles, zh_order, zh_table

LAYOUT_FUNCTIONS: dict[str, Callable[[dict[str, Any], Words, Marks, int], tuple[str, str]]] = {
    "zh_articles": zh_articles,
    "zh_table": zh_table,
    "zh_order": zh_order,
    "en_msa": en_msa,
    "en_order": en_order,
}


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
