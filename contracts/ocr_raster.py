"""An ocrmypdf plugin (its documented ``rasterize_pdf_page`` hook) used by contracts.ocr: each page
is rasterised by pypdfium2 straight at the resolution Tesseract will read, and stored with fast
PNG compression.

ocrmypdf's own pypdfium rasterizer renders a scanned page at its full resolution, writes it as a
PNG at zlib's default level, and then (``max_ocr_image_mpixels``) decodes it, scales it down and
writes it again. On the development machine that was 1-2 CPU seconds a page, as much as
Tesseract's reading of it: a page rendered at the size that is read and written once, at level 1,
costs a fraction of that. Everything else (the page's size and rotation, grey or colour) is done
as ocrmypdf's built-in rasterizer does it (ocrmypdf/builtin_plugins/pypdfium.py, 17.x).
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

from ocrmypdf import hookimpl

# PDFium is not thread-safe (ocrmypdf reads pages in threads here): one page at a time.
_LOCK = threading.Lock()
_GREY = {"pngmono", "pngmonod", "pnggray", "jpeggray"}
PNG_LEVEL = 1


def scale_for(width_pt: float, height_pt: float, dpi: float, max_pixels: float | None) -> float:
    """The factor (at most 1) that brings a page rendered at ``dpi`` within ``max_pixels``."""
    width, height = width_pt / 72 * dpi, height_pt / 72 * dpi
    if not max_pixels or width * height <= max_pixels:
        return 1.0
    factor = math.sqrt(max_pixels / (width * height))
    # PDFium rounds the bitmap's size up: a pixel over, and ocrmypdf would scale it down again.
    while (math.ceil(width * factor) + 1) * (math.ceil(height * factor) + 1) > max_pixels:
        factor *= 0.998
    return factor


@hookimpl
def rasterize_pdf_page(
    input_file: Path,
    output_file: Path,
    raster_device: str,
    raster_dpi: Any,
    pageno: int,
    page_dpi: Any,
    rotation: int | None,
    options: Any,
    use_cropbox: bool,
) -> Path:
    import pypdfium2 as pdfium

    limit = getattr(options, "max_ocr_image_mpixels", None)
    dpi = float(raster_dpi.to_scalar())
    with _LOCK:
        document = pdfium.PdfDocument(input_file)
        try:
            page = document[pageno - 1]
            if not use_cropbox:  # the MediaBox, as ocrmypdf's rasterizers do
                page.set_cropbox(*page.get_mediabox())
            width_pt, height_pt = page.get_size()
            factor = scale_for(width_pt, height_pt, dpi, limit * 1_000_000 if limit else None)
            if rotation:
                page.set_rotation(-rotation % 360)
            bitmap = page.render(
                scale=dpi * factor / 72,
                may_draw_forms=True,
                draw_annots=True,
                grayscale=raster_device.lower() in _GREY,
            )
            image = bitmap.to_pil().copy()  # owns its pixels once the bitmap is closed
            bitmap.close()
            # PDFium's rounding overshoot (a pixel or two) is trimmed, as ocrmypdf's does.
            sizes = [round(side / 72 * dpi * factor) for side in (width_pt, height_pt)]
            if rotation and rotation % 180 == 90:
                sizes.reverse()
            if all(0 <= got - want <= 2 for got, want in zip(image.size, sizes, strict=True)):
                image = image.crop((0, 0, *sizes))
            page.close()
        finally:
            document.close()
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    shown = page_dpi or raster_dpi
    image.save(
        output_file,
        format="PNG",
        compress_level=PNG_LEVEL,
        dpi=(float(shown.x) * factor, float(shown.y) * factor),
    )
    return output_file
