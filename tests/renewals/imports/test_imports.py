"""Imports: every kind end to end, idempotent re-imports, and broken, hostile and oversized files."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from org.models import Person, User
from renewals.imports import checks, engine
from renewals.imports import services as imports
from renewals.imports.models import ImportJob
from renewals.inventory.models import Module, Subscription
from renewals.usage.models import MonthlyUsage, Seat
from tests.conftest import Cast
from tests.factories import PersonFactory
from tests.renewals.conftest import Inventory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are checked in English here (test_errors_are_shown_in_the_users_language covers
    Chinese)."""
    with translation.override("en"):
        yield


def upload(user: User, kind: str, content: bytes | str, name: str = "f.csv") -> ImportJob:
    data = content.encode() if isinstance(content, str) else content
    return imports.import_upload(user=user, kind=kind, upload=SimpleUploadedFile(name, data))


def run(user: User, kind: str, content: bytes | str, name: str = "f.csv") -> ImportJob:
    job = upload(user, kind, content, name)
    assert job.status == "ready", (job.failure_text, job.errors)
    return imports.import_commit(user=user, job=job)


def codes(job: ImportJob) -> list[tuple[int, str, str]]:
    return [(e["line"], e["column"], e["code"]) for e in job.errors]


def stored_files() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "private" / "imports"
    return list(folder.glob("*")) if folder.exists() else []


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


USAGE = "subscription,module,month,active_users,tasks_created,tasks_completed\nJIRA-A,,2026-09,7,100,80\nJIRA-A,Gantt,2026-09,2,,\n"


# --- every kind, and re-importing changes nothing ---------------------------------------------


def test_usage_import_and_reimport(cast: Cast, inventory: Inventory) -> None:
    job = run(cast.it_admin, "usage", USAGE)
    assert job.status == "done" and job.summary["created"] == 2
    rows = set(
        MonthlyUsage.objects.values_list("module__name", "month", "active_users", "tasks_completed")
    )
    assert rows == {(None, dt.date(2026, 9, 1), 7, 80), ("Gantt", dt.date(2026, 9, 1), 2, None)}
    again = run(cast.it_admin, "usage", USAGE)
    assert (again.summary["created"], again.summary["updated"], again.summary["unchanged"]) == (
        0,
        0,
        2,
    )
    changed = run(cast.it_admin, "usage", USAGE.replace("JIRA-A,,2026-09,7", "JIRA-A,,2026-09,8"))
    assert (changed.summary["created"], changed.summary["updated"]) == (0, 1)
    assert stored_files() == []  # nothing kept once imported


def test_subscriptions_import_creates_vendors_modules_and_is_idempotent(
    cast: Cast, inventory: Inventory
) -> None:
    content = (
        "Ref,Vendor,Product,Edition,Department,Owner,Seats,Unit_Price,Currency,Billing_Cycle,"
        "Term_Start,Term_End,Auto_Renew,Notice_Period_Days,Tags,Modules\n"
        "NEW-1,ClickUp,ClickUp,Business,A,head_a,25,12.00,usd,月付,2026-01-01,2026-12-31,是,45,"
        "项目管理;试点,Automations;Docs=3.50\n"
    )
    job = run(cast.it_admin, "subscriptions", content)
    assert job.summary["created"] == 1
    sub = Subscription.objects.get(ref="NEW-1")
    assert (sub.vendor.name, sub.department, sub.owner, sub.currency, sub.billing_cycle) == (
        "ClickUp", cast.dept_a, cast.head_a, "USD", "monthly",
    )  # fmt: skip
    assert sub.auto_renew and sub.notice_period_days == 45 and sub.tags == ["项目管理", "试点"]
    assert sub.cancellation_deadline == dt.date(2026, 11, 16)
    assert dict(Module.objects.filter(subscription=sub).values_list("name", "unit_price")) == {
        "Automations": None, "Docs": Decimal("3.50"),
    }  # fmt: skip
    again = run(cast.it_admin, "subscriptions", content)
    assert (
        again.summary["created"],
        again.summary["updated"],
        again.summary["modules_changed"],
    ) == (0, 0, 0)


def test_people_import_marks_leavers_from_an_hr_export_in_chinese(cast: Cast) -> None:
    PersonFactory.create(employee_no="E1", name="张三", department=cast.dept_a)
    content = "工号,姓名,邮箱,部门,在职状态,离职日期\nE1,张三,zs@example.cn,a,离职,2026-10-31\nE2,李四,,a-qa,在职,\n"
    job = run(cast.it_admin, "people", content.encode("gbk"))
    assert (job.summary["created"], job.summary["updated"]) == (1, 1)
    leaver = Person.objects.get(employee_no="E1")
    assert leaver.status == "left" and leaver.left_on == dt.date(2026, 10, 31)
    assert Person.objects.get(employee_no="E2").department == cast.dept_a_child
    assert run(cast.it_admin, "people", content.encode("gbk")).summary["unchanged"] == 2


def test_seats_and_activity_imports(cast: Cast, inventory: Inventory) -> None:
    PersonFactory.create(employee_no="P1", department=cast.dept_a, email="p1@example.cn")
    PersonFactory.create(employee_no="P2", department=cast.dept_a)
    seats = (
        "subscription,employee_no,account,modules,assigned_on,last_active_on\n"
        "JIRA-A,P1,p1-login,Gantt,2026-03-01,2026-05-01\nJIRA-A,P2,,,2026-03-01,\n"
    )
    assert run(cast.it_admin, "seats", seats).summary["created"] == 2
    assert list(
        Seat.objects.get(person__employee_no="P1").modules.values_list("name", flat=True)
    ) == ["Gantt"]
    assert run(cast.it_admin, "seats", seats).summary["unchanged"] == 2
    activity = "subscription,account,last_active_on\nJIRA-A,p1@example.cn,2026-11-20\nJIRA-A,P2,2026/11/21\n"
    job = run(cast.it_admin, "activity", activity)
    assert job.summary["updated"] == 2
    assert Seat.objects.get(person__employee_no="P2").last_active_on == dt.date(2026, 11, 21)
    assert run(cast.it_admin, "activity", activity).summary["unchanged"] == 2


def test_xlsx_with_shuffled_upper_case_headers_and_excel_dates(
    cast: Cast, inventory: Inventory
) -> None:
    excel_date = dt.datetime(2026, 8, 1)  # noqa: DTZ001 - Excel date cells are naive
    content = xlsx([["ACTIVE_USERS", "Month", "SUBSCRIPTION"], [5, excel_date, "JIRA-A"]])
    job = run(cast.it_admin, "usage", content, "usage.xlsx")
    assert job.status == "done"
    assert MonthlyUsage.objects.get().month == dt.date(2026, 8, 1)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_accepted_encodings(cast: Cast, inventory: Inventory, encoding: str) -> None:
    content = "subscription,module,month,active_users\nJIRA-A,,2026年9月,3\n"
    assert run(cast.it_admin, "usage", content.encode(encoding)).status == "done"


# --- broken and hostile files: clear error, nothing written, no file left ---------------------


def assert_nothing_written(before: int) -> None:
    assert MonthlyUsage.objects.count() == before
    assert stored_files() == []


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


def test_data_changed_after_the_preview_is_caught_at_commit(
    cast: Cast, inventory: Inventory
) -> None:
    job = upload(cast.it_admin, "usage", USAGE)
    assert job.status == "ready"
    inventory.gantt.delete()  # someone removes the module between preview and commit
    job = imports.import_commit(user=cast.it_admin, job=job)
    assert job.status == "invalid" and codes(job) == [(3, "module", "unknown_module")]
    assert_nothing_written(0)


def test_a_file_changed_after_the_preview_is_checked_in_full_at_commit(
    cast: Cast, inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    content_checked = []

    def check_rows(*args: object, content: bool, **kwargs: object) -> object:
        content_checked.append(content)
        return checks.check_rows(*args, content=content, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(imports, "check_rows", check_rows)
    assert run(cast.it_admin, "usage", USAGE).status == "done"
    assert content_checked == [True, False]  # the commit of the previewed file: references only
    job = upload(cast.it_admin, "usage", USAGE)
    assert job.status == "ready"
    # The commit repeats the format checks only when the stored file is not the one previewed.
    (imports.storage_dir() / job.stored_name).write_text(USAGE.replace(",7,", ",seven,"))
    job = imports.import_commit(user=cast.it_admin, job=job)
    assert job.status == "invalid" and codes(job) == [(2, "active_users", "not_a_number")]
    assert content_checked[-1] is True
    assert_nothing_written(2)


def test_usage_import_with_and_without_the_foreign_key_triggers(
    cast: Cast, inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test database role may skip the triggers (the fast path every other test takes); the
    # path of a role that may not writes the same rows.
    monkeypatch.setattr(engine, "_references_held", lambda cursor: False)
    job = run(cast.it_admin, "usage", USAGE)
    assert job.summary["created"] == 2
    assert run(cast.it_admin, "usage", USAGE).summary["unchanged"] == 2
    monkeypatch.undo()
    changed = USAGE.replace("2026-09", "2026-10")
    assert run(cast.it_admin, "usage", changed).summary["created"] == 2
    assert MonthlyUsage.objects.count() == 4
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"  # only the INSERT ran without the triggers


def test_new_usage_rows_skip_the_triggers_only_while_their_references_are_locked(
    cast: Cast, inventory: Inventory
) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE import_rows (existing bigint, sid bigint, mid bigint) "
            "ON COMMIT DROP"
        )
        cursor.execute(
            "INSERT INTO import_rows VALUES (NULL, %s, %s), (NULL, %s, NULL), (1, -1, -1)",
            [inventory.jira.pk, inventory.gantt.pk, inventory.feishu_b.pk],
        )
        assert engine._references_held(cursor)  # rows to be updated (existing) do not count
        cursor.execute("INSERT INTO import_rows VALUES (NULL, -1, NULL)")  # a vanished one
        assert not engine._references_held(cursor)
        cursor.execute("DROP TABLE import_rows")


def test_software_admin_cannot_import_for_another_department(
    cast: Cast, inventory: Inventory
) -> None:
    job = upload(
        cast.software_admin,
        "usage",
        "subscription,month,active_users\nFEISHU-B,2026-09,1\nJIRA-A,2026-09,1\n",
    )
    assert codes(job) == [(2, "subscription", "department_not_allowed")]
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        upload(cast.software_admin, "people", "employee_no,name,department\nX,Y,a\n")
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        upload(cast.head_a, "usage", USAGE)


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


def test_a_second_import_of_the_same_kind_waits_for_the_first(
    cast: Cast, inventory: Inventory
) -> None:
    ImportJob.objects.filter(pk=cast.import_job.pk).update(status="committing")
    with pytest.raises(imports.ImportRefused, match="Another import"):
        upload(cast.it_admin, "usage", USAGE)
    assert stored_files() == []
    assert run(cast.it_admin, "people", "employee_no,name,department\nQ1,Q,a\n").status == "done"


def test_commit_happens_once_however_often_it_is_clicked(cast: Cast, inventory: Inventory) -> None:
    job = upload(cast.it_admin, "usage", USAGE)
    imports.import_commit(user=cast.it_admin, job=job)
    with pytest.raises(imports.ImportRefused):
        imports.import_commit(user=cast.it_admin, job=job)
    assert MonthlyUsage.objects.count() == 2


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


def test_upload_and_commit_through_the_pages(cast: Cast, inventory: Inventory) -> None:
    client = Client()
    client.force_login(cast.software_admin)
    response = client.post(
        reverse("renewals:import-list"),
        {"kind": "usage", "file": SimpleUploadedFile("u.csv", USAGE.encode())},
    )
    job = ImportJob.objects.exclude(pk=cast.import_job.pk).get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    html = client.get(job.get_absolute_url()).content.decode()
    assert 'data-status="ready"' in html and "JIRA-A" in html
    assert client.get(reverse("renewals:import-commit", args=[job.pk])).status_code == 405
    client.post(reverse("renewals:import-commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done" and MonthlyUsage.objects.count() == 2
    other = Client()
    other.force_login(cast.head_a)
    assert other.get(job.get_absolute_url()).status_code == 403


def test_template_csv_lists_the_columns(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.it_admin)
    body = client.get(reverse("renewals:import-template", args=["usage"])).content.decode(
        "utf-8-sig"
    )
    assert (
        body.splitlines()[0]
        == "subscription,month,active_users,module,tasks_created,tasks_completed"
    )
    assert client.get(reverse("renewals:import-template", args=["nope"])).status_code == 404


@pytest.mark.django_db(databases=["default", "progress"])
def test_large_files_run_in_the_worker(
    cast: Cast, inventory: Inventory, settings: object, django_capture_on_commit_callbacks: object
) -> None:
    settings.IMPORT_BACKGROUND_BYTES = 10  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        job = upload(cast.it_admin, "usage", USAGE)
    job.refresh_from_db()
    assert job.status == "ready", job.failure_text  # checked by the task (sync cluster in tests)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        imports.import_commit(user=cast.it_admin, job=job)
    job.refresh_from_db()
    assert job.status == "done" and job.progress == 100
    from django_q.models import Success

    assert Success.objects.filter(func="renewals.tasks.import_check").exists()


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
