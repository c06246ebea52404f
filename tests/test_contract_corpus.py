"""The contract corpus generator (bench/contract_corpus.py): its text PDFs say what its truth says.

No OCR here: the scans are only checked to be images of the right pages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from bench.contract_corpus import FIELDS, generate, load, zh_money_upper, zh_number


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("corpus")
    return out, generate(out, count=5, seed=3, scans=1)


def test_text_pdfs_contain_every_truth_value_as_written(corpus: tuple[Path, list]) -> None:
    out, cases = corpus
    assert [c.language for c in cases] == ["zh", "en", "zh", "en", "zh"]
    assert {c.layout for c in cases} == {
        "zh_articles",
        "zh_table",
        "zh_order",
        "en_msa",
        "en_order",
    }
    for case in cases:
        text_pdf = next(d for d in case.documents if d.kind == "text")
        reader = PdfReader(out / text_pdf.path)
        assert len(reader.pages) == case.page_count and 2 <= case.page_count <= 4, case.key
        pages = [squeeze(page.extract_text() or "") for page in reader.pages]
        assert set(case.truth) <= set(FIELDS) and {"vendor", "customer"} <= set(case.truth)
        assert set(case.written) == set(case.truth) == set(case.field_pages), case.key
        for name, mentions in case.written.items():
            for mention in mentions:
                assert squeeze(mention) in "".join(pages), (case.key, name, mention)
            for page in case.field_pages[name]:  # the page of a mention holds one of them
                assert any(squeeze(m) in pages[page - 1] for m in mentions), (case.key, name)


def test_truth_json_and_scans(corpus: tuple[Path, list]) -> None:
    out, cases = corpus
    assert [c.to_json() for c in load(out)] == [c.to_json() for c in cases]
    assert json.loads((out / "truth.json").read_text(encoding="utf-8"))["seed"] == 3
    scans = [(c, d) for c in cases for d in c.documents if d.kind == "scan"]
    assert len(scans) == 1
    for case, scan in scans:
        path = out / scan.path
        if scan.content_type == "application/pdf":
            reader = PdfReader(path)
            assert len(reader.pages) == len(scan.pages) == case.page_count
            assert not squeeze(reader.pages[0].extract_text() or "")  # images only
        else:
            assert len(scan.pages) == 1 and Image.open(path).mode == "L"
            assert set(case.truth_for(scan)) <= set(case.truth)


def test_chinese_numerals() -> None:
    from decimal import Decimal

    assert [zh_number(n) for n in (15, 30, 45, 105, 120)] == [
        "十五",
        "三十",
        "四十五",
        "一百零五",
        "一百二十",
    ]
    assert zh_money_upper(Decimal(150000)) == "壹拾伍万元整"
    assert zh_money_upper(Decimal(1200500)) == "壹佰贰拾万零伍佰元整"
    assert zh_money_upper(Decimal(105000)) == "壹拾万伍仟元整"
    assert zh_money_upper(Decimal("100050.50")) == "壹拾万零伍拾元伍角"
