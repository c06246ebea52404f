"""What a contract file may be, decided by its content (never its name or claimed type).

Accepted: PDF, PNG and JPEG scans. Refused: anything else, including HTML/SVG/script renamed to
.pdf, images with something appended after their end marker (PNG+HTML polyglots), and PDFs that
carry JavaScript or launch actions. Names are kept only as data, cleaned for display and for the
Content-Disposition header.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CHUNK = 64 * 1024
# Markers of active content that have no business inside a contract file.
_ACTIVE = re.compile(
    rb"<\s*(?:script|html|svg|iframe|object|embed|body|!doctype\s+html)|javascript:",
    re.IGNORECASE,
)
# A PDF name ends at whitespace or a delimiter (ISO 32000 7.2.2): "/JS" followed by any other
# byte is another name, or just bytes of a compressed stream or an embedded font, which refused
# clean files now and then when "\b" was the test.
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFile|RichMedia)(?=[\s<>\[\]()/{}%]|$)")
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str
    sha256: str
    size: int


def sniff(stream: IO[bytes]) -> Sniffed:
    """Read the file once (in chunks): its type by magic bytes and end marker, active content,
    SHA-256 and size. Raises ValidationError with a message for the user."""
    stream.seek(0)
    head = stream.read(16)
    if not head:
        raise ValidationError(_("The file is empty."))
    if head.startswith(b"%PDF-"):
        kind = ("application/pdf", ".pdf")
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = ("image/png", ".png")
    elif head.startswith(b"\xff\xd8\xff"):
        kind = ("image/jpeg", ".jpg")
    else:
        raise ValidationError(
            _("Only PDF files and PNG or JPEG scans can be stored (judged by the content).")
        )
    digest = hashlib.sha256(head)
    size, tail, carry = len(head), head, head
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        window = carry[-64:] + chunk  # a marker split across two chunks is still seen
        if _ACTIVE.search(window) or (kind[1] == ".pdf" and _PDF_ACTIVE.search(window)):
            raise ValidationError(_("The file contains scripts or web content; it is refused."))
        carry = chunk
        tail = (tail + chunk)[-2048:]
    if _ACTIVE.search(head) or (kind[1] == ".pdf" and _PDF_ACTIVE.search(head)):
        raise ValidationError(_("The file contains scripts or web content; it is refused."))
    stripped = tail.rstrip(b"\r\n\t \x00")
    if kind[1] == ".pdf" and b"%%EOF" not in tail:
        raise ValidationError(_("This PDF is incomplete (no end-of-file marker)."))
    if kind[1] == ".png" and not stripped.endswith(PNG_END):
        raise ValidationError(_("This image has data after its end; it is refused."))
    if kind[1] == ".jpg" and not stripped.endswith(b"\xff\xd9"):
        raise ValidationError(_("This image has data after its end; it is refused."))
    stream.seek(0)
    return Sniffed(kind[0], kind[1], digest.hexdigest(), size)
