"""PDFs built byte by byte for the upload check's tests: a plain one-page document, and the same
with extra objects, inside compressed object streams (with a cross-reference stream), or
changed by an incremental update. Offsets are computed, so every file is well-formed and a
viewer (and pypdf) reads it without repairing it."""

from __future__ import annotations

import zlib

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
CONTENT = b"BT /F1 12 Tf 20 100 Td (Contract) Tj ET"


def page(extra: bytes = b"") -> bytes:
    return (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> "
        + extra
        + b" >>"
    )


def stream(data: bytes, entries: bytes = b"", *, compress: bool = False) -> bytes:
    if compress:
        data, entries = zlib.compress(data), entries + b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), entries, data)


def plain_objects(*, catalog: bytes = CATALOG, page_extra: bytes = b"") -> dict[int, bytes]:
    """Objects 1-4 of a one-page document (catalog, pages, page, content)."""
    return {1: catalog, 2: PAGES, 3: page(page_extra), 4: stream(CONTENT)}


def build(objects: dict[int, bytes], *, version: bytes = b"1.4", tail: bytes = b"") -> bytes:
    """A PDF with a classic cross-reference table; ``tail`` goes after the xref, unlisted."""
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, objects[num])
    out += tail
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num] if num in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def update(base: bytes, objects: dict[int, bytes]) -> bytes:
    """``base`` with an incremental update that replaces or adds ``objects``."""
    out = bytearray(base)
    prev = int(base.rsplit(b"startxref", 1)[1].split()[0])
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, objects[num])
    xref = len(out)
    out += b"xref\n"
    for num in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (num, offsets[num])
    size = max(max(objects) + 1, int(base.split(b"/Size", 1)[1].split()[0]))
    out += b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        prev,
        xref,
    )
    return bytes(out)


def packed(direct: dict[int, bytes], inside: dict[int, bytes]) -> bytes:
    """A PDF 1.5 whose ``inside`` objects sit in one FlateDecode object stream, listed by a
    (compressed) cross-reference stream: nothing of them is visible in the raw bytes."""
    header, body = b"", b""
    index = {}
    for i, num in enumerate(sorted(inside)):
        header += b"%d %d " % (num, len(body))
        body += inside[num] + b"\n"
        index[num] = i
    stm = max([*direct, *inside]) + 1
    objects = dict(direct)
    objects[stm] = stream(
        header + body, b" /Type /ObjStm /N %d /First %d" % (len(inside), len(header)), compress=True
    )
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, objects[num])
    xref_num = stm + 1
    offsets[xref_num] = len(out)
    rows = b"\x00\x00\x00\x00\x00\xff\xff"
    for num in range(1, xref_num + 1):
        if num in offsets:
            rows += b"\x01" + offsets[num].to_bytes(4, "big") + b"\x00\x00"
        elif num in index:
            rows += b"\x02" + stm.to_bytes(4, "big") + index[num].to_bytes(2, "big")
        else:
            rows += b"\x00\x00\x00\x00\x00\xff\xff"
    entries = b" /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R" % (xref_num + 1)
    out += b"%d 0 obj\n%s\nendobj\n" % (xref_num, stream(rows, entries, compress=True))
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_num]
    return bytes(out)


def plain() -> bytes:
    """The smallest plain document: one page with one line of text."""
    return build(plain_objects())
