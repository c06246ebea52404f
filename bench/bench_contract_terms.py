#!/usr/bin/env python
"""Key terms read from contracts (issue #22, "Measured, not claimed"): precision and recall per
field, and the reading + extraction time per page, on a generated corpus with known terms.

    .venv/bin/python bench/bench_contract_terms.py [--count 40] [--scans 12] [--seed 22]
                                                   [--corpus DIR] [--errors 3]

The corpus (bench/contract_corpus.py, its parts in bench/corpus/): ``--count`` Chinese and English
software-subscription contracts (five layouts, several wordings per term, 2-4 pages each) as text
PDFs, and ``--scans`` of them scanned (an image-only PDF of every page, or one page as a PNG or
JPEG). It is written to a temporary folder and removed afterwards, or with ``--corpus DIR`` written
there once and reused by later runs (a folder that already has a truth.json is read, not
regenerated).

Each document goes through what the application runs: ``contracts.textread.read_text`` (the text
layer, or OCR in its child process) and ``contracts.terms.extract.extract_terms``. The answer for a
field is its value when every ``Found`` of the field gives the same value and none is marked as a
conflict; otherwise the field has no answer ("undecided" when something was found). Values compare
after normalisation: strings stripped (inner runs of white space as one space), numbers as
numbers, amounts as amount + currency + tax_included, the price cap as a decimal. Per field:
precision = correct answers / answers given, recall = correct answers / documents whose truth has
the field (an answer for a field the document does not state counts against precision). A single
scanned page is scored against the terms mentioned on that page.

Targets: precision >= 0.97 and recall >= 0.90 per field on text PDFs, >= 0.90 / 0.80 on scans;
<= 3 s per scanned page (read + extract). Prints one table per kind of document, the time per page
(median and p95), the documents' read status, a few wrong answers per field (``--errors``), and a
last line naming the fields under target. Figures, no assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.contract_corpus import FIELDS, Case, Document, generate, load, setup  # noqa: E402

TARGETS = {"text": (0.97, 0.90), "scan": (0.90, 0.80)}
SCAN_SECONDS_PER_PAGE = 3.0
KIND_NAMES = {"text": "text PDFs", "scan": "scans"}
INT_FIELDS = {"term_months", "seats", "payment_terms", "notice_days"}
BOOL_FIELDS = {"auto_renew", "list_price", "data_return", "personal_info"}


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"[load {one:.2f} {five:.2f} {fifteen:.2f}]"


def p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[94]


def tesseract_version() -> str:
    try:
        out = subprocess.run(
            ["tesseract", "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "tesseract not found"
    return (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else "?"


def normalise(name: str, value: Any) -> Any:
    """A value in a form that compares exactly; ``("invalid", …)`` for a value of the wrong form
    (which then matches no truth)."""
    if value is None:
        return None
    try:
        if name == "amount":
            if not isinstance(value, dict):
                return ("invalid", repr(value))
            amount = Decimal(str(value.get("amount"))).quantize(Decimal("0.01"))
            currency = str(value.get("currency") or "").strip().upper()
            return (str(amount), currency, value.get("tax_included"))
        if name == "price_cap":
            if isinstance(value, bool):
                return ("invalid", repr(value))
            return str(Decimal(str(value).strip()).quantize(Decimal("0.01")))
        if name in INT_FIELDS:
            if isinstance(value, bool) or not str(value).strip().lstrip("-").isdigit():
                return ("invalid", repr(value))
            return int(str(value).strip())
        if name in BOOL_FIELDS:
            return value if isinstance(value, bool) else ("invalid", repr(value))
    except (InvalidOperation, ValueError, TypeError):
        return ("invalid", repr(value))
    if isinstance(value, str):
        return " ".join(value.split())
    return value


def answers_of(found: list[Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The extractor's answer per field, and the fields found but left undecided (values)."""
    by_field: dict[str, list[Any]] = defaultdict(list)
    for item in found:
        by_field[item.field].append(item)
    answers: dict[str, Any] = {}
    undecided: dict[str, list[Any]] = {}
    for name, items in by_field.items():
        values = [normalise(name, i.value) for i in items if i.value is not None]
        if not values:
            continue
        if any(i.conflict for i in items) or len({repr(v) for v in values}) > 1:
            undecided[name] = [i.value for i in items]
            continue
        answers[name] = items[0].value
    return answers, undecided


@dataclass
class Score:
    truth: int = 0
    answers: int = 0
    correct: int = 0
    undecided: int = 0
    mistakes: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.correct / self.answers if self.answers else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.truth if self.truth else None


@dataclass
class Run:
    case: Case
    document: Document
    status: str
    source: str
    note: str
    read_seconds: float
    extract_seconds: float
    answers: dict[str, Any]
    undecided: dict[str, list[Any]]
    error: str = ""

    @property
    def seconds_per_page(self) -> float:
        return (self.read_seconds + self.extract_seconds) / max(1, len(self.document.pages))


def run_document(case: Case, document: Document, corpus: Path, read_text: Any, extract: Any) -> Run:
    started = time.perf_counter()
    result = read_text(str(corpus / document.path), document.content_type)
    read_done = time.perf_counter()
    found: list[Any] = []
    error = ""
    if result.status == "done":
        try:
            found = extract(list(result.pages))
        except Exception as exc:  # noqa: BLE001 - a crash is a figure too: no answers
            error = f"{type(exc).__name__}: {exc}"[:200]
    else:
        error = getattr(result, "error", "") or ""
    finished = time.perf_counter()
    answers, undecided = answers_of(found)
    return Run(
        case, document, result.status, getattr(result, "source", ""),
        getattr(result, "note", "") or "", read_done - started, finished - read_done,
        answers, undecided, error,
    )  # fmt: skip


def score(runs: list[Run]) -> dict[str, Score]:
    scores = {name: Score() for name in FIELDS}
    for run in runs:
        truth = run.case.truth_for(run.document)
        where = f"{run.document.path}"
        for name in FIELDS:
            s = scores[name]
            expected = truth.get(name)
            if expected is not None:
                s.truth += 1
            if name in run.undecided:
                s.undecided += 1
                if expected is not None:
                    s.mistakes.append(
                        f"{where}: undecided {run.undecided[name]!r}, truth {expected!r}"
                    )
            if name not in run.answers:
                if expected is not None and name not in run.undecided:
                    s.mistakes.append(f"{where}: not found, truth {expected!r}")
                continue
            s.answers += 1
            answer = run.answers[name]
            if expected is not None and normalise(name, answer) == normalise(name, expected):
                s.correct += 1
            else:
                s.mistakes.append(
                    f"{where}: answered {answer!r}, truth {expected!r}"
                    if expected is not None
                    else f"{where}: answered {answer!r}, the document does not state it"
                )
    return scores


def fmt(value: float | None) -> str:
    return "   —  " if value is None else f"{value:6.3f}"


def passes(s: Score, kind: str) -> bool:
    want_p, want_r = TARGETS[kind]
    precision_ok = s.precision is None or s.precision >= want_p
    recall_ok = s.recall is None or s.recall >= want_r
    return precision_ok and recall_ok


def print_table(kind: str, runs: list[Run], errors: int) -> list[str]:
    want_p, want_r = TARGETS[kind]
    pages = sum(len(r.document.pages) for r in runs)
    print(
        f"\n{KIND_NAMES[kind]}: {len(runs)} documents, {pages} pages "
        f"(targets: precision >= {want_p:.2f}, recall >= {want_r:.2f} per field)"
    )
    scores = score(runs)
    print(
        f"  {'field':<14} {'truth':>5} {'answers':>7} {'correct':>7} {'wrong':>5} "
        f"{'undecided':>9} {'precision':>9} {'recall':>7}  result"
    )
    under = []
    for name in FIELDS:
        s = scores[name]
        ok = passes(s, kind)
        if not ok:
            under.append(name)
        print(
            f"  {name:<14} {s.truth:>5} {s.answers:>7} {s.correct:>7} {s.answers - s.correct:>5} "
            f"{s.undecided:>9} {fmt(s.precision):>9} {fmt(s.recall):>7}  {'PASS' if ok else 'FAIL'}"
        )
    total = Score(
        truth=sum(s.truth for s in scores.values()),
        answers=sum(s.answers for s in scores.values()),
        correct=sum(s.correct for s in scores.values()),
        undecided=sum(s.undecided for s in scores.values()),
    )
    print(
        f"  {'all fields':<14} {total.truth:>5} {total.answers:>7} {total.correct:>7} "
        f"{total.answers - total.correct:>5} {total.undecided:>9} {fmt(total.precision):>9} "
        f"{fmt(total.recall):>7}"
    )
    # By language and layout: where the misses are.
    groups: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        groups[run.case.layout].append(run)
    parts = []
    for layout in sorted(groups):
        by_field = score(groups[layout])
        c = sum(x.correct for x in by_field.values())
        a = sum(x.answers for x in by_field.values())
        t = sum(x.truth for x in by_field.values())
        parts.append(
            f"{layout} ({len(groups[layout])}) {c / a if a else 0:.2f}/{c / t if t else 0:.2f}"
        )
    print("  precision/recall by layout: " + ", ".join(parts))
    # Time per page.
    per_page = [r.seconds_per_page for r in runs]
    read = [r.read_seconds / len(r.document.pages) for r in runs]
    extract = [r.extract_seconds / len(r.document.pages) for r in runs]
    whole = sum(r.read_seconds + r.extract_seconds for r in runs)
    if runs:
        print(
            f"  time per page (read + extract): median {statistics.median(per_page):.3f} s, "
            f"p95 {p95(per_page):.3f} s, max {max(per_page):.3f} s; read median "
            f"{statistics.median(read):.3f} s, extract median {statistics.median(extract):.3f} s; "
            f"{whole:.1f} s for all {pages} pages ({whole / max(1, pages):.3f} s a page)"
        )
    statuses = Counter(
        f"{r.status}/{r.source or '-'}" + (f" ({r.note})" if r.note else "") for r in runs
    )
    print("  read: " + ", ".join(f"{n} {k}" for k, n in statuses.most_common()))
    crashed = [r for r in runs if r.error]
    for r in crashed[:5]:
        print(f"  ! {r.document.path}: {r.status}: {r.error}")
    if errors:
        shown = False
        for name in FIELDS:
            for line in scores[name].mistakes[:errors]:
                if not shown:
                    print(f"  mistakes (up to {errors} per field):")
                    shown = True
                print(f"    {name}: {line}")
    return under


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=40, help="contracts (text PDFs)")
    parser.add_argument("--scans", type=int, default=12, help="scanned documents")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--corpus", help="write the corpus here and reuse it on later runs")
    parser.add_argument("--errors", type=int, default=3, help="wrong answers shown per field")
    args = parser.parse_args()
    setup()

    try:
        from contracts.terms.extract import extract_terms
        from contracts.textread import read_text
    except ImportError as exc:
        sys.exit(
            "bench_contract_terms: the reader is not there yet, nothing to measure "
            f"({exc}). It needs contracts.textread.read_text and "
            "contracts.terms.extract.extract_terms."
        )

    temporary = None
    if args.corpus:
        corpus = Path(args.corpus)
    else:
        temporary = tempfile.TemporaryDirectory(prefix="contract-corpus-")
        corpus = Path(temporary.name)
    try:
        if (corpus / "truth.json").exists():
            cases = load(corpus)
            made = f"reused {corpus}"
        else:
            started = time.perf_counter()
            cases = generate(corpus, args.count, args.seed, args.scans)
            made = f"generated in {time.perf_counter() - started:.1f} s"
        text_docs = [(c, d) for c in cases for d in c.documents if d.kind == "text"]
        scan_docs = [(c, d) for c in cases for d in c.documents if d.kind == "scan"][: args.scans]
        kinds = Counter(Path(d.path).suffix.lstrip(".") for _, d in scan_docs)
        print(
            f"contract terms: {len(cases)} contracts ({sum(c.language == 'zh' for c in cases)} "
            f"Chinese, {sum(c.language == 'en' for c in cases)} English; "
            f"{sum(c.page_count for c in cases)} pages), {len(scan_docs)} scanned documents "
            f"({sum(len(d.pages) for _, d in scan_docs)} pages: "
            + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            + f"); corpus {made}"
        )
        print(
            f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {platform.node()}, "
            f"{os.cpu_count()} CPUs, {platform.platform(terse=True)}, Python "
            f"{platform.python_version()}, {tesseract_version()} {load_average()}",
            flush=True,
        )
        under: dict[str, list[str]] = {}
        slow = None
        for kind, docs in (("text", text_docs), ("scan", scan_docs)):
            if not docs:
                continue
            runs = []
            for case, document in docs:
                runs.append(run_document(case, document, corpus, read_text, extract_terms))
            under[kind] = print_table(kind, runs, args.errors)
            if kind == "scan":
                median = statistics.median(r.seconds_per_page for r in runs)
                slow = (median, p95([r.seconds_per_page for r in runs]))
        print()
        parts = [f"{KIND_NAMES[k]}: {', '.join(v) if v else 'none'}" for k, v in under.items()]
        if slow is not None:
            verdict = ", ".join(
                f"{label} {'met' if value <= SCAN_SECONDS_PER_PAGE else 'MISSED'}"
                for label, value in (("median", slow[0]), ("p95", slow[1]))
            )
            parts.append(
                f"scanned page {slow[0]:.2f} s median, {slow[1]:.2f} s p95 "
                f"(target <= {SCAN_SECONDS_PER_PAGE:.0f} s: {verdict})"
            )
        print("fields under target: " + "; ".join(parts) + f" {load_average()}")
    finally:
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    main()
