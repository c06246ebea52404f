"""Issue #16.2: a contract PDF is judged by parsing it, not by byte patterns. Active content is
refused in every form a viewer would run it (encoded names, compressed object streams,
incremental updates, objects no table lists), stubs without a page are refused, encrypted files
too, a parser bomb costs a bounded amount of work, and nothing is stored when a file is refused.
Real documents (WeasyPrint renderings, the demo contracts) are still accepted."""

from __future__ import annotations

import io
import logging
import sys
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from pypdf import PdfWriter

from contracts import services
from contracts.files import sniff
from contracts.models import Contract, ContractDocument
from contracts.pdfcheck import Limits, judge
from tests.conftest import Cast
from tests.contracts import pdf_samples as s
from tests.contracts.test_contracts import client_for, contract, make_pdf, stored_files, upload

__all__ = ["contract"]  # the fixture, shared with the archive's tests

JS = b"<< /S /JavaScript /JS (app.alert(1)) >>"


@pytest.fixture(autouse=True)
def _quiet_pypdf() -> Any:
    logging.disable(logging.WARNING)  # pypdf warns about the damaged files on purpose
    yield
    logging.disable(logging.NOTSET)


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


@pytest.mark.parametrize("case", sorted(ACTIVE))
def test_active_content_is_refused_in_every_form(case: str) -> None:
    content, kind = ACTIVE[case]
    verdict = judge(content)
    assert verdict.get("refused") == "active" and verdict.get("kind") == kind, verdict


def test_the_same_document_without_the_active_part_is_accepted() -> None:
    # The hostile files above differ from these only by their active part.
    assert judge(s.plain()) == {"ok": True, "pages": 1}
    assert judge(s.packed(PACKED_PAGES, {1: s.CATALOG}))["ok"]
    assert judge(s.update(s.plain(), {1: catalog(b"/PageMode /UseNone")}))["ok"]


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


@pytest.mark.parametrize("case", sorted(PLAIN))
def test_plain_documents_are_accepted(case: str) -> None:
    assert judge(PLAIN[case]) == {"ok": True, "pages": 1}


def test_weasyprint_renderings_and_the_demo_contracts_are_accepted(
    cast: Cast, contract: Contract
) -> None:
    from weasyprint import HTML

    from contracts import demo

    rendered = HTML(
        string='<h1 id="top">合同</h1><p><a href="https://example.com/">网站</a> '
        '<a href="mailto:a@b.cn">邮件</a> <a href="#top">回到顶部</a></p>'
        '<p style="break-before: page">第二页</p>'
    ).write_pdf()
    assert judge(rendered) == {"ok": True, "pages": 2}
    # 300 headings: bookmarks chained by /Next, 300 links, 150 pages.
    long = "".join(
        f'<h2 id="s{i}">第 {i} 条</h2><p><a href="#s{i}">本条</a> <a href="https://x.cn/{i}">x</a></p>'
        + ('<p style="break-after: page"></p>' if i % 2 else "")
        for i in range(300)
    )
    assert judge(HTML(string=long).write_pdf()) == {"ok": True, "pages": 150}
    assert judge(make_pdf("第八条 本合同自动续约一年。"))["ok"]
    # The demo's contracts, rendered as seed_demo renders them (its template, our CJK font).
    for spec in demo.CONTRACTS:
        assert judge(demo._pdf(contract, spec, cast.subscription_a))["ok"], spec.product


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


@pytest.mark.parametrize("case", sorted(STUBS))
def test_stubs_that_are_not_a_readable_pdf_with_a_page_are_refused(case: str) -> None:
    content, reason = STUBS[case]
    verdict = judge(content)
    assert verdict.get("refused") in ({reason} if reason else {"unparseable", "no_pages"}), verdict


@pytest.mark.parametrize("user_password", ["secret", ""])
def test_encrypted_pdfs_are_refused(user_password: str) -> None:
    content = writer_pdf(lambda w: w.encrypt(user_password, "owner", algorithm="RC4-128"))
    assert judge(content) == {"refused": "encrypted", "kind": "", "detail": ""}


@pytest.fixture(autouse=True)
def english(settings: Any) -> Any:
    """The messages are compared in English (the catalogue translates them; the default
    language is zh-hans)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


# --- parser bombs ------------------------------------------------------------------------------


def test_deep_nesting_is_refused() -> None:
    nested = b"[" * 200 + b"]" * 200
    assert judge(with_objects(b"/Deep 5 0 R", o5=nested))["refused"] == "too_complex"
    # Deeper than Python's own recursion in the parser.
    nested = b"[" * 200_000 + b"]" * 200_000
    assert judge(with_objects(b"/Deep 5 0 R", o5=nested))["refused"] == "too_complex"


def test_too_many_objects_are_refused() -> None:
    many = {n: b"<< /N %d >>" % n for n in range(5, 3005)}
    content = s.build({**s.plain_objects(), **many})
    assert judge(content, Limits(objects=2_000))["refused"] == "too_complex"
    assert judge(content, Limits(objects=10_000))["ok"]
    packed = s.packed(PACKED_PAGES, {1: s.CATALOG, **many})
    assert judge(packed, Limits(objects=2_000))["refused"] == "too_complex"


def test_a_shared_reference_bomb_is_judged_in_linear_work() -> None:
    # Each array holds the next one 30 times: 30^20 paths, 20 objects.
    layers = {5 + i: b"[" + b"%d 0 R " % (6 + i) * 30 + b"]" for i in range(20)}
    layers[25] = b"[]"
    verdict = judge(with_objects(b"/Bomb 5 0 R", **{f"o{n}": v for n, v in layers.items()}))
    assert verdict["ok"]


def test_the_work_is_capped_in_time() -> None:
    many = {n: b"[" + b"1 " * 500 + b"]" for n in range(5, 400)}
    content = s.build({**s.plain_objects(), **many})
    assert judge(content, Limits(seconds=0))["refused"] == "too_complex"
    assert judge(content, Limits(seconds=30))["ok"]


# --- through the upload ------------------------------------------------------------------------

THROUGH_UPLOAD = {
    "script in an object stream": (
        ACTIVE["script inside a compressed object stream"][0],
        "active content (JavaScript)",
    ),
    "incremental update": (ACTIVE["open action added by an incremental update"][0], "JavaScript"),
    "encoded name": (ACTIVE["open action, name written with #xx escapes"][0], "JavaScript"),
    "embedded file": (ACTIVE["embedded file (pypdf writer)"][0], "embedded files"),
    "no pages": (STUBS["no pages"][0], "This PDF has no pages."),
    "encrypted": (
        writer_pdf(lambda w: w.encrypt("secret", algorithm="RC4-128")),
        "encrypted or password-protected",
    ),
}


@pytest.mark.parametrize("case", sorted(THROUGH_UPLOAD))
def test_a_refused_pdf_says_why_and_leaves_nothing_stored(
    cast: Cast, contract: Contract, case: str
) -> None:
    content, message = THROUGH_UPLOAD[case]
    client = client_for(cast.it_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the messages below are the English ones
    response = upload(client, contract, "合同.pdf", content)
    assert response.status_code == 302
    page = client.get(contract.get_absolute_url()).content.decode()
    assert "alert-danger" in page and message in page
    assert not ContractDocument.objects.exists() and stored_files() == []


def test_the_service_refuses_whoever_calls_it(cast: Cast, contract: Contract) -> None:
    # Pages, the demo seeding and commands all store files through document_upload.
    upload_file = SimpleUploadedFile("x.pdf", ACTIVE["open action JavaScript"][0])
    with translation.override("en"), pytest.raises(ValidationError, match="JavaScript"):
        services.document_upload(
            contract=contract, user=cast.it_admin, upload=upload_file, kind="main"
        )
    assert not ContractDocument.objects.exists() and stored_files() == []


def test_a_plain_pdf_is_stored(cast: Cast, contract: Contract) -> None:
    client = client_for(cast.it_admin)
    upload(client, contract, "合同.pdf", PLAIN["web, mail and relative links, page links"])
    assert ContractDocument.objects.get().content_type == "application/pdf"
    assert len(stored_files()) == 1


def test_a_pdf_over_the_time_budget_is_refused(
    cast: Cast, contract: Contract, settings: Any
) -> None:
    settings.CONTRACT_CHECK_TIMEOUT = 0
    many = {n: b"[" + b"1 " * 500 + b"]" for n in range(5, 400)}
    client = client_for(cast.it_admin)
    upload(client, contract, "big.pdf", s.build({**s.plain_objects(), **many}))
    page = client.get(contract.get_absolute_url()).content.decode()
    assert "too complex to check" in page
    assert not ContractDocument.objects.exists() and stored_files() == []


def test_a_checker_that_dies_refuses_the_file(monkeypatch: Any) -> None:
    # A crash (or the memory limit) leaves no verdict: the file is refused, never let through.
    monkeypatch.setattr(sys, "executable", "/bin/false")
    with pytest.raises(ValidationError, match="too complex"):
        sniff(io.BytesIO(s.plain()))


# --- every way a file gets stored --------------------------------------------------------------

# Each place the apps write a file to storage, and why a PDF stored there is safe.
STORING = {
    "contracts/services.py": "document_upload: sniff() runs the PDF check before the file is saved",
    "renewals/reports/services/briefings.py": "briefings: PDFs we render from our templates, no user file",
}


def test_every_place_that_stores_a_file_is_known() -> None:
    # A new upload path (API, import, e-mail) must go through contracts.files.sniff; this lists
    # the call sites so a new one cannot be added without deciding that.
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = set()
    for app in ("org", "budgets", "renewals", "contracts", "config"):
        for path in (root / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "save"
                    and "storage" in ast.unparse(node.func.value)
                ):
                    found.add(str(path.relative_to(root)))
    assert found == set(STORING)


def test_the_import_upload_refuses_a_pdf(cast: Cast) -> None:
    from renewals.imports.services import ImportRefused, import_upload

    with pytest.raises(ImportRefused):
        import_upload(user=cast.it_admin, kind="usage",
                      upload=SimpleUploadedFile("usage.csv", s.plain()))  # fmt: skip
