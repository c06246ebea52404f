"""Imports: broken, hostile and oversized files (clear error, nothing written, no file left) and
rows refused with their line, column and reason."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from org.models import Person
from renewals.imports import services as imports
from renewals.imports.models import ImportJob
from tests.conftest import Cast
from tests.factories import PersonFactory
from tests.renewals.conftest import Inventory
from tests.renewals.imports.conftest import (
    assert_nothing_written,
    codes,
    run,
    stored_files,
    upload,
    xlsx,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "usage.csv"),
        (b"%PDF-1.7\n1 0 obj\n", "usage.csv"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "usage.xls"),
        (b"", "usage.csv"),
        (b"   \n\n", "usage.csv"),
    ],
)
def test_files_that_are_not_csv_or_xlsx_are_refused_at_upload(
    cast: Cast, inventory: Inventory, content: bytes, name: str
) -> None:
    with pytest.raises(imports.ImportRefused):
        upload(cast.it_admin, "usage", content, name)
    assert not ImportJob.objects.exclude(pk=cast.import_job.pk).exists()
    assert_nothing_written(0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("subscription,month,active_users\n", "no data rows"),
        ("subscription,month\nJIRA-A,2026-01\n", "active_users"),
        ("subscription,Subscription,month,active_users\nJIRA-A,JIRA-A,2026-01,1\n", "twice"),
        (b"subscription,month,active_users\n\xff\xfe\x80\x80,2026-01,1\n", "encoding"),
        ("subscription,month,active_users\nJIRA-A,2026-01,1,extra,more\n", "Row 2 has more values"),
        ('subscription,month,active_users\n"JIRA-A,2026-01,1\n', "never closed"),
    ],
)
def test_broken_files_fail_with_a_clear_message(
    cast: Cast, inventory: Inventory, content: str | bytes, message: str
) -> None:
    job = upload(cast.it_admin, "usage", content)
    assert job.status == "invalid"
    assert message in job.failure_text, job.failure_text
    assert_nothing_written(0)


def test_row_errors_are_listed_with_row_column_and_reason(cast: Cast, inventory: Inventory) -> None:
    content = (
        "subscription,module,month,active_users,tasks_created\n"
        "JIRA-A,,2026-09,7,\n"  # fine
        "NOPE,,2026-09,1,\n"  # unknown subscription
        "JIRA-A,Nope,2026-09,1,\n"  # unknown module
        "JIRA-A,,2026-13,-4,x\n"  # bad month, negative, not a number
        "JIRA-A,,2026-10,1234567890123456789012345,\n"  # 25 digits
        "JIRA-A,,09/10/2026,1,\n"  # ambiguous date
        "JIRA-A,,2026-09,8,\n"  # duplicate of row 2
        '=HYPERLINK("http://evil"),,2026-09,1,\n'  # formula
        "FEISHU-B,,2026-09,1,\n"  # fine for IT admin (all departments)
    )
    job = upload(cast.it_admin, "usage", content)
    assert job.status == "invalid" and job.total_rows == 9
    assert codes(job) == [
        (2, "month", "duplicate_row"),
        (3, "subscription", "unknown_subscription"),
        (4, "module", "unknown_module"),
        (5, "active_users", "negative"),
        (5, "month", "not_a_month"),
        (5, "tasks_created", "not_a_number"),
        (6, "active_users", "too_large"),
        (7, "month", "not_a_month"),
        (8, "month", "duplicate_row"),
        (9, "subscription", "formula"),
    ]
    assert job.error_count == 10
    assert_nothing_written(0)


def test_errors_are_shown_in_the_users_language(cast: Cast, inventory: Inventory) -> None:
    job = upload(cast.it_admin, "usage", "subscription,month,active_users\nNOPE,2026-09,-1\n")
    client = Client()
    client.force_login(cast.it_admin)
    html = client.get(job.get_absolute_url()).content.decode()
    assert "没有此编号的订阅" in html and "不能为负数" in html
    html = client.get(job.get_absolute_url(), headers={"accept-language": "en"}).content.decode()
    client.cookies["django_language"] = "en"
    html = client.get(job.get_absolute_url()).content.decode()
    assert "No subscription with this reference." in html and "Cannot be negative." in html


def test_one_bad_row_means_nothing_is_written(cast: Cast, inventory: Inventory) -> None:
    good = "".join(f"JIRA-A,,2025-{m:02d},5\n" for m in range(1, 13))
    job = upload(
        cast.it_admin,
        "usage",
        "subscription,module,month,active_users\n" + good + "JIRA-A,,2026-01,-1\n",
    )
    assert job.status == "invalid"
    with pytest.raises(imports.ImportRefused):
        imports.import_commit(user=cast.it_admin, job=job)
    assert_nothing_written(0)


def test_a_leaver_needs_a_leaving_date(cast: Cast) -> None:
    job = upload(
        cast.it_admin, "people", "employee_no,name,department,status\nB1,B,a,active\nN1,N,a,left\n"
    )
    assert codes(job) == [(3, "status", "left_needs_date")]


def test_script_in_names_is_stored_as_text_and_escaped(cast: Cast, inventory: Inventory) -> None:
    run(cast.it_admin, "people", "employee_no,name,department\nX1,<script>alert(1)</script>,a\n")
    assert Person.objects.get(employee_no="X1").name == "<script>alert(1)</script>"
    client = Client()
    client.force_login(cast.it_admin)
    html = client.get(reverse("org:person-list")).content.decode()
    assert (
        "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    )


def test_formula_cells_in_xlsx_are_refused(cast: Cast, inventory: Inventory) -> None:
    content = xlsx(
        [
            ["subscription", "month", "active_users"],
            ["JIRA-A", "2026-09", '=HYPERLINK("http://x","y")'],
        ]
    )
    job = upload(cast.it_admin, "usage", content, "u.xlsx")
    assert codes(job) == [(2, "active_users", "formula")]


def test_mixed_date_formats(cast: Cast, inventory: Inventory) -> None:
    rows = [
        "2026-01-05",
        "2026/1/6",
        "2026.01.07",
        "2026年1月8日",
        "20260109",
        "2026-01-10 00:00:00",
        "1/11/2026",
        "2026-02-30",
    ]
    PersonFactory.create(employee_no="D1", department=cast.dept_a)
    content = "subscription,account,last_active_on\n" + "".join(f"JIRA-A,D1,{r}\n" for r in rows)
    from tests.factories import SeatFactory

    SeatFactory.create(subscription=inventory.jira, person=Person.objects.get(employee_no="D1"))
    job = upload(cast.it_admin, "activity", content)
    assert [e["line"] for e in job.errors if e["code"] == "not_a_date"] == [8, 9]


def test_zip_bomb_xlsx_is_refused(cast: Cast, inventory: Inventory) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", "<Types/>")
        bomb.writestr("xl/workbook.xml", "<workbook/>")
        bomb.writestr("xl/worksheets/sheet1.xml", "<" + "a" * (50 * 1024 * 1024) + ">")
    job = upload(cast.it_admin, "usage", out.getvalue(), "bomb.xlsx")
    assert job.status == "invalid" and "zip bomb" in job.failure_text
    assert_nothing_written(0)


def test_a_damaged_xlsx_is_refused(cast: Cast, inventory: Inventory) -> None:
    job = upload(cast.it_admin, "usage", b"PK\x03\x04" + b"garbage" * 100, "u.xlsx")
    assert job.status == "invalid" and "damaged" in job.failure_text


def test_oversized_upload_is_refused_before_it_is_stored(
    cast: Cast, inventory: Inventory, settings: object
) -> None:
    settings.IMPORT_MAX_BYTES = 1024 * 1024  # type: ignore[attr-defined]
    client = Client()
    client.force_login(cast.it_admin)
    big = SimpleUploadedFile(
        "big.csv", b"subscription,month,active_users\n" + b"JIRA-A,2026-09,1\n" * 70_000
    )
    response = client.post(reverse("renewals:import-list"), {"kind": "usage", "file": big})
    assert response.status_code == 400
    assert "1 MB" in response.content.decode()
    assert ImportJob.objects.count() == 1 and stored_files() == []


def test_a_file_over_the_default_50_mb_limit_is_refused(cast: Cast, inventory: Inventory) -> None:
    assert settings.IMPORT_MAX_BYTES == 50 * 1024 * 1024
    client = Client()
    client.force_login(cast.it_admin)
    row = b"JIRA-A,2026-09,1\n"
    content = b"subscription,month,active_users\n" + row * (51 * 1024 * 1024 // len(row))
    response = client.post(
        reverse("renewals:import-list"),
        {"kind": "usage", "file": SimpleUploadedFile("big.csv", content)},
    )
    assert response.status_code == 400 and "50 MB" in response.content.decode()
    assert ImportJob.objects.count() == 1 and stored_files() == []
