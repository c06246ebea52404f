"""Scans: a text PDF's pages rasterised, sealed or signed, turned, noisy and blurred (scan_pages),
and saved as JPEG."""

from __future__ import annotations

import io
import math
import random
from pathlib import Path
from typing import Any


def _stamp(
    image: Any, cx: float, cy: float, text: str, font_file: str, rng: random.Random, scale: float
) -> Any:
    """A company seal (a ring, a star and the name around it) centred on (cx, cy), in the grey a
    red seal scans to, darkening (never lightening) what is under it."""
    from PIL import Image, ImageChops, ImageDraw, ImageFont

    radius = int(0.8 * 96 * scale)  # ~42 mm across
    size = radius * 2 + 8
    layer = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(layer)
    ink = rng.randint(105, 140)
    width = max(3, radius // 18)
    draw.ellipse((4, 4, size - 4, size - 4), outline=ink, width=width)
    # The star.
    mx = my = size / 2
    outer, inner = radius * 0.28, radius * 0.11
    points = []
    for k in range(10):
        r = outer if k % 2 == 0 else inner
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((mx + r * math.cos(angle), my + r * math.sin(angle)))
    draw.polygon(points, fill=ink)
    # The name around the upper arc.
    font = ImageFont.truetype(font_file, int(radius * 0.26))
    chars = [c for c in text if not c.isspace()]
    span = math.radians(250)
    for k, char in enumerate(chars):
        angle = -math.pi / 2 - span / 2 + span * (k + 0.5) / len(chars)
        glyph = Image.new("L", (int(radius * 0.34), int(radius * 0.34)), 0)
        ImageDraw.Draw(glyph).text(
            (glyph.width / 2, glyph.height / 2), char, fill=255, font=font, anchor="mm"
        )
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        gx = mx + radius * 0.72 * math.cos(angle) - glyph.width / 2
        gy = my + radius * 0.72 * math.sin(angle) - glyph.height / 2
        layer.paste(ink, (int(gx), int(gy)), glyph)
    layer = layer.rotate(rng.uniform(-25, 25), fillcolor=255)
    left, top = int(cx - size / 2), int(cy - size / 2)
    region = image.crop((left, top, left + size, top + size))
    image.paste(ImageChops.darker(region, layer), (left, top))
    return image


def _signature_scribble(image: Any, x: float, y: float, rng: random.Random, scale: float) -> Any:
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    points = []
    length = rng.uniform(1.2, 1.8) * 96 * scale
    for k in range(60):
        u = k / 59
        points.append(
            (x + u * length, y + math.sin(u * rng.uniform(8, 14)) * 8 * scale * (1 - u * 0.5))
        )
    draw.line(points, fill=rng.randint(30, 70), width=max(2, int(2 * scale)))
    return image


def scan_pages(
    pdf_path: Path,
    pages: list[int],
    dpi: int,
    rng: random.Random,
    stamps: list[tuple[int, float, float, str]],
    scribbles: list[tuple[int, float, float]],
    font_file: str,
) -> list[Any]:
    """The pages as a scanner would give them: grey, turned a little, noisy, a little blurred."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageChops, ImageFilter

    scale = dpi / 96  # CSS px -> image px
    out = []
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        for number in pages:
            page = pdf[number - 1]
            image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            page.close()
            for page_no, x, y, name in stamps:
                if page_no == number:
                    cx = (x + rng.uniform(40, 110)) * scale  # over the name, as seals are
                    cy = (y + rng.uniform(-5, 25)) * scale
                    image = _stamp(image, cx, cy, name, font_file, rng, scale)
            for page_no, x, y in scribbles:
                if page_no == number:
                    image = _signature_scribble(image, x * scale, y * scale, rng, scale)
            image = image.rotate(
                rng.uniform(-0.7, 0.7), resample=Image.Resampling.BICUBIC, fillcolor=255
            )
            low, high = rng.randint(18, 40), rng.randint(228, 246)
            image = image.point(lambda v, lo=low, hi=high: int(lo + v * (hi - lo) / 255))
            grain = Image.effect_noise((image.width // 2, image.height // 2), rng.uniform(8, 16))
            noise = grain.resize(image.size, Image.Resampling.NEAREST)
            image = ImageChops.add(image, noise, 1.0, -128)
            image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 0.8) * dpi / 300))
            out.append(image)
    finally:
        pdf.close()
    return out


def _jpeg(image: Any, dpi: int, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, dpi=(dpi, dpi))
    return buffer.getvalue()
