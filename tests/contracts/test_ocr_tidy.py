"""OCR's helpers: the text tidied before it is stored, the script a page is in, the page rasterised
at the size read (no OCR, no database)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from contracts.ocr import page_script, tidy


@pytest.mark.parametrize(
    ("ocr", "tidied"),
    [
        # A table's rules, with the quote or comma Tesseract sees beside them, become gaps.
        ("名称 “| 山东鲁信化工有限公司   名称，| 上海简道网络科技有限公司",
         "名称   山东鲁信化工有限公司   名称   上海简道网络科技有限公司"),
        # A label cell wrapped onto a line of its own is joined back to its row.
        ("Subscription        2025-08-01\nStart Date", "Subscription Start Date   2025-08-01"),
        ("Subscription Start | May 1, 2026\nDate", "Subscription Start Date   May 1, 2026"),
        ("服务开通   2026年3月1日\n日期", "服务开通日期   2026年3月1日"),
        # ... but not a table's header row (more than a label and a value) ...
        ("Product   Edition   Quantity   Unit Price\n(users)",
         "Product   Edition   Quantity   Unit Price\n(users)"),
        # ... nor a line that is no label.
        ("Total   2026-08-01\nThe Customer shall pay within thirty days",
         "Total   2026-08-01\nThe Customer shall pay within thirty days"),
        # A lone quotation mark is a gap; quoted words keep theirs.
        ("签订日期: 2025年8月4日”签订地点: 上海市", "签订日期: 2025年8月4日 签订地点: 上海市"),
        ("第一条“服务内容", "第一条 服务内容"),
        ("以下简称“甲方”", "以下简称“甲方”"),
        # Usual misreadings in contract words.
        ("服务费共计#270,000.00 (含增值税)", "服务费共计¥270,000.00 (含增值税)"),
        ("服务费共计y180,000.00", "服务费共计¥180,000.00"),
        ("(含6%增什\n税)", "(含6%增值\n税)"),
        ("签订目期:: 2025年8月4日", "签订日期: 2025年8月4日"),
        ("单价〈元/账号〉", "单价(元/账号)"),
        # Text that needs nothing stays as it is.
        ("Yield 2,000 units by May 1, 2026.", "Yield 2,000 units by May 1, 2026."),
    ],
)  # fmt: skip
def test_tidy(ocr: str, tidied: str) -> None:
    assert tidy(ocr) == tidied
    assert tidy(tidied) == tidied


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("甲方：上海星河科技有限公司\n乙方：北京云帆软件有限公司 (Cloud Sail Software)", "cjk"),
        ("This Order Form is entered into between the Vendor and the Subscriber.", "latin"),
        ("The Vendor shall store and process Customer Data only in mainland China. " * 8
         + "Contact: 王伟", "latin"),
        ("Subscriber 上海明德医疗器械有限公司 shall pay the Fees within thirty days of invoice.",
         "mixed"),
        ("", "cjk"),  # nothing to read again
    ],
)  # fmt: skip
def test_page_script(text: str, script: str) -> None:
    assert page_script(text) == script


def test_a_label_cell_read_apart_from_its_row_is_joined_back() -> None:
    ocr = "Subscription Start   1 October 2025\n\nDate\n\nSubscription End   30 September 2026\n\nDate"
    assert tidy(ocr) == (
        "Subscription Start Date   1 October 2025\n\nSubscription End Date   30 September 2026"
    )
    assert (
        tidy("甲方 《采购方) : 浙江禾丰食品集团有限公司")
        == "甲方 (采购方) : 浙江禾丰食品集团有限公司"
    )
    assert tidy("依据《民法典》(2020)") == "依据《民法典》(2020)"
    assert (
        tidy("法定代表人或授权代表日期; 2024年09月13日")
        == "法定代表人或授权代表日期: 2024年09月13日"
    )
    assert tidy("乙方有权暂停服务; 经催告后仍未支付的") == "乙方有权暂停服务; 经催告后仍未支付的"
    next_row = "Auto-Renewal   No\n\nRenewal Price\nCap\n\nIncrease of no more than 8%"
    assert tidy(next_row) == next_row
    assert (
        tidy("乙方 (服务方) :; 成都星图数据科技有限公司")
        == "乙方 (服务方) : 成都星图数据科技有限公司"
    )
    assert tidy("甲方; 重庆长嘉汽车零部件有限公司") == "甲方: 重庆长嘉汽车零部件有限公司"


def test_pages_are_rasterised_at_the_size_that_is_read(tmp_path: Path) -> None:
    # An A4 scan at 300 dpi (8.7 megapixels) for a reader that reads 4: rendered at 4 at once,
    # its resolution saying so, grey stays grey.
    from ocrmypdf.helpers import Resolution

    from contracts.ocr_raster import rasterize_pdf_page, scale_for

    page = Image.new("L", (2481, 3508), 255)
    source = tmp_path / "scan.pdf"
    page.save(source, "PDF", resolution=300)
    out = tmp_path / "page.png"
    options = SimpleNamespace(max_ocr_image_mpixels=4.0)
    dpi = Resolution(300, 300)
    rasterize_pdf_page(source, out, "pnggray", dpi, 1, dpi, None, options, False)
    with Image.open(out) as image:
        assert image.mode == "L"
        assert 3_900_000 < image.width * image.height <= 4_000_000
        assert round(image.info["dpi"][0]) == round(300 * scale_for(595.44, 841.92, 300, 4e6))
    options.max_ocr_image_mpixels = 9.0  # within the limit: the page's own resolution
    rasterize_pdf_page(source, out, "pnggray", dpi, 1, dpi, None, options, False)
    with Image.open(out) as image:
        assert (image.width, image.height) == (2481, 3508)
