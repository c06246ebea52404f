"""The PDFs the PDF check is tried on (active content in every form, plain documents, stubs),
and their builders."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfWriter

from tests.contracts import pdf_samples as s

JS = b"<< /S /JavaScript /JS (app.alert(1)) >>"


def catalog(extra: bytes) -> bytes:
    return b"<< /Type /Catalog /Pages 2 0 R " + extra + b" >>"


def with_objects(extra_catalog: bytes = b"", page_extra: bytes = b"", **more: bytes) -> bytes:
    objects = s.plain_objects(catalog=catalog(extra_catalog), page_extra=page_extra)
    objects.update({int(k[1:]): v for k, v in more.items()})
    return s.build(objects)


def link(action: bytes) -> bytes:
    """A page with one link annotation (object 5) whose action is ``action``."""
    annotation = b"<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A " + action + b" >>"
    return with_objects(page_extra=b"/Annots [5 0 R]", o5=annotation)


def writer_pdf(build: Any) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PACKED_PAGES = {2: s.PAGES, 3: s.page(), 4: s.stream(s.CONTENT)}


# Each form of active content, and the kind of refusal it must get.
ACTIVE: dict[str, tuple[bytes, str]] = {
    "open action JavaScript": (with_objects(b"/OpenAction 5 0 R", o5=JS), "script"),
    "open action, name written with #xx escapes": (
        with_objects(b"/OpenAction << /S /#4A#61va#53cript /#4A#53 (app.alert(1)) >>"),
        "script",
    ),
    "script as a hex string in a stream": (
        with_objects(b"/OpenAction << /S /JavaScript /JS 5 0 R >>", o5=s.stream(b"app.alert(1)")),
        "script",
    ),
    "document additional actions": (with_objects(b"/AA << /WC 5 0 R >>", o5=JS), "auto"),
    "page additional actions": (with_objects(page_extra=b"/AA << /O 5 0 R >>", o5=JS), "auto"),
    "open action that goes to a web page": (
        with_objects(b"/OpenAction << /S /URI /URI (https://tracker.example/pixel) >>"),
        "auto",
    ),
    "open action chained by /Next": (
        with_objects(
            b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next [6 0 R 5 0 R] >>",
            o5=b"<< /S /Launch /F (cmd.exe) >>",
            o6=b"<< /S /GoTo /D [3 0 R /Fit] >>",
        ),
        "launch",
    ),
    "link that launches a program": (
        link(b"<< /S /Launch /Win << /F (calc.exe) >> >>"),
        "launch",
    ),
    "link that runs JavaScript after going to a page": (
        link(b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /JavaScript /JS (x) >> >>"),
        "script",
    ),
    "link that imports form data": (link(b"<< /S /ImportData /F (data.fdf) >>"), "form"),
    "link that submits a form": (
        link(b"<< /S /SubmitForm /F << /FS /URL /F (https://x.example/) >> >>"),
        "form",
    ),
    "link to another file": (link(b"<< /S /GoToR /F (other.pdf) /D [0 /Fit] >>"), "file"),
    "link into an embedded file": (link(b"<< /S /GoToE /T << /R /C /N (a) >> >>"), "file"),
    "rendition": (link(b"<< /S /Rendition /OP 0 >>"), "media"),
    "rich media execute": (link(b"<< /S /RichMediaExecute /TA 6 0 R >>"), "media"),
    "action of an unlisted type": (link(b"<< /S /Hide /T (field) >>"), "action"),
    "javascript: link": (link(b"<< /S /URI /URI (javascript:app.alert(1)) >>"), "link"),
    "javascript: link with a tab in the scheme": (
        link(b"<< /S /URI /URI (java\tscript:app.alert(1)) >>"),
        "link",
    ),
    "file: link": (link(b"<< /S /URI /URI (file:///C:/Windows/System32/calc.exe) >>"), "link"),
    "names tree of document scripts": (
        with_objects(b"/Names << /JavaScript << /Names [(a) 5 0 R] >> >>", o5=JS),
        "script",
    ),
    "embedded file (pypdf writer)": (
        writer_pdf(lambda w: w.add_attachment("invoice.exe", b"MZ\x90\x00")),
        "file",
    ),
    "file attachment annotation": (
        with_objects(
            page_extra=b"/Annots [5 0 R]",
            o5=b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS 6 0 R >>",
            o6=b"<< /Type /Filespec /F (a.exe) >>",
        ),
        "file",
    ),
    "rich media annotation": (
        with_objects(
            page_extra=b"/Annots [5 0 R]",
            o5=b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>",
        ),
        "media",
    ),
    "form field with a keystroke script": (
        with_objects(
            b"/AcroForm << /Fields [5 0 R] >>",
            o5=b"<< /FT /Tx /T (amount) /AA << /K << /S /JavaScript /JS (x) >> >> >>",
        ),
        "auto",
    ),
    "XFA form": (
        with_objects(b"/AcroForm << /Fields [] /XFA 5 0 R >>", o5=s.stream(b"<xdp:xdp/>")),
        "form",
    ),
    "script inside a compressed object stream": (
        s.packed(PACKED_PAGES, {1: catalog(b"/OpenAction 5 0 R"), 5: JS}),
        "script",
    ),
    "embedded file inside a compressed object stream": (
        s.packed(PACKED_PAGES, {1: s.CATALOG, 5: b"<< /Type /Filespec /EF << /F 6 0 R >> >>"}),
        "file",
    ),
    "open action added by an incremental update": (
        s.update(s.plain(), {1: catalog(b"/OpenAction 5 0 R"), 5: JS}),
        "script",
    ),
    "action no table lists (found by scanning, as a repairing viewer would)": (
        s.build(s.plain_objects(), tail=b"9 0 obj\n<< /S /Launch /F (cmd.exe) >>\nendobj\n"),
        "launch",
    ),
    "javascript: link of an annotation no table lists": (
        s.build(
            s.plain_objects(),
            tail=b"9 0 obj\n<< /Subtype /Link /Rect [0 0 9 9] /A 10 0 R >>\nendobj\n"
            b"10 0 obj\n<< /S /URI /URI (javascript:app.alert(1)) >>\nendobj\n",
        ),
        "link",
    ),
    "embedded file stream no table lists": (
        s.build(
            s.plain_objects(),
            tail=b"9 0 obj\n" + s.stream(b"MZ", b" /Type /EmbeddedFile") + b"\nendobj\n",
        ),
        "file",
    ),
}


PLAIN = {
    "web, mail and relative links, page links": with_objects(
        page_extra=b"/Annots [5 0 R 6 0 R 7 0 R 8 0 R]",
        o5=b"<< /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (https://example.com/) >> >>",
        o6=b"<< /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (mailto:legal@x.cn) >> >>",
        o7=b"<< /Subtype /Link /Rect [0 0 9 9] /A << /S /GoTo /D [3 0 R /Fit] >> >>",
        o8=b"<< /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (terms.html) >> >>",
    ),
    "opens at a page (a destination, not a script)": with_objects(b"/OpenAction [3 0 R /Fit]"),
    "opens at a page through a go-to action": with_objects(
        b"/OpenAction << /S /GoTo /D [3 0 R /FitH 200] >>"
    ),
    "a signature field without scripts": with_objects(
        b"/AcroForm << /Fields [5 0 R] /SigFlags 3 >>",
        o5=b"<< /FT /Sig /T (signature) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] >>",
    ),
    # PDF/A, tagged PDF, page labels, transparency and border styles use /S for other things.
    "PDF/A output intent, structure tree, page labels, groups and borders": with_objects(
        b"/OutputIntents [<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB) >>]"
        b" /PageLabels << /Nums [0 << /S /D /St 1 >>] >> /MarkInfo << /Marked true >>"
        b" /StructTreeRoot << /Type /StructTreeRoot /K [6 0 R] >>",
        page_extra=b"/Group << /S /Transparency /CS /DeviceRGB >> /Annots [5 0 R]",
        o5=b"<< /Subtype /Link /Rect [0 0 9 9] /BS << /S /D /W 1 >> /A << /S /GoTo /D [3 0 R /Fit] >> >>",
        o6=b"<< /Type /StructElem /S /Figure /A << /O /Layout /BBox [0 0 9 9] >> /K [7 0 R] >>",
        o7=b"<< /Type /StructElem /S /Link /K [<< /Type /OBJR /Obj 5 0 R >>] >>",
    ),
    # A PDF about PDFs: its text shows active syntax, which is data, not an object.
    "active syntax inside a content stream": s.build(
        {
            **s.plain_objects(),
            4: s.stream(
                b"% 9 0 obj << /S /JavaScript /JS (x) >> endobj\n"
                + s.CONTENT
                + b"\n% /Launch /EmbeddedFile"
            ),
        }
    ),
    # #15: the bytes "/JS" inside a compressed font stream refused real contracts now and then.
    "the bytes of a name inside compressed data": s.build(
        {**s.plain_objects(), 5: s.stream(b"\xdf\x91\x93rh//JS\xb9\x87\x17\x9b\x8fY\x98Y,7\x9b")}
    ),
}


STUBS: dict[str, tuple[bytes, str]] = {
    "no pages": (
        s.build(
            {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [] /Count 0 >>"}
        ),
        "no_pages",
    ),
    "no catalog at all": (b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n", ""),
    "a header and an end marker": (b"%PDF-1.7\n%%EOF\n", ""),
    "header then garbage": (b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n", ""),
    "truncated": (s.plain()[:200] + b"\n%%EOF\n", ""),
}
