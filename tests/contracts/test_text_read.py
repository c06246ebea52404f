"""Text for every document (#22): PDFs read from their text layer, scans and images by OCR
(Tesseract, Chinese and English), in child processes with a time limit; and every bad input gets
its own status: encrypted, 500 pages, a decompression-bomb image, a text layer that contradicts
its page, OCR that runs out of time (nothing left running, no temporary file left)."""

from __future__ import annotations

import base64
import io
import struct
import tempfile
import threading
import time
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import pikepdf
import psutil
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from contracts import ocr, services
from contracts.models import Contract, ContractDocument
from contracts.selectors import contract_list, contract_search
from contracts.textread import TextResult, read_text
from tests.conftest import Cast
from tests.contracts.helpers import client_for, make_pdf, upload

CLAUSE = "第八条 本合同到期自动续约一年，书面通知可终止。"
ENGLISH = "Renewal notice thirty days."
OTHER = "甲方应于每年一月支付全部服务费用并承担违约金百分之二十。"


@pytest.fixture(autouse=True)
def own_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary folders of the reader go here, so a test sees whatever is left behind."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def leftovers(folder: Path) -> list[str]:
    """What is left in the temporary folder (WeasyPrint's own folders, made while the test builds
    its files, are not the reader's)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("weasyprint-"))


# --- files ----------------------------------------------------------------------------------


@cache
def typeset(body: str, size: str = "14cm 7cm", font_size: str = "14pt") -> bytes:
    """A PDF with a real text layer (WeasyPrint, our CJK font)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from core.pdf import FONT_FAMILY, font_path

    fonts = FontConfiguration()
    face = CSS(
        string=f"@font-face {{ font-family: '{FONT_FAMILY}'; src: url('{font_path().as_uri()}'); }}"
        f"@page {{ size: {size}; margin: 0.8cm }} "
        f"body {{ font-family: '{FONT_FAMILY}'; font-size: {font_size} }}",
        font_config=fonts,
    )
    return HTML(string=body).write_pdf(stylesheets=[face], font_config=fonts)


def rasterize(pdf: bytes, dpi: int = 200) -> list[Image.Image]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72, grayscale=True).to_pil() for page in document]
    finally:
        document.close()


@cache
def scan(text: str = CLAUSE, dpi: int = 200) -> Image.Image:
    """A scanned page: the typeset text as pixels only."""
    return rasterize(typeset(f"<p>{text}</p><p>{ENGLISH}</p>"), dpi)[0]


def image_pdf(images: list[Image.Image], dpi: int = 200) -> bytes:
    """A PDF of images only (no text layer), as a scanner makes it."""
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return out.getvalue()


def encoded(image: Image.Image, kind: str, dpi: int | None = 200) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **({"dpi": (dpi, dpi)} if dpi else {}))
    return out.getvalue()


def hidden_layer(shown: str, hidden: str) -> bytes:
    """A scan with an invisible text layer over it (what scanners' OCR makes): the image shows
    ``shown``, the layer says ``hidden``."""
    png = encoded(scan(shown, dpi=300), "PNG", 300)
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    return typeset(
        '<div style="position:absolute;top:-0.8cm;left:-0.8cm">'
        f'<img src="{uri}" style="width:14cm;height:7cm"></div>'
        f'<p style="color:transparent">{hidden}</p><p style="color:transparent">{ENGLISH}</p>'
    )


def many_pages(count: int, *, image: Image.Image | None = None) -> bytes:
    """A PDF of ``count`` small pages: each with a line of text (Helvetica), or each showing
    the same image (one image object, so the file stays small)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                           BaseFont=pikepdf.Name.Helvetica)
    )  # fmt: skip
    picture = None
    if image is not None:
        gray = image.convert("L")
        picture = pdf.make_stream(
            zlib.compress(gray.tobytes()), Type=pikepdf.Name.XObject,
            Subtype=pikepdf.Name.Image, Width=gray.width, Height=gray.height,
            ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8,
            Filter=pikepdf.Name.FlateDecode,
        )  # fmt: skip
    for number in range(1, count + 1):
        if picture is None:
            width, height = 200, 60
            content = f"BT /F1 10 Tf 10 25 Td (Clause {number} renews yearly) Tj ET".encode()
        else:
            width, height = int(picture.Width) * 72 // 200, int(picture.Height) * 72 // 200
            content = f"q {width} 0 0 {height} 0 0 cm /Im0 Do Q".encode()
        resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        if picture is not None:
            resources.XObject = pikepdf.Dictionary(Im0=picture)
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, width, height], Resources=resources,
            Contents=pdf.make_stream(content),
        )  # fmt: skip
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A 1-bit PNG of one colour: 400 megapixels in about 50 KB (written row by row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    packer = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    pixels = b"".join(packer.compress(row * 500) for _ in range(height // 500)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def read(tmp_path: Path, name: str, content: bytes, content_type: str) -> TextResult:
    path = tmp_path / name
    path.write_bytes(content)
    return read_text(str(path), content_type)


# --- reading ----------------------------------------------------------------------------------


def test_a_pdf_with_a_text_layer_is_read_from_it(tmp_path: Path, own_temp: Path) -> None:
    result = read(tmp_path, "text.pdf", make_pdf(CLAUSE), "application/pdf")
    assert (result.status, result.source, result.note, result.error) == ("done", "layer", "", "")
    assert result.page_count == 1 and "自动续约" in result.pages[0]
    assert leftovers(own_temp) == []


@pytest.mark.parametrize(
    "kind", ["image-only PDF", "PNG", "JPEG without a resolution", "PNG with transparency"]
)
def test_a_scanned_chinese_page_is_read_by_ocr(tmp_path: Path, own_temp: Path, kind: str) -> None:
    page = scan()
    if kind == "image-only PDF":
        result = read(tmp_path, "scan.pdf", image_pdf([page]), "application/pdf")
    elif kind == "PNG":
        result = read(tmp_path, "scan.png", encoded(page, "PNG"), "image/png")
    elif kind == "JPEG without a resolution":
        result = read(
            tmp_path, "scan.jpg", encoded(page.convert("RGB"), "JPEG", None), "image/jpeg"
        )
    else:
        clear = page.convert("LA")
        clear.putalpha(page.point(lambda v: 255 - v))  # black text on a transparent background
        result = read(tmp_path, "scan.png", encoded(clear, "PNG"), "image/png")
    assert (result.status, result.source, result.page_count) == ("done", "ocr", 1)
    text = result.pages[0].replace(" ", "")
    assert "本合同" in text and "续约一年" in text and "书面通知" in text
    assert "Renewal" in result.pages[0]
    assert leftovers(own_temp) == []


def test_an_encrypted_pdf_is_not_read_and_says_why(tmp_path: Path, english: Any) -> None:
    locked = io.BytesIO()
    with pikepdf.open(io.BytesIO(make_pdf(CLAUSE))) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    result = read(tmp_path, "locked.pdf", locked.getvalue(), "application/pdf")
    assert (result.status, result.pages, result.source) == ("encrypted", [], "")
    assert "password-protected" in result.error


def test_a_500_page_text_pdf_is_read_whole(tmp_path: Path) -> None:
    result = read(tmp_path, "long.pdf", many_pages(500), "application/pdf")
    assert (result.status, result.source, result.note, result.page_count) == (
        "done",
        "layer",
        "",
        500,
    )
    assert len(result.pages) == 500 and "Clause 500 renews" in result.pages[499]


def test_of_500_scanned_pages_only_the_first_are_read_by_ocr(tmp_path: Path, settings: Any) -> None:
    settings.CONTRACT_OCR_MAX_PAGES = 2
    result = read(tmp_path, "scans.pdf", many_pages(500, image=scan()), "application/pdf")
    assert (result.status, result.source, result.note) == ("done", "ocr", "pages_limited")
    assert result.page_count == 500 and len(result.pages) == 500
    assert all("续约" in page for page in result.pages[:2])
    assert not any(page.strip() for page in result.pages[2:])


def test_a_decompression_bomb_image_is_refused_without_decoding(
    tmp_path: Path, own_temp: Path, english: Any
) -> None:
    started = time.monotonic()
    result = read(tmp_path, "bomb.png", bomb_png(), "image/png")
    assert (result.status, result.pages) == ("too_large", [])
    assert "20000 × 20000 pixels" in result.error and "60 megapixels" in result.error
    assert time.monotonic() - started < 10  # the header is read, 400 megapixels are not
    assert leftovers(own_temp) == []


def test_a_scanned_pdf_page_over_the_pixel_limit_is_refused(
    tmp_path: Path, settings: Any, english: Any
) -> None:
    settings.CONTRACT_OCR_MAX_PIXELS = 100_000
    result = read(tmp_path, "scan.pdf", image_pdf([scan()]), "application/pdf")
    assert result.status == "too_large" and "Page 1" in result.error


def test_a_text_layer_that_contradicts_its_page_is_replaced_by_ocr(tmp_path: Path) -> None:
    result = read(tmp_path, "forged.pdf", hidden_layer(CLAUSE, OTHER), "application/pdf")
    assert (result.status, result.source, result.note) == ("done", "ocr", "layer_mismatch")
    assert "续约一年" in result.pages[0].replace(" ", "") and "违约金" not in result.pages[0]


def test_a_text_layer_that_matches_its_scan_is_kept(tmp_path: Path) -> None:
    result = read(tmp_path, "scanned.pdf", hidden_layer(CLAUSE, CLAUSE), "application/pdf")
    assert (result.status, result.source, result.note) == ("done", "layer", "")
    assert CLAUSE in result.pages[0].replace("\n", "")


PARTIES = "<p><b>甲方：</b>上海星河科技有限公司</p><p><b>乙方：</b>北京云帆软件有限公司</p>"
TERMINATION = "<p>Either party may terminate this Agreement for convenience.</p>"


@pytest.mark.parametrize(
    ("bodies", "chinese"),
    [((PARTIES, PARTIES, TERMINATION), True), ((TERMINATION, TERMINATION), False)],
    ids=["Chinese with an English page", "English"],
)
def test_each_page_is_read_with_its_own_scripts_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bodies: tuple[str, ...], chinese: bool
) -> None:
    # Read together, Tesseract's English model outbid the Chinese one on short bold words (甲方
    # came out as "AA"): the first page is read in Chinese; an English document then in English,
    # and an English page of a Chinese document again in English.
    calls: list[tuple[int, tuple[str, ...]]] = []
    real = ocr._ocrmypdf

    def spy(source: str, count: int, job: ocr.Job, languages: list[str], dpi: Any) -> list[str]:
        calls.append((count, tuple(languages)))
        return real(source, count, job, languages, dpi)

    monkeypatch.setattr(ocr, "_ocrmypdf", spy)
    path = tmp_path / "scan.pdf"
    path.write_bytes(image_pdf([rasterize(typeset(body))[0] for body in bodies]))
    work = tmp_path / "work"
    work.mkdir()
    job = ocr.Job("chi_sim+eng", 60_000_000, time.monotonic() + 120, work)
    pages = ocr.read_pdf_pages(str(path), list(range(len(bodies))), job)
    assert calls[0][1] == ("chi_sim",)
    assert ("chi_sim", "eng") not in [languages for _, languages in calls]
    english = [number for number, body in enumerate(bodies) if body == TERMINATION]
    assert [c for c in calls if c[1] == ("eng",)] == [(len(english), ("eng",))]
    for number, body in enumerate(bodies):
        if body == PARTIES:
            assert "甲方" in pages[number] and "乙方" in pages[number]
        else:
            assert "Either party may terminate this Agreement" in pages[number]
    assert sum(count for count, languages in calls if languages == ("chi_sim",)) == (
        len(bodies) if chinese else min(len(bodies), ocr._workers())
    )


@pytest.mark.parametrize("seconds", [1, 8])
def test_ocr_that_runs_out_of_time_stops_and_leaves_nothing_behind(
    tmp_path: Path, own_temp: Path, settings: Any, english: Any, seconds: int
) -> None:
    # Six dense A4 pages: over 20 s of Tesseract on two cores. With 1 s the OCR process is
    # stopped while it starts; with 8 s, while Tesseract reads.
    settings.CONTRACT_OCR_TIMEOUT = seconds
    dense = "<p>" + (CLAUSE + ENGLISH) * 30 + "</p>"
    slow = tmp_path / "slow.pdf"
    slow.write_bytes(image_pdf(rasterize(typeset(dense, size="A4", font_size="11pt")) * 6))
    seen: list[int] = []
    watching = True

    def watch() -> None:  # Tesseract processes working in this test's temporary folder
        while watching:
            seen.extend(p.pid for p in ours(own_temp))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    try:
        result = read_text(str(slow), "application/pdf")
    finally:
        watching = False
        watcher.join()
    assert (result.status, result.pages, result.source) == ("timed_out", [], "")
    assert f"{seconds} seconds" in result.error
    assert time.monotonic() - started < seconds + 5 + 3  # no hang: the limit, the grace, slack
    if seconds == 8:
        assert seen, "Tesseract was running when the time ran out"
        assert result.page_count == 6  # the text layer was read: the page still says how long
    assert ours(own_temp) == [] and not any(psutil.pid_exists(pid) for pid in seen)
    assert leftovers(own_temp) == []


def ours(folder: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "tesseract" and str(folder) in " ".join(
            process.info["cmdline"] or []
        ):
            found.append(process)
    return found


# --- through the service and the page --------------------------------------------------------


def test_an_uploaded_scan_is_read_in_one_update_and_found_by_search(
    cast: Cast, contract: Contract, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        document = services.document_upload(
            contract=contract, user=cast.it_admin, kind="fapiao",
            upload=SimpleUploadedFile("扫描件.png", encoded(scan(), "PNG"), "image/png"),
        )  # fmt: skip
    assert document.text_status == "pending" and len(callbacks) == 1  # the worker's task
    with CaptureQueriesContext(connection) as queries:
        assert services.document_extract_text(document_id=document.pk) == "done"
    updates = [
        q["sql"] for q in queries if q["sql"].startswith('UPDATE "contracts_contractdocument"')
    ]
    assert len(updates) == 1
    document.refresh_from_db()
    assert (document.text_source, document.page_count, document.text_note) == ("ocr", 1, "")
    assert "续约一年" in document.text.replace(" ", "") and document.text_error == ""
    assert list(contract_search(contract_list(user=cast.head_a), "书面通知")) == [contract]
    page = client_for(cast.head_a).get(contract.get_absolute_url()).content.decode()
    assert 'data-testid="text-ocr"' in page


def test_the_page_says_why_a_bomb_image_has_no_text(
    cast: Cast, contract: Contract, english: Any
) -> None:
    upload(client_for(cast.it_admin), contract, "huge.png", bomb_png())
    document = ContractDocument.objects.get()
    assert document.content_type == "image/png" and document.text_status == "pending"
    assert services.document_extract_text(document_id=document.pk) == "too_large"
    document.refresh_from_db()
    assert (document.text, document.text_source, document.page_count) == ("", "", 1)
    page = client_for(cast.head_a).get(contract.get_absolute_url()).content.decode()
    assert "Too large to read" in page and "20000 × 20000 pixels" in page
