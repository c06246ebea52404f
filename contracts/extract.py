"""Text out of a contract file, run as its own process (contracts.textread starts it):

    python -m contracts.extract layer FILE RESULT [--max-chars N]
    python -m contracts.extract ocr FILE CONTENT_TYPE RESULT --seconds S --languages L
        --max-pixels P [--pages 0,1,2]

``layer`` reads a PDF's text layer page by page (pypdf) and what the pages hold (the largest
image, so the caller knows which pages are scans); ``ocr`` reads the given PDF pages or the image
by OCR (contracts.ocr). Each writes one JSON verdict to RESULT (written whole, then renamed).

No Django here. The caller runs this in a session of its own with a time limit and kills the
whole process group when it is over; this process also limits its memory and CPU, stops its own
OCR at ``--seconds`` (killing and reaping Tesseract), and kills its group if it is ever still
running well after that (should the worker that started it be gone).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

MEMORY = {"layer": 1 << 30, "ocr": 2 << 30}  # bytes of address space, per process
PAGE_CHARS = 100_000  # of one page's text layer (a page, not a book)


def read_layer(path: str, max_chars: int) -> dict[str, Any]:
    """Every page's text until ``max_chars`` are read, the page count, and of each read page its
    largest image in pixels and its area in square inches; ``{"status": "encrypted"}`` for an
    encrypted PDF (no password is tried)."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted:
        return {"status": "encrypted", "page_count": None}
    count = len(reader.pages)
    pages: list[str] = []
    images: list[int] = []
    areas: list[float] = []
    written = 0
    for page in reader.pages:
        if written >= max_chars:
            break
        text = (page.extract_text() or "")[:PAGE_CHARS]
        pages.append(text)
        images.append(largest_image(page))
        unit = float(page.get("/UserUnit", 1) or 1)
        areas.append(
            abs(float(page.mediabox.width) * float(page.mediabox.height)) * (unit / 72) ** 2
        )
        written += len(text)
    return {
        "status": "ok",
        "page_count": count,
        "pages": pages,
        "images": images,
        "areas": areas,
    }


def largest_image(page: Any) -> int:
    """Pixels of the largest image the page draws (its own, or inside its forms), read from the
    image dictionaries: nothing is decoded."""
    from pypdf.generic import DictionaryObject

    largest, seen = 0, set[int]()
    stack = [(page.get("/Resources"), 0)]
    while stack:
        resources, depth = stack.pop()
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
        xobjects = xobjects.get_object() if xobjects is not None else None
        if not isinstance(xobjects, DictionaryObject):
            continue
        for ref in xobjects.values():
            key = getattr(ref, "idnum", None) or id(ref)
            if key in seen or len(seen) > 10_000:
                continue
            seen.add(key)
            xobject = ref.get_object()
            if not isinstance(xobject, DictionaryObject):
                continue
            if xobject.get("/Subtype") == "/Image":
                width, height = xobject.get("/Width", 0), xobject.get("/Height", 0)
                if isinstance(width, int) and isinstance(height, int):
                    largest = max(largest, width * height)
            elif xobject.get("/Subtype") == "/Form" and depth < 8:
                stack.append((xobject.get("/Resources"), depth + 1))
    return largest


def read_ocr(args: argparse.Namespace, started: float) -> dict[str, Any]:
    from contracts import ocr

    job = ocr.Job(
        languages=args.languages,
        max_pixels=args.max_pixels,
        deadline=started + args.seconds,
        work=Path(args.result).parent,
    )
    try:
        if args.content_type == "application/pdf":
            pages = [int(p) for p in args.pages.split(",") if p] if args.pages else []
            texts = ocr.read_pdf_pages(args.file, pages, job)
        else:
            texts = ocr.read_image(args.file, job)
    except ocr.TooLarge as exc:
        return {"status": "too_large", "width": exc.width, "height": exc.height}
    except MemoryError:  # a page too big to rasterise within the memory limit
        return {"status": "too_large", "width": 0, "height": 0}
    except ocr.TimedOut:
        return {"status": "timed_out"}
    return {"status": "ok", "pages": texts}


def _limit(kind: str, seconds: float) -> None:
    memory = MEMORY[kind]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # CPU seconds of each process (Tesseract inherits it): a backstop, the clock stops it first.
    cpu = int(seconds) + 30
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    # Should the worker that started this be gone, nothing of it outlives this alarm.
    signal.signal(signal.SIGALRM, lambda *_: os.killpg(0, signal.SIGKILL))
    signal.alarm(int(seconds) + 20)


def _write(result_path: str, verdict: dict[str, Any]) -> None:
    partial = f"{result_path}.part"
    with open(partial, "w", encoding="utf-8") as out:
        json.dump(verdict, out, ensure_ascii=False)
    os.replace(partial, result_path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m contracts.extract")
    commands = parser.add_subparsers(dest="command", required=True)
    layer = commands.add_parser("layer")
    layer.add_argument("file")
    layer.add_argument("result")
    layer.add_argument("--max-chars", type=int, default=2_000_000)
    layer.add_argument("--seconds", type=float, default=60)
    ocr = commands.add_parser("ocr")
    ocr.add_argument("file")
    ocr.add_argument("content_type", choices=["application/pdf", "image/png", "image/jpeg"])
    ocr.add_argument("result")
    ocr.add_argument("--seconds", type=float, required=True)
    ocr.add_argument("--languages", default="chi_sim+eng")
    ocr.add_argument("--max-pixels", type=int, required=True)
    ocr.add_argument("--pages", default="")
    return parser


def main(argv: list[str]) -> None:
    started = time.monotonic()
    args = _parser().parse_args(argv)
    _limit(args.command, args.seconds)
    logging.disable(logging.WARNING)  # pypdf's and ocrmypdf's notes on damaged files are not ours
    if args.command == "layer":
        verdict = read_layer(args.file, args.max_chars)
    else:
        verdict = read_ocr(args, started)
    _write(args.result, verdict)
    if verdict["status"] == "timed_out":
        os._exit(0)  # ocrmypdf's thread is still inside the pipeline; nothing of it is wanted


if __name__ == "__main__":
    main(sys.argv[1:])
