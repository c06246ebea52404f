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
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The parts, in bench/corpus/: records (FIELDS, Document, Case, load), words (numbers, money and
# dates as written, the parties, Marks, Words), draw (a contract's terms), zh_writer/zh_layouts and
# en_writer/en_layouts (the wording and the layouts), render (WeasyPrint, build_contract) and scan.
from bench.corpus.draw import _weighted, draw_terms  # noqa: E402
from bench.corpus.records import CONTENT_TYPES, FIELDS, LAYOUTS, Case, Document, load  # noqa: E402
from bench.corpus.render import Built, Renderer, _json_value, _traps, build_contract  # noqa: E402
from bench.corpus.scan import _jpeg, scan_pages  # noqa: E402
from bench.corpus.words import Words, zh_money_upper, zh_number  # noqa: E402

# The names other code imports from here (bench/bench_contract_terms.py, the tests).
__all__ = ["FIELDS", "Case", "Document", "generate", "load", "setup", "zh_money_upper", "zh_number"]


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
            case.documents.append(_scan(out, pdf_name, case, t, built, stamps, signed, rng))
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


def _scan(
    out: Path,
    pdf_name: str,
    case: Case,
    t: dict[str, Any],
    built: Built,
    stamps: list[list[Any]],
    signed: list[str],
    rng: random.Random,
) -> Document:
    """Scan the contract: all its pages as an image-only PDF, or one page as a PNG or JPEG, with a
    seal (Chinese) or a signature (English) over the signature block. Returns the scan's file."""
    import img2pdf

    from core.pdf import font_path

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
    stamp_list = seal if case.language == "zh" else []
    scribble_list = [(p, x + 60, y + 40) for p, x, y, _ in seal] if case.language == "en" else []
    images = scan_pages(
        out / pdf_name, pages, dpi, rng, stamp_list, scribble_list, str(font_path())
    )
    quality = rng.randint(70, 80)
    if kind == "pdf":
        name = f"{case.key}-scan.pdf"
        (out / name).write_bytes(img2pdf.convert([_jpeg(im, dpi, quality) for im in images]))
    elif kind == "png":
        name = f"{case.key}-scan-p{pages[0]}.png"
        images[0].save(out / name, "PNG", dpi=(dpi, dpi), optimize=False)
    else:
        name = f"{case.key}-scan-p{pages[0]}.jpg"
        (out / name).write_bytes(_jpeg(images[0], dpi, quality))
    return Document(name, CONTENT_TYPES[Path(name).suffix], "scan", pages, dpi)


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
