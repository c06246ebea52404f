"""PDF active content is recognised by its name tokens, not by three bytes that happen to be
"/JS" inside compressed data (#15: the demo's contract PDFs were refused now and then)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from contracts.files import sniff

BINARY_WITH_JS_BYTES = b"\xdf\x91\x93rh//JS\xb9\x87\x17\x9b\x8fY\x98Y,7\x9b"


def pdf(body: bytes) -> io.BytesIO:
    return io.BytesIO(b"%PDF-1.7\n1 0 obj\n<< /Length 99 >>\nstream\n" + body + b"\n%%EOF\n")


def test_the_bytes_of_a_name_inside_compressed_data_are_not_a_script() -> None:
    assert sniff(pdf(BINARY_WITH_JS_BYTES)).content_type == "application/pdf"
    # Also when those bytes arrive split over two chunks of the read.
    assert sniff(pdf(b"\x00" * (64 * 1024 - 40) + BINARY_WITH_JS_BYTES * 3)).size > 64 * 1024


@pytest.mark.parametrize(
    "body",
    [
        b"<< /S /JavaScript /JS (app.alert(1)) >>",
        b"<</S/JavaScript/JS(app.alert(1))>>",
        b"<< /OpenAction << /S /Launch /F (cmd.exe) >> >>",
        b"<< /Type /EmbeddedFile >>",
        b"[/RichMedia]",
    ],
)
def test_real_name_tokens_are_still_refused(body: bytes) -> None:
    with pytest.raises(ValidationError):
        sniff(pdf(body))


def test_a_rendered_pdf_with_the_bytes_is_accepted(tmp_path: Path) -> None:
    # The tail of a real WeasyPrint contract PDF that was refused (its font stream held "//JS").
    content = pdf(b"q\n" + BINARY_WITH_JS_BYTES + b"\nendstream\nendobj\n").getvalue()
    (tmp_path / "c.pdf").write_bytes(content)
    with (tmp_path / "c.pdf").open("rb") as stream:
        assert sniff(stream).sha256
