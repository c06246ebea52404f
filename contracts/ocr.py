"""OCR of scanned pages and images, inside the child process of contracts.extract (no Django here).

ocrmypdf rasterises each page (pypdfium2), runs Debian's Tesseract on it and writes the text of
every page to a sidecar file, pages separated by a form feed; no output PDF is made (output type
"none"), nothing is optimised or converted to PDF/A, so Ghostscript is not needed. The pages to
read are copied into a PDF of their own first, so the sidecar holds exactly those pages, in order.

Images: the pixel size is read from the header (no decoding) and an image over the limit is
refused before anything is decoded (a 20,000 x 20,000 PNG of one colour is a few kilobytes).
Images with transparency are flattened onto white (Tesseract's PDF input takes no alpha); an image
without a credible resolution gets one from its size (a page-sized scan).
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Pages rasterised bigger than this are scaled down before Tesseract reads them: an A4 page at
# about 205 dpi (a 300 dpi scan costs a quarter more time, for text that reads the same).
OCR_MEGAPIXELS = 4.0
DIRECT_MODES = {"1", "L", "RGB"}
SKIPPED = re.compile(r"^\[OCR skipped on page\(s\) [0-9-]+\]$")
MIN_SIDE = 16  # pixels: smaller images hold no text worth reading (and Tesseract refuses them)


class TooLarge(Exception):
    """The image (or a page's raster) has more pixels than the limit."""

    def __init__(self, width: int = 0, height: int = 0) -> None:
        super().__init__(f"{width} x {height} pixels")
        self.width, self.height = width, height


class TimedOut(Exception):
    """OCR ran past its time; its Tesseract processes are killed and reaped."""


@dataclass(frozen=True)
class Job:
    languages: str  # Tesseract's "chi_sim+eng"
    max_pixels: int
    deadline: float  # time.monotonic() when OCR must have stopped
    work: Path  # the temporary folder the parent made (and removes)


def image_size(path: str) -> tuple[int, int]:
    """Width and height from the image's header; nothing is decoded."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # the limit is ours (below), checked before any decoding
    with Image.open(path) as image:
        return image.size


def read_image(path: str, job: Job) -> list[str]:
    """The text of one PNG or JPEG scan (one page)."""
    from PIL import Image

    width, height = image_size(path)
    if width * height > job.max_pixels:
        raise TooLarge(width, height)
    if min(width, height) < MIN_SIDE:
        return [""]
    source = path
    with Image.open(path) as image:
        dpi = image.info.get("dpi")
        if not dpi or min(float(dpi[0]), float(dpi[1])) <= 96:
            # As if a page (11.7 inches on its long side, A4), but 200-400 dpi: Tesseract reads
            # small text badly when told the resolution is lower than that.
            dpi = (min(400, max(200, round(max(width, height) / 11.7))),) * 2
        dpi = (round(float(dpi[0])), round(float(dpi[1])))
        if image.mode not in DIRECT_MODES or "transparency" in image.info:
            source = str(job.work / "image.png")
            _flattened(image).save(source, dpi=dpi)
    return _ocrmypdf(source, 1, job, image_dpi=dpi[0])


def _flattened(image: Any) -> Any:
    from PIL import Image

    if image.mode in ("I", "I;16", "I;16B", "F"):
        return image.convert("L")
    rgba = image.convert("RGBA")
    white = Image.new("RGB", rgba.size, (255, 255, 255))
    white.paste(rgba, mask=rgba.getchannel("A"))
    return white


def read_pdf_pages(path: str, pages: list[int], job: Job) -> list[str]:
    """The text of the given pages (0-based) of a PDF, read by OCR, in that order."""
    import pikepdf

    selected = job.work / "pages.pdf"
    with pikepdf.open(path) as source, pikepdf.new() as target:
        for number in pages:
            target.pages.append(source.pages[number])
        target.save(selected)
    return _ocrmypdf(str(selected), len(pages), job, image_dpi=None)


def _ocrmypdf(source: str, count: int, job: Job, *, image_dpi: int | None) -> list[str]:
    """Run ocrmypdf in a thread and wait until ``job.deadline``; past that, kill its Tesseract
    (and any other child) and wait for them, so nothing is left running."""
    sidecar = job.work / "text.txt"
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            _run_ocrmypdf(source, sidecar, job, image_dpi)
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(max(0.0, job.deadline - time.monotonic()))
    if worker.is_alive():
        kill_children()
        raise TimedOut
    if "error" in outcome:
        raise outcome["error"]
    return split_sidecar(sidecar.read_text(encoding="utf-8"), count)


def _run_ocrmypdf(source: str, sidecar: Path, job: Job, image_dpi: int | None) -> None:
    import ocrmypdf
    from PIL import Image

    options: dict[str, Any] = {
        "language": job.languages.split("+"),
        "output_type": "none",  # only the sidecar text: no PDF is written
        "sidecar": str(sidecar),
        "mode": "force",  # every page given is read from its image, whatever text it has
        "jobs": min(4, len(os.sched_getaffinity(0))),
        "use_threads": True,  # the work is in Tesseract's processes; threads only wait
        "optimize": 0,
        "deskew": False,
        "rotate_pages": False,
        "rasterizer": "pypdfium",
        "pdf_renderer": "sandwich",  # Tesseract writes the page's text itself: the cheapest
        "tesseract_oem": 1,  # the LSTM engine (Debian's data is the fast LSTM models)
        "tesseract_timeout": max(1.0, job.deadline - time.monotonic()),
        "max_image_mpixels": job.max_pixels / 1_000_000,
        "max_ocr_image_mpixels": OCR_MEGAPIXELS,
        "progress_bar": False,
    }
    if image_dpi:
        options["image_dpi"] = image_dpi
    try:
        ocrmypdf.ocr(source, "-", **options)
    except Image.DecompressionBombError as exc:
        raise TooLarge() from exc


def split_sidecar(text: str, count: int) -> list[str]:
    """ocrmypdf's sidecar as the text of each page."""
    pages = ["" if SKIPPED.match(part.strip()) else part.strip() for part in text.split("\f")]
    if len(pages) != count:
        raise RuntimeError(f"OCR returned {len(pages)} pages of text for {count} pages")
    return pages


def kill_children() -> None:
    """Kill every process this one started (Tesseract, and theirs) and reap them: a killed OCR
    leaves no process behind, not even a zombie. Repeated until none is left, in case ocrmypdf's
    threads started the next page meanwhile."""
    import psutil

    me = psutil.Process()
    quiet = 0
    while quiet < 3:
        children = me.children(recursive=True)
        quiet = 0 if children else quiet + 1
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(children, timeout=5)
        time.sleep(0.02)
