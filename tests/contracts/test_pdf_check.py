"""Issue #16.2: a contract PDF is judged by parsing it, not by byte patterns. Active content is
refused in every form a viewer would run it (encoded names, compressed object streams,
incremental updates, objects no table lists), stubs without a page are refused, encrypted files
too, and a parser bomb costs a bounded amount of work. Real documents (WeasyPrint renderings, the
demo contracts) are still accepted. Through the upload (nothing stored when a file is refused):
test_pdf_upload.py."""

from __future__ import annotations

import pytest

from contracts.models import Contract
from contracts.pdfcheck import Limits, judge
from tests.conftest import Cast
from tests.contracts import pdf_samples as s
from tests.contracts.helpers import make_pdf
from tests.contracts.pdf_cases import (
    ACTIVE,
    PACKED_PAGES,
    PLAIN,
    STUBS,
    catalog,
    with_objects,
    writer_pdf,
)

# pypdf warns about the damaged files on purpose; the messages are compared in English.
pytestmark = pytest.mark.usefixtures("quiet_pypdf", "english")


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


@pytest.mark.parametrize("case", sorted(STUBS))
def test_stubs_that_are_not_a_readable_pdf_with_a_page_are_refused(case: str) -> None:
    content, reason = STUBS[case]
    verdict = judge(content)
    assert verdict.get("refused") in ({reason} if reason else {"unparseable", "no_pages"}), verdict


@pytest.mark.parametrize("user_password", ["secret", ""])
def test_encrypted_pdfs_are_refused(user_password: str) -> None:
    content = writer_pdf(lambda w: w.encrypt(user_password, "owner", algorithm="RC4-128"))
    assert judge(content) == {"refused": "encrypted", "kind": "", "detail": ""}


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
