"""PDFs with WeasyPrint: Django templates in, bytes out; a CJK font; no network, no stray files.

The font: Noto Sans SC is vendored as ~100 unicode-range WOFF2 slices (for browsers). WeasyPrint
would load every slice for every PDF (slow) and maps text of several slices of one family badly
when text is extracted, so the slices are merged once into a single TrueType file under
PDF_FONT_DIR (fontTools, which WeasyPrint already depends on) and that file is what PDFs use.

The URL fetcher serves only files under our static folder; anything else (http, file:// outside
static, data the template did not expect) is refused, so user text in a template cannot make the
renderer fetch anything.
"""

from __future__ import annotations

import fcntl
import logging
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

STATIC_DIR = Path(settings.BASE_DIR) / "static"
FONT_SLICES = STATIC_DIR / "vendor" / "noto-sans-sc" / "files"
FONT_FILE_NAME = "NotoSansSC-Regular.ttf"
FONT_FAMILY = "Renewal Desk Sans"


def font_path() -> Path:
    """The merged CJK font, built on first use (a few seconds, once per machine)."""
    target = Path(settings.PDF_FONT_DIR) / FONT_FILE_NAME
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two workers starting at once build it once
        if not target.exists():
            _build_font(target)
    return target


def _build_font(target: Path) -> None:
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    slices = sorted(FONT_SLICES.glob("*-400-normal.woff2"))
    if not slices:
        raise FileNotFoundError(f"no font slices in {FONT_SLICES}")
    logger.info("building the PDF font from %s slices", len(slices))
    with tempfile.TemporaryDirectory() as work:
        plain = []
        for number, path in enumerate(slices):
            font = TTFont(path)
            font.flavor = None
            out = Path(work) / f"{number}.ttf"
            font.save(out)
            plain.append(str(out))
        merged = Merger().merge(plain)
        partial = target.with_suffix(".tmp")
        merged.save(partial)
        partial.replace(target)  # atomic: a reader never sees half a font


def static_only_fetcher() -> Any:
    """A WeasyPrint URL fetcher that opens files under static/ and the font folder, nothing else."""
    from weasyprint.urls import URLFetcher

    allowed = [STATIC_DIR.resolve(), Path(settings.PDF_FONT_DIR).resolve()]

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            parsed = urlparse(url)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if any(path.is_relative_to(root) for root in allowed) and path.is_file():
                    return super().fetch(url, headers)
            raise ValueError(f"PDF resources are limited to static files: {url[:100]}")

    return StaticOnlyFetcher(allowed_protocols=["file"], allow_redirects=False)


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    """Render ``template`` (HTML) to PDF bytes, in the active language."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_to_string(template, context)
    fonts = FontConfiguration()
    fetcher = static_only_fetcher()
    face = CSS(
        string=(
            f"@font-face {{ font-family: '{FONT_FAMILY}'; src: url('{font_path().as_uri()}'); }}"
            f"html {{ font-family: '{FONT_FAMILY}', sans-serif; }}"
        ),
        font_config=fonts,
        url_fetcher=fetcher,
    )
    document = HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[face], font_config=fonts)
