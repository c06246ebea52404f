"""The contract archive in Chromium: attach the signed contract from the executed renewal, find it
by a Chinese word inside the PDF, head A opens it, head B cannot, the integrity check notices a
file deleted behind the app's back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from budgets import services as budget_services
from contracts.models import ContractDocument
from renewals.execution import services as execution_services
from renewals.requests import services
from tests.conftest import Cast
from tests.contracts.helpers import make_pdf
from tests.e2e.conftest import DESKTOP
from tests.e2e.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_admin_attaches_finds_and_heads_are_scoped(
    page: object, browser: object, live_server: object, cast: Cast, tmp_path: Path,
    console_errors: list[str],
) -> None:  # fmt: skip
    base = live_server.url  # type: ignore[attr-defined]
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("100000"), user=cast.finance, memo="预算"
    )
    request = services.request_create(subscription=cast.subscription_a, user=cast.software_admin)
    services.request_submit(request=request, user=cast.software_admin)
    services.step_decide(request=request, user=cast.head_a, decision="approve")
    execution_services.request_execute(
        request=request, user=cast.finance, order_ref="HT-2027-088", fapiao_no="FP-1",
        actual_amount=Decimal("10000"), actual_currency="CNY",
        term_start=dt.date(2027, 1, 1), term_end=dt.date(2027, 12, 31), seats=10, edition="",
        modules=[],
    )  # fmt: skip
    pdf = tmp_path / "已签合同.pdf"
    pdf.write_bytes(make_pdf("第八条 合同期满前三十日未书面通知的，本合同自动续约一年。"))

    # From the executed request: attach the signed contract (the form is pre-filled).
    sign_in(page, base, "it_admin", "zh-hans")
    page.goto(base + request.get_absolute_url())  # type: ignore[attr-defined]
    page.get_by_test_id("attach-contract").click()  # type: ignore[attr-defined]
    assert page.input_value("#id_number") == "HT-2027-088"  # type: ignore[attr-defined]
    page.fill("#id_counterparty", "某软件有限公司")  # type: ignore[attr-defined]
    page.get_by_test_id("save").click()  # type: ignore[attr-defined]
    page.set_input_files("input[name=file]", str(pdf))  # type: ignore[attr-defined]
    page.get_by_test_id("upload").click()  # type: ignore[attr-defined]
    page.get_by_test_id("download").wait_for()  # type: ignore[attr-defined]
    document = ContractDocument.objects.get()
    assert document.text_status == "done" and "自动续约" in document.text

    # Found by a Chinese word from inside the PDF.
    page.goto(base + "/contracts/")  # type: ignore[attr-defined]
    page.fill("main input[name=q]", "自动续约")  # type: ignore[attr-defined]
    page.get_by_role("button", name="搜索").click()  # type: ignore[attr-defined]
    assert "HT-2027-088" in page.get_by_test_id("contracts").inner_text()  # type: ignore[attr-defined]

    # Head A opens it and downloads the file.
    other = browser.new_context(locale="zh-CN", accept_downloads=True, viewport=DESKTOP)  # type: ignore[attr-defined]
    head = other.new_page()
    sign_in(head, base, "head_a", "zh-hans")
    head.goto(base + document.contract.get_absolute_url())
    with head.expect_download() as download:
        head.get_by_test_id("download").click()
    assert download.value.suggested_filename == "已签合同.pdf"
    assert Path(download.value.path()).read_bytes() == pdf.read_bytes()

    # Head B cannot open the contract or its file.
    other.clear_cookies()
    sign_in(head, base, "head_b", "zh-hans")
    assert head.goto(base + document.contract.get_absolute_url()).status == 404
    assert head.goto(base + document.get_absolute_url()).status == 404
    other.close()
    console_errors.clear()  # the two 404s above were provoked on purpose

    # A file deleted behind the app's back is reported by the integrity check.
    default_storage.delete(document.stored_name)
    page.goto(base + "/contracts/")  # type: ignore[attr-defined]
    page.get_by_test_id("integrity-run").click()  # type: ignore[attr-defined]
    problems = page.get_by_test_id("integrity-problems").inner_text()  # type: ignore[attr-defined]
    assert "已签合同.pdf" in problems
