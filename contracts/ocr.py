"""OCR of scanned pages and images, inside the child process of contracts.extract (no Django here).

ocrmypdf rasterises each page (pypdfium2), runs Debian's Tesseract on it and writes the text of
every page to a sidecar file, pages separated by a form feed; no output PDF is made (output type
"none"), nothing is optimised or converted to PDF/A, so Ghostscript is not needed. The pages to
read are copied into a PDF of their own first, so the sidecar holds exactly those pages, in order.

Languages: the first page is read with the Chinese-script languages of the setting alone
(``chi_sim``); when it turns out to be in Latin script the document is read with the other
languages (``eng``), when it has both scripts with all of them. In a Chinese document, a page in
Latin script (an English appendix) is read again. Read together, Tesseract's English
model outbids the Chinese one on short bold words (甲方 came out as "AA", 乙方 as "ZA"), and each
model alone is faster than both at once. Words keep their spacing (``preserve_interword_spaces``):
a wide gap is a table's column.

OCR's text is tidied (``tidy``) before it is stored: a table's rules read as "|" (and the quote or
comma Tesseract sees beside them) become a column gap, and a label cell wrapped onto a line of its
own ("Subscription   2025-08-01" / "Start Date") is joined back to its row.

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

# Pages rasterised bigger than this are scaled down before Tesseract reads them. Chinese needs
# the pixels of an A4 page at about 300 dpi (at 205 dpi "SaaS2026…" read as "Saa92026…", in the
# same time); Latin script reads as well at about 205 dpi, and a fifth faster.
OCR_MEGAPIXELS = 9.0
OCR_MEGAPIXELS_LATIN = 4.0
DIRECT_MODES = {"1", "L", "RGB"}
SKIPPED = re.compile(r"^\[OCR skipped on page\(s\) [0-9-]+\]$")
MIN_SIDE = 16  # pixels: smaller images hold no text worth reading (and Tesseract refuses them)
# Tesseract's languages written in Chinese, Japanese or Korean script.
CJK_LANGUAGES = {"chi_sim", "chi_tra", "chi_sim_vert", "chi_tra_vert", "jpn", "jpn_vert", "kor"}
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u3040-\u30ff]")
_LATIN = re.compile(r"[A-Za-z]")
GAP = "   "
_GAP = re.compile(r"[ \t]{3,}")
# A table rule read as "|", with the stray quote or comma Tesseract often sees beside it.
_RULE = re.compile(r"[ \t]*[“”\"'‘’，,；;]?[ \t]*\|[ \t]*[“”\"'‘’，,]?[ \t]*")
_WRAPPED_LABEL = re.compile(r"^[^\d|]{1,24}$")
# Tesseract's usual misreadings in a contract's words: ¥ before an amount read as "#" or "y",
# 日期 as 目期, 增值税 with its middle character wrong.
_MISREAD = [
    (
        re.compile(r"(?<=[计为额价款费币:：(（\s])[#yY](?=\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?(?!\d))"),
        "¥",
    ),
    (re.compile(r"《(?=[^》\n]{1,10}\))"), "("),  # "甲方《采购方)": the bracket misread
    (re.compile(r"〈"), "("),
    (re.compile(r"〉"), ")"),
    (re.compile(r"目期"), "日期"),
    # A label's colon read as a semicolon ("地址; 浙江省…", "日期; 2024年…").
    (
        re.compile(
            r"(日期|地址|地点|名称|电话|联系人|户名|开户行|账号|[甲乙需供]方)[;；](?=[ \t]*\S)"
        ),
        r"\1:",
    ),
    (re.compile(r"增[什直植惟](\n?)税"), r"增值\1税"),
    (re.compile(r"[:：][ \t]*[:：;；]+"), ":"),  # "签订日期::", "乙方 (服务方) :;"
]
_QUOTES = re.compile(r"[“”\"]")


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
    return _read(source, 1, job, image_dpi=dpi[0])


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
    selected = _subset(path, pages, job, None, name="pages")
    return _read(selected, len(pages), job, image_dpi=None)


def _read(source: str, count: int, job: Job, *, image_dpi: int | None) -> list[str]:
    """The pages read in the document's script (see the module's docstring): the first page with
    the Chinese-script languages; when it is in Latin script (or both), every page with the
    other languages (or all). In a Chinese document, a page that turns out Latin or mixed is
    read again."""
    languages = job.languages.split("+")
    first = [name for name in languages if name in CJK_LANGUAGES]
    others = [name for name in languages if name not in CJK_LANGUAGES]
    if not first or not others:
        return [tidy(page) for page in _ocrmypdf(source, count, job, languages, image_dpi)]
    # As many pages as are read at once: the cores would be idle while the first page is read.
    lead = list(range(min(count, _workers())))
    head = _ocrmypdf(_subset(source, lead, job, image_dpi), len(lead), job, first, image_dpi)
    script = page_script(head[0])
    if script != "cjk":
        names = others if script == "latin" else languages
        return [tidy(page) for page in _ocrmypdf(source, count, job, names, image_dpi)]
    pages = head
    if count > len(lead):
        rest = list(range(len(lead), count))
        pages += _ocrmypdf(_subset(source, rest, job, image_dpi), len(rest), job, first, image_dpi)
    again: dict[str, list[int]] = {}
    for number, text in enumerate(pages):
        if (script := page_script(text)) != "cjk":
            again.setdefault(script, []).append(number)
    for script, numbers in again.items():
        names = others if script == "latin" else languages
        subset = _subset(source, numbers, job, image_dpi)
        texts = _ocrmypdf(subset, len(numbers), job, names, image_dpi)
        for number, text in zip(numbers, texts, strict=True):
            pages[number] = text
    return [tidy(page) for page in pages]


def _workers() -> int:
    return min(4, len(os.sched_getaffinity(0)))


def _subset(
    source: str, numbers: list[int], job: Job, image_dpi: int | None, *, name: str = ""
) -> str:
    """A PDF of the given pages (0-based) of the PDF ``source``, in that order, in the job's
    folder; an image (``image_dpi`` given) is its own only page."""
    if image_dpi is not None:
        return source
    import pikepdf

    name = name or f"pages-{'-'.join(map(str, numbers[:3]))}-{len(numbers)}"
    subset = job.work / f"{name}.pdf"
    with pikepdf.open(source) as whole, pikepdf.new() as target:
        for number in numbers:
            target.pages.append(whole.pages[number])
        target.save(subset)
    return str(subset)


def page_script(text: str) -> str:
    """ "cjk", "latin" or "mixed": which script a page read with a Chinese model is in, counted in
    words (a Chinese character is about a word, an English word about five letters). Chinese
    contracts have Latin letters too (product names, e-mail addresses), English ones a Chinese
    name or two. A page without text is "cjk": there is nothing to read again."""
    cjk, words = len(_CJK.findall(text)), len(_LATIN.findall(text)) / 5
    if cjk >= 2 * words:
        return "cjk"
    return "latin" if cjk <= max(3, words / 10) else "mixed"


def tidy(page: str) -> str:
    """OCR's table artefacts tidied: rules ("|") become column gaps; a label cell wrapped onto a
    short line of its own is joined back to the row above it; usual misreadings corrected."""
    for pattern, replacement in _MISREAD:
        page = pattern.sub(replacement, page)
    lines = [_lone_quote(_RULE.sub(GAP, line)).rstrip() for line in page.split("\n")]
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        # The label's other line follows, sometimes after a blank line (Tesseract reads a table
        # cell by cell when its rules are faint).
        step = 2 if index + 2 < len(lines) and not lines[index + 1].strip() else 1
        following = lines[index + step].strip() if index + step < len(lines) else ""
        cells = _GAP.split(line.strip())
        if (
            len(cells) == 2  # a label and its value (a table's header row has more cells)
            and _WRAPPED_LABEL.match(cells[0])
            and following
            and not _GAP.search(following)
            and _WRAPPED_LABEL.match(following)
            # short: a word or two, one after a blank line ("Date", "(users)"; "Renewal Price"
            # after a blank line is the next row's label)
            and (
                len(following) <= (6 if step == 1 else 4)
                if _CJK.search(following)
                else len(following.split()) <= (2 if step == 1 else 1)
            )
        ):
            joiner = "" if _CJK.search(cells[0][-1] + following[0]) else " "
            out.append(f"{cells[0]}{joiner}{following}{GAP}{cells[1]}")
            index += step + 1
            continue
        out.append(line)
        index += 1
    return "\n".join(out)


def _lone_quote(line: str) -> str:
    """A quotation mark without its pair on the line is a gap Tesseract saw as one ("第一条“服务
    内容", "2025年8月4日”签订地点"); quoted words ("以下简称“甲方”") keep theirs."""
    quotes = _QUOTES.findall(line)
    if len(quotes) == 1 and re.search(r"[\u4e00-\u9fff\d][“”\"]\s*[\u4e00-\u9fff]", line):
        return _QUOTES.sub(" ", line)
    return line


def _ocrmypdf(
    source: str, count: int, job: Job, languages: list[str], image_dpi: int | None
) -> list[str]:
    """Run ocrmypdf in a thread and wait until ``job.deadline``; past that, kill its Tesseract
    (and any other child) and wait for them, so nothing is left running."""
    sidecar = job.work / "text.txt"
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            _run_ocrmypdf(source, sidecar, job, languages, image_dpi)
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


def _run_ocrmypdf(
    source: str, sidecar: Path, job: Job, languages: list[str], image_dpi: int | None
) -> None:
    import ocrmypdf
    from PIL import Image

    options: dict[str, Any] = {
        "language": languages,
        "output_type": "none",  # only the sidecar text: no PDF is written
        "sidecar": str(sidecar),
        "mode": "force",  # every page given is read from its image, whatever text it has
        "jobs": _workers(),
        "use_threads": True,  # the work is in Tesseract's processes; threads only wait
        "optimize": 0,
        "deskew": False,
        "rotate_pages": False,
        "rasterizer": "pypdfium",
        "plugins": ["contracts.ocr_raster"],  # pages rendered at the size read (see there)
        "pdf_renderer": "sandwich",  # Tesseract writes the page's text itself: the cheapest
        "tesseract_oem": 1,  # the LSTM engine (Debian's data is the fast LSTM models)
        "tesseract_timeout": max(1.0, job.deadline - time.monotonic()),
        "max_image_mpixels": job.max_pixels / 1_000_000,
        "max_ocr_image_mpixels": (
            OCR_MEGAPIXELS if CJK_LANGUAGES.intersection(languages) else OCR_MEGAPIXELS_LATIN
        ),
        "progress_bar": False,
    }
    config = job.work / "tesseract.cfg"
    config.write_text("preserve_interword_spaces 1\n", encoding="ascii")
    options["tesseract_config"] = [str(config)]
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
