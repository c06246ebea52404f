"""The text of a contract file, for search and key terms: ``read_text(path, content_type)``.

PDF pages with a text layer are read from it; scanned pages (no text) and images are read by
OCR (Tesseract, CONTRACT_OCR_LANGUAGES). A page with a text layer over a large image (a scan with
a hidden text layer) is read by OCR too and the two compared: a layer that says something else
than its page shows is replaced by what OCR read, and the result says so (note
"layer_mismatch"). Only the first CONTRACT_OCR_MAX_PAGES pages that need OCR are read (note
"pages_limited"); a text layer is read whole, up to search.MAX_TEXT characters.

All the reading happens in child processes (``python -m contracts.extract``, no Django), each in
a session of its own with a memory limit, inside one time budget (CONTRACT_OCR_TIMEOUT for the
whole document, CONTRACT_EXTRACT_TIMEOUT at most for the text layer), with a temporary folder
that is removed whatever happens. A child stops its own OCR at the limit (killing and reaping
Tesseract); should it not, its whole process group is killed. Encrypted PDFs, images over
CONTRACT_OCR_MAX_PIXELS and timeouts come back as their own status with a reason for the page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from contracts import search
from contracts.models import ContractDocument

Text, Source, Note = ContractDocument.Text, ContractDocument.Source, ContractDocument.Note
TYPES = ("application/pdf", "image/png", "image/jpeg")  # what contracts.files accepts
# A page whose largest image has at least this many pixels is a scan (A4 at ~75 dpi): if it has
# a text layer too, OCR checks that the layer says what the page shows.
SCAN_PIXELS = 500_000
COMPARE_CHARS = 20  # fewer letters than this in a page's layer: nothing to compare, OCR reads it
SIMILAR = 0.5  # character-bigram similarity (Dice) under which a layer contradicts its page
RASTER_DPI = 200  # the least resolution OCR renders a page at (pixels = its area x this²)
GRACE = 5.0  # seconds a child gets past its own time limit before its process group is killed
_WORDS = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class TextResult:
    status: str  # a ContractDocument.Text value
    pages: list[str]  # text per page (empty unless status == "done")
    source: str  # ContractDocument.Source value, "" when no text
    note: str  # ContractDocument.Note value or ""
    page_count: int | None
    error: str  # a translated, user-facing reason (<= 300 chars), "" when fine


@dataclass(frozen=True)
class _Run:
    verdict: dict[str, Any] | None  # the child's JSON; None when it failed or was killed
    timed_out: bool
    error: str  # the last line the child wrote to stderr


def read_text(path: str, content_type: str) -> TextResult:
    """The text of one stored file (PDF, PNG or JPEG), read within the time budget."""
    deadline = time.monotonic() + settings.CONTRACT_OCR_TIMEOUT
    work = Path(tempfile.mkdtemp(prefix="contract-text-"))
    try:
        if content_type == "application/pdf":
            return _read_pdf(path, work, deadline)
        result = _ocr(path, content_type, [], work, deadline)
        if isinstance(result, TextResult):
            return result
        return _finish(result, ocr_pages=[0] if result and result[0] else [], page_count=1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _read_pdf(path: str, work: Path, deadline: float) -> TextResult:
    budget = _left(deadline)
    seconds = min(float(settings.CONTRACT_EXTRACT_TIMEOUT), budget)
    result = work / "layer.json"
    args = ["layer", path, str(result), "--max-chars", str(search.MAX_TEXT), "--seconds"]
    run = _run([*args, str(seconds)], result, seconds, work)
    if run.timed_out:
        limit = settings.CONTRACT_EXTRACT_TIMEOUT if seconds < budget else None
        return _timed_out(limit or settings.CONTRACT_OCR_TIMEOUT)
    if run.verdict is None:
        return _failed(run.error)
    if run.verdict["status"] == "encrypted":
        error = _(
            "The PDF is encrypted or password-protected, so its text cannot be read. Upload an "
            "unprotected copy (for example, print it to PDF)."
        )
        return TextResult(Text.ENCRYPTED, [], "", "", None, error)
    pages: list[str] = run.verdict["pages"]
    count: int = run.verdict["page_count"]
    images: list[int] = run.verdict["images"]
    raster = [max(i, a * RASTER_DPI**2) for i, a in zip(images, run.verdict["areas"], strict=True)]
    wanted = [i for i, text in enumerate(pages) if not _letters(text) or images[i] >= SCAN_PIXELS]
    too_big = [i for i in wanted if raster[i] > settings.CONTRACT_OCR_MAX_PIXELS]
    if any(not _letters(pages[i]) for i in too_big):
        return _too_large_page(too_big[0] + 1)
    wanted = [i for i in wanted if i not in too_big]  # such a page keeps its text layer
    limited = len(wanted) > settings.CONTRACT_OCR_MAX_PAGES
    wanted = wanted[: settings.CONTRACT_OCR_MAX_PAGES]
    if not wanted:
        return _finish(pages, ocr_pages=[], page_count=count)
    read = _ocr(path, "application/pdf", wanted, work, deadline)
    if isinstance(read, TextResult):
        return replace(read, page_count=count)
    used, mismatch = [], False
    for number, text in zip(wanted, read, strict=True):
        layer = _letters(pages[number])
        if len(layer) < COMPARE_CHARS:
            if len(_letters(text)) > len(layer):
                pages[number] = text
                used.append(number)
        elif similarity(layer, _letters(text)) < SIMILAR:
            pages[number], mismatch = text, True
            used.append(number)
    note = Note.LAYER_MISMATCH if mismatch else Note.PAGES_LIMITED if limited else ""
    return _finish(pages, ocr_pages=used, page_count=count, note=note)


def _ocr(
    path: str, content_type: str, pages: list[int], work: Path, deadline: float
) -> list[str] | TextResult:
    """The OCR text of the PDF's ``pages`` (0-based) or of the image; a TextResult when it
    could not be read."""
    seconds = _left(deadline)
    result = work / "ocr.json"
    run = _run(
        ["ocr", path, content_type, str(result), "--seconds", str(seconds),
         "--languages", settings.CONTRACT_OCR_LANGUAGES,
         "--max-pixels", str(settings.CONTRACT_OCR_MAX_PIXELS),
         "--pages", ",".join(str(p) for p in pages)],
        result, seconds + GRACE, work,
    )  # fmt: skip
    verdict = run.verdict
    if run.timed_out or (verdict and verdict["status"] == "timed_out"):
        return _timed_out(settings.CONTRACT_OCR_TIMEOUT)
    if verdict is None:
        return _failed(run.error)
    if verdict["status"] == "too_large":
        if content_type == "application/pdf":
            return _too_large_page(None)
        error = _(
            "The image is %(width)s × %(height)s pixels, more than the %(limit)s megapixels that "
            "are read. Scan it at a lower resolution."
        ) % {
            "width": verdict["width"],
            "height": verdict["height"],
            "limit": settings.CONTRACT_OCR_MAX_PIXELS // 1_000_000,
        }
        return TextResult(Text.TOO_LARGE, [], "", "", 1, error[:300])
    texts: list[str] = verdict["pages"]
    return texts


def _finish(
    pages: list[str], *, ocr_pages: list[int], page_count: int, note: str = ""
) -> TextResult:
    if not any(_letters(page) for page in pages):
        return TextResult(Text.NONE, [], "", note, page_count, "")
    source = Source.OCR if any(_letters(pages[i]) for i in ocr_pages) else Source.LAYER
    return TextResult(Text.DONE, pages, source, note, page_count, "")


def _timed_out(seconds: float) -> TextResult:
    error = _("Reading the text took longer than %(seconds)s seconds; it was stopped.") % {
        "seconds": round(seconds)
    }
    return TextResult(Text.TIMED_OUT, [], "", "", None, error)


def _failed(error: str) -> TextResult:
    return TextResult(
        Text.FAILED, [], "", "", None, error[:300] or _("The file could not be read.")
    )


def _too_large_page(number: int | None) -> TextResult:
    limit = settings.CONTRACT_OCR_MAX_PIXELS // 1_000_000
    if number is None:
        error = _("A page of this PDF is larger than the %(limit)s megapixels that are read.") % {
            "limit": limit
        }
    else:
        error = _(
            "Page %(page)s of this PDF is larger than the %(limit)s megapixels that are read."
        ) % {"page": number, "limit": limit}
    return TextResult(Text.TOO_LARGE, [], "", "", None, error[:300])


def _letters(text: str) -> str:
    """Only letters, digits and CJK characters, lower case: what two readings are compared on."""
    return _WORDS.sub("", text.lower())


def similarity(first: str, second: str) -> float:
    """Dice coefficient of the character bigrams of two texts (1.0: the same bigrams)."""
    a = Counter(first[i : i + 2] for i in range(len(first) - 1))
    b = Counter(second[i : i + 2] for i in range(len(second) - 1))
    total = sum(a.values()) + sum(b.values())
    return 2 * sum((a & b).values()) / total if total else 1.0


def _left(deadline: float) -> float:
    return max(0.1, deadline - time.monotonic())


def _run(args: list[str], result: Path, seconds: float, work: Path) -> _Run:
    """``python -m contracts.extract ARGS`` in a session of its own, its temporary files in
    ``work``; after ``seconds`` its whole process group is killed."""
    env = {**os.environ, "TMPDIR": str(work), "OMP_THREAD_LIMIT": "1"}
    with open(work / f"{args[0]}.err", "w+b") as err:
        child = subprocess.Popen(  # noqa: S603 - our own module, paths we made
            [sys.executable, "-m", "contracts.extract", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=str(settings.BASE_DIR),
            env=env,
            start_new_session=True,
        )
        try:
            ended = _wait(child.pid, seconds)
        finally:
            # The child is not reaped yet (alive or a zombie), so its process group id is still
            # ours: whatever is left in the group is killed, then the child is reaped.
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            child.wait()
        if not ended:
            return _Run(None, True, "")
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines() or [""]
    if child.returncode != 0 or not result.exists():
        error = lines[-1] or _("exit status %(code)s") % {"code": child.returncode}
        # The reason is shown on the page: without the server's paths.
        error = error.replace(str(work), "…").replace(args[1], os.path.basename(args[1]))
        return _Run(None, False, error)
    return _Run(json.loads(result.read_text(encoding="utf-8")), False, "")


def _wait(pid: int, seconds: float) -> bool:
    """Whether the child ended within ``seconds``; it is left unreaped (WNOWAIT)."""
    end = time.monotonic() + seconds
    while True:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(0.05)
