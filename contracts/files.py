"""What a contract file may be, decided by its content (never its name or claimed type).

Accepted: PDF, PNG and JPEG scans. Refused: anything else, including HTML/SVG/script renamed to
.pdf, images with something appended after their end marker (PNG+HTML polyglots), and PDFs that
are not plain documents: judged by parsing them (contracts.pdfcheck, in its own process with a
time and memory limit), not by byte patterns. Names are kept only as data, cleaned for display
and for the Content-Disposition header.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
# Markers of active content that have no business inside a contract file.
_ACTIVE = re.compile(
    rb"<\s*(?:script|html|svg|iframe|object|embed|body|!doctype\s+html)|javascript:",
    re.IGNORECASE,
)
# Browsers that guess a type look at the start of a file only; a PDF's compressed streams are
# not scanned for these markers (random bytes match them now and then), the parser judges a PDF.
HTML_SNIFF_BYTES = 1024
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
    size, tail, carry, start = len(head), head, head, head
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        window = carry[-64:] + chunk  # a marker split across two chunks is still seen
        if kind[1] != ".pdf" and _ACTIVE.search(window):
            raise ValidationError(_("The file contains scripts or web content; it is refused."))
        carry = chunk
        tail = (tail + chunk)[-2048:]
        start = start if len(start) >= HTML_SNIFF_BYTES else (start + chunk)[:HTML_SNIFF_BYTES]
    if _ACTIVE.search(start):
        raise ValidationError(_("The file contains scripts or web content; it is refused."))
    stripped = tail.rstrip(b"\r\n\t \x00")
    if kind[1] == ".pdf" and b"%%EOF" not in tail:
        raise ValidationError(_("This PDF is incomplete (no end-of-file marker)."))
    if kind[1] == ".png" and not stripped.endswith(PNG_END):
        raise ValidationError(_("This image has data after its end; it is refused."))
    if kind[1] == ".jpg" and not stripped.endswith(b"\xff\xd9"):
        raise ValidationError(_("This image has data after its end; it is refused."))
    if kind[1] == ".pdf":
        check_pdf(stream)
    stream.seek(0)
    return Sniffed(kind[0], kind[1], digest.hexdigest(), size)


ACTIVE_KINDS = {
    "script": gettext_lazy("JavaScript"),
    "launch": gettext_lazy("a command that starts programs"),
    "file": gettext_lazy("embedded files or links to other files"),
    "form": gettext_lazy("form submission or XFA forms"),
    "media": gettext_lazy("rich media, sound, video or 3D"),
    "auto": gettext_lazy("actions that run when it is opened or viewed"),
    "link": gettext_lazy("links other than web or e-mail addresses"),
    "action": gettext_lazy("actions other than links and page navigation"),
}
REFUSALS = {
    "unparseable": gettext_lazy("This file is not a PDF that can be read."),
    "no_pages": gettext_lazy("This PDF has no pages."),
    "encrypted": gettext_lazy(
        "This PDF is encrypted or password-protected, so its content cannot be checked. Save an "
        "unprotected copy (for example, print it to PDF) and upload that."
    ),
    "too_complex": gettext_lazy(
        "This PDF is too complex to check (too many objects, nested too deeply or too slow to "
        "read); it is refused."
    ),
}


def check_pdf(stream: IO[bytes]) -> None:
    """Parse the PDF in its own process (contracts.pdfcheck) under a time and memory limit;
    raise ValidationError unless it is a plain PDF with at least one page."""
    verdict = _run_check(stream)
    if verdict.get("ok"):
        return
    reason = str(verdict.get("refused"))
    logger.info("PDF refused: %s %s %s", reason, verdict.get("kind"), verdict.get("detail"))
    if reason == "active":
        what = ACTIVE_KINDS.get(str(verdict.get("kind")), ACTIVE_KINDS["action"])
        raise ValidationError(
            _(
                "This PDF contains active content (%(what)s); it is refused. Upload a plain copy "
                "(for example, print it to PDF)."
            )
            % {"what": what}
        )
    raise ValidationError(str(REFUSALS.get(reason, REFUSALS["too_complex"])))


def _run_check(stream: IO[bytes]) -> dict[str, Any]:
    """The checker's verdict; a checker that crashes, is killed or runs out of time refuses."""
    seconds = settings.CONTRACT_CHECK_TIMEOUT
    with tempfile.TemporaryDirectory(prefix="pdfcheck-") as folder:
        path = getattr(stream, "temporary_file_path", None)
        if path is None:
            path = f"{folder}/upload.pdf"
            stream.seek(0)
            with open(path, "wb") as copy:
                while chunk := stream.read(CHUNK):
                    copy.write(chunk)
        else:
            path = path()
        try:
            done = subprocess.run(  # noqa: S603 - our own module, a path we chose
                [sys.executable, "-m", "contracts.pdfcheck", path, str(seconds)],
                capture_output=True,
                timeout=seconds + 10,  # the checker stops itself at ``seconds``; this is for a hang
                cwd=str(settings.BASE_DIR),
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"refused": "too_complex", "detail": "killed after the timeout"}
    try:
        verdict = json.loads(done.stdout)
    except ValueError:
        verdict = None
    if done.returncode != 0 or not isinstance(verdict, dict):
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines() or [""]
        return {"refused": "too_complex", "detail": f"checker exit {done.returncode}: {lines[-1]}"}
    return verdict
