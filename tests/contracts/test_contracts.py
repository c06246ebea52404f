"""The contract archive: uploads checked by content, private storage, permission-checked
downloads, search inside PDFs (Chinese too), terms applied to the subscription, integrity."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from contracts import services
from contracts.models import Contract, ContractDocument, IntegrityCheck
from contracts.selectors import contract_list, contract_search
from tests.conftest import Cast
from tests.contracts import pdf_samples
from tests.contracts.helpers import client_for, make_pdf, png, stored_files, upload

# --- uploads ----------------------------------------------------------------------------------


def test_a_pdf_is_stored_privately_hashed_and_versioned(cast: Cast, contract: Contract) -> None:
    client = client_for(cast.it_admin)
    assert upload(client, contract, "合同.pdf", make_pdf("第一版")).status_code == 302
    assert upload(client, contract, "合同-v2.pdf", make_pdf("第二版")).status_code == 302
    documents = list(contract.documents.order_by("version"))
    assert [d.version for d in documents] == [1, 2]
    first = documents[0]
    assert first.original_name == "合同.pdf" and first.content_type == "application/pdf"
    assert first.stored_name.startswith("private/contracts/") and "合同" not in first.stored_name
    assert len(first.sha256) == 64 and first.size == len(make_pdf("第一版"))
    assert len(stored_files()) == 2
    # The same file again is recognised and refused; nothing new is stored.
    again = upload(client, contract, "copy.pdf", make_pdf("第一版"))
    assert again.status_code == 302 and contract.documents.count() == 2
    assert len(stored_files()) == 2


HOSTILE = {
    "html renamed .pdf": ("contract.pdf", b"<html><script>alert(1)</script></html>"),
    "svg renamed .pdf": ("x.pdf", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    "js renamed .pdf": ("x.pdf", b"alert(document.cookie)"),
    "png + html polyglot": ("scan.png", png(b"<html><script>alert(1)</script></html>")),
    "html hidden in a pdf": ("x.pdf", b"%PDF-1.4\n<script>alert(1)</script>\n%%EOF"),
    "pdf with javascript": (
        "x.pdf",
        b"%PDF-1.4\n1 0 obj << /S /JavaScript /JS (app.alert(1)) >>\n%%EOF",
    ),
    "empty": ("empty.pdf", b""),
    "truncated pdf": ("cut.pdf", b"%PDF-1.7\n1 0 obj\n"),
    "exe": ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 100),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused_and_nothing_is_stored(
    cast: Cast, contract: Contract, case: str
) -> None:
    name, content = HOSTILE[case]
    client = client_for(cast.it_admin)
    response = upload(client, contract, name, content)
    assert response.status_code == 302
    page = client.get(contract.get_absolute_url()).content.decode()
    assert "alert-danger" in page  # the reason, on the contract page
    assert not ContractDocument.objects.exists() and stored_files() == []


def test_a_clean_png_scan_is_accepted(cast: Cast, contract: Contract) -> None:
    assert upload(client_for(cast.it_admin), contract, "发票.png", png()).status_code == 302
    document = ContractDocument.objects.get()
    assert document.content_type == "image/png" and document.text_status == "pending"  # OCR


def test_a_file_over_the_limit_is_cut_off_not_stored(
    cast: Cast, contract: Contract, settings: Any
) -> None:
    settings.CONTRACT_MAX_BYTES = 50_000
    big = make_pdf("大文件") + b"%" + b"0" * 200_000 + b"\n%%EOF"
    response = upload(client_for(cast.it_admin), contract, "big.pdf", big)
    assert response.status_code == 302
    assert not ContractDocument.objects.exists() and stored_files() == []


def test_ten_thousand_multipart_parts_are_refused(cast: Cast, contract: Contract) -> None:
    parts = {f"f{i}": "x" for i in range(10_000)}
    response = client_for(cast.it_admin).post(
        reverse("contracts:document-upload", args=[contract.pk]), parts
    )
    assert response.status_code == 400
    assert not ContractDocument.objects.exists()


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ("x.pdf\r\nX-Header: 1", "x.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe.pdf"),
        ("C:\\Users\\me\\合同.PDF", "合同.pdf"),
    ],
)
def test_file_names_are_kept_as_safe_text(
    cast: Cast, contract: Contract, name: str, kept: str
) -> None:
    client = client_for(cast.it_admin)
    upload(client, contract, name, make_pdf(name))
    document = ContractDocument.objects.get()
    assert document.original_name == kept
    response = client.get(reverse("contracts:document-download", args=[document.pk]))
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition
    assert disposition.startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "X-Header" not in response.headers


# --- downloads and permissions ----------------------------------------------------------------


def test_downloads_are_checked_like_the_contract_page(cast: Cast, contract: Contract) -> None:
    upload(client_for(cast.it_admin), contract, "合同.pdf", make_pdf("正文"))
    document = ContractDocument.objects.get()
    url = reverse("contracts:document-download", args=[document.pk])
    for user in (cast.head_a, cast.software_admin, cast.finance, cast.auditor):
        response = client_for(user).get(url)
        assert response.status_code == 200, user
        assert b"".join(response.streaming_content) == make_pdf("正文")  # type: ignore[attr-defined]
    assert client_for(cast.head_b).get(url).status_code == 404
    assert client_for(cast.head_b).get(contract.get_absolute_url()).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    assert client_for(cast.employee).get(url).status_code == 403
    # Guessing the storage path or a media URL gets nothing.
    assert Client().get("/" + document.stored_name).status_code == 404
    assert client_for(cast.head_a).get(settings.MEDIA_URL + document.stored_name).status_code == 404
    assert client_for(cast.head_a).get("/static/../" + document.stored_name).status_code == 404


def test_pdfs_preview_inline_and_production_hands_off_to_the_web_server(
    cast: Cast, contract: Contract, settings: Any
) -> None:
    upload(client_for(cast.it_admin), contract, "合同.pdf", make_pdf("预览"))
    document = ContractDocument.objects.get()
    url = reverse("contracts:document-download", args=[document.pk])
    inline = client_for(cast.head_a).get(url + "?inline=1")
    assert inline["Content-Disposition"].startswith("inline;")
    settings.CONTRACT_SENDFILE = "x-accel"
    handed = client_for(cast.head_a).get(url)
    assert handed["X-Accel-Redirect"] == "/_protected/" + document.stored_name
    assert handed.content == b"" and handed["Content-Type"] == "application/pdf"


# --- text and search --------------------------------------------------------------------------


def test_text_is_extracted_and_a_chinese_word_from_inside_the_pdf_finds_the_contract(
    cast: Cast, contract: Contract
) -> None:
    services.contract_save(
        user=cast.it_admin, subscription=cast.subscription_a,
        data={"number": "OTHER-1", "counterparty": "别的公司", "valid_from": dt.date(2027, 1, 1),
              "valid_to": dt.date(2027, 12, 31), "total_value": Decimal("1")},
    )  # fmt: skip
    upload(
        client_for(cast.it_admin),
        contract,
        "合同.pdf",
        make_pdf("本合同到期前三十日书面通知可终止自动续约"),
    )
    document = ContractDocument.objects.get()
    assert services.document_extract_text(document_id=document.pk) == "done"
    document.refresh_from_db()
    assert "自动续约" in document.text
    found = contract_search(contract_list(user=cast.head_a), "自动续约")
    assert list(found) == [contract]
    assert list(contract_search(contract_list(user=cast.head_a), "书面通知 HT-2027")) == [contract]
    assert not contract_search(contract_list(user=cast.head_a), "违约金").exists()
    # The head of another department finds nothing, whatever the words.
    assert not contract_search(contract_list(user=cast.head_b), "自动续约").exists()
    page = client_for(cast.head_a).get(reverse("contracts:contract-list") + "?q=续约")
    assert "HT-2027-001" in page.content.decode() and "OTHER-1" not in page.content.decode()


def test_a_pdf_that_makes_the_extractor_run_forever_times_out_and_the_contract_stays_usable(
    cast: Cast, contract: Contract, settings: Any
) -> None:
    settings.CONTRACT_EXTRACT_TIMEOUT = 1
    stream = b"BT /F1 12 Tf " + b"(x) Tj " * 3_000_000 + b"ET"
    # A well-formed one-page PDF (the upload check accepts it) that is slow to extract.
    slow = pdf_samples.build({**pdf_samples.plain_objects(), 4: pdf_samples.stream(stream)})
    upload(client_for(cast.it_admin), contract, "slow.pdf", slow)
    document = ContractDocument.objects.get()
    assert services.document_extract_text(document_id=document.pk) == "timed_out"
    document.refresh_from_db()
    assert document.text_status == "timed_out" and document.text_error
    assert client_for(cast.head_a).get(contract.get_absolute_url()).status_code == 200
    response = client_for(cast.head_a).get(
        reverse("contracts:document-download", args=[document.pk])
    )
    assert response.status_code == 200


# --- terms ------------------------------------------------------------------------------------


def test_the_newest_contracts_terms_update_the_subscription_after_confirmation(
    cast: Cast, contract: Contract
) -> None:
    subscription = cast.subscription_a
    assert (subscription.notice_period_days, subscription.auto_renew) == (30, False)
    page = client_for(cast.it_admin).get(contract.get_absolute_url()).content.decode()
    assert 'data-testid="terms-diff"' in page and "30 → <strong>45</strong>" in page
    client_for(cast.it_admin).post(reverse("contracts:contract-apply-terms", args=[contract.pk]))
    subscription.refresh_from_db()
    assert (subscription.notice_period_days, subscription.auto_renew) == (45, True)
    # The subscription page now shows the contract trap: auto-renew, deadline, cap, days left.
    trap = client_for(cast.head_a).get(subscription.get_absolute_url()).content.decode()
    assert 'data-testid="contract-trap"' in trap and "5.00%" in trap
    # A department head may read but not apply.
    denied = client_for(cast.head_a).post(
        reverse("contracts:contract-apply-terms", args=[contract.pk])
    )
    assert denied.status_code == 403


def test_broken_contract_input_is_refused(cast: Cast) -> None:
    client = client_for(cast.it_admin)
    url = reverse("contracts:contract-add") + f"?subscription={cast.subscription_a.pk}"
    base = {
        "number": "X-1", "counterparty": "某公司", "valid_from": "2027-01-01",
        "valid_to": "2027-12-31", "total_value": "100", "currency": "CNY", "status": "active",
    }  # fmt: skip
    for bad in (
        {"total_value": "5e4"}, {"total_value": "-1"}, {"valid_to": "2026-01-01"},
        {"currency": "人民币"}, {"price_cap_percent": "150"}, {"number": "x" * 200},
    ):  # fmt: skip
        response = client.post(url, base | bad)
        assert response.status_code == 200, bad
    assert not Contract.objects.exists()
    assert client.post(url, base).status_code == 302 and Contract.objects.count() == 1


# --- integrity --------------------------------------------------------------------------------


def test_the_integrity_check_reports_a_deleted_and_a_changed_file(
    cast: Cast, contract: Contract
) -> None:
    client = client_for(cast.it_admin)
    upload(client, contract, "a.pdf", make_pdf("甲"))
    upload(client, contract, "b.pdf", make_pdf("乙"), kind="amendment")
    first, second = contract.documents.order_by("pk")
    assert services.integrity_check().ok
    default_storage.delete(first.stored_name)  # behind the app's back
    with default_storage.open(second.stored_name, "wb") as changed:
        changed.write(io.BytesIO(make_pdf("改过")).getvalue())
    result = services.integrity_check()
    assert [e["document"] for e in result.missing] == [first.pk]
    assert [e["document"] for e in result.mismatched] == [second.pk]
    page = client.get(reverse("contracts:contract-list")).content.decode()
    assert 'data-testid="integrity-problems"' in page and "a.pdf" in page
    assert IntegrityCheck.objects.count() == 2


def test_the_integrity_check_is_a_scheduled_job() -> None:
    from core.schedules import SCHEDULES

    assert any(s.func == "contracts.tasks.integrity_check" for s in SCHEDULES)


# --- archive paging -----------------------------------------------------------------------------


def capped_note(page: str) -> str | None:
    """The number in the "more than N contracts match" note (in any language), if shown."""
    import re

    found = re.search(r'data-testid="count-capped">[^<0-9]*([0-9]+)', page)
    return found.group(1) if found else None


def test_matches_are_counted_up_to_a_cap_and_later_pages_stay_reachable(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contracts import views

    monkeypatch.setattr(views, "COUNT_CAP", 2)
    monkeypatch.setattr(views, "PER_PAGE", 1)
    for i in range(5):
        services.contract_save(
            user=cast.it_admin, subscription=cast.subscription_a,
            data={"number": f"N-{i}", "counterparty": "某公司", "valid_from": dt.date(2027, 1, 1),
                  "valid_to": dt.date(2027, 1, 2) + dt.timedelta(days=i),
                  "total_value": Decimal("1"), "price_terms": "自动续约"},
        )  # fmt: skip
    client = client_for(cast.it_admin)
    url = reverse("contracts:contract-list") + "?q=续约"
    first = client.get(url).content.decode()
    assert capped_note(first) == "2" and "N-4" in first and "N-3" not in first
    # The cap moves with the page: page 4 is offered, counted exactly, and shows the 4th.
    last = client.get(url + "&page=4").content.decode()
    assert capped_note(last) is None and "N-1" in last and "N-4" not in last
    assert capped_note(client.get(url + "&page=3").content.decode()) == "4"
    # The head of the other department finds nothing.
    other = client_for(cast.head_b).get(url).content.decode()
    assert "N-4" not in other and 'data-testid="count-capped"' not in other


def test_the_archive_reads_as_many_queries_for_3_as_for_30_contracts(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    client = client_for(cast.head_a)
    url = reverse("contracts:contract-list") + "?q=续约"

    def add(count: int, start: int) -> None:
        for i in range(start, start + count):
            services.contract_save(
                user=cast.it_admin, subscription=cast.subscription_a,
                data={"number": f"Q-{i}", "counterparty": "某公司",
                      "valid_from": dt.date(2027, 1, 1), "valid_to": dt.date(2027, 12, 31),
                      "total_value": Decimal("1"), "price_terms": "续约"},
            )  # fmt: skip

    add(3, 0)
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert "Q-2" in client.get(url).content.decode()
    add(27, 3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert "Q-29" in client.get(url).content.decode()
