"""What the contract tests share: real PDFs and PNGs, a signed-in client, the stored files, an
upload through the page."""

from __future__ import annotations

import struct
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from contracts.models import Contract


@cache
def make_pdf(text: str) -> bytes:
    """A real PDF with ``text`` in it (WeasyPrint, our CJK font)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from core.pdf import FONT_FAMILY, font_path

    fonts = FontConfiguration()
    face = CSS(
        string=f"@font-face {{ font-family: '{FONT_FAMILY}'; src: url('{font_path().as_uri()}'); }}"
        f"body {{ font-family: '{FONT_FAMILY}'; }}",
        font_config=fonts,
    )
    return HTML(string=f"<p>{text}</p>").write_pdf(stylesheets=[face], font_config=fonts)


def png(extra: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    image = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
    return image + chunk(b"IEND", b"") + extra


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def stored_files() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "private" / "contracts"
    return sorted(folder.glob("*")) if folder.exists() else []


def upload(
    client: Client, contract: Contract, name: str, content: bytes, kind: str = "main"
) -> Any:
    return client.post(
        reverse("contracts:document-upload", args=[contract.pk]),
        {"kind": kind, "file": SimpleUploadedFile(name, content, "application/pdf")},
    )
