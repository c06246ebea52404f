"""Imports: blank rows are no data (CSV in every accepted encoding and XLSX, anywhere in the
file, rows keep their numbers), a department is found by its code or its name (an ambiguous one
is refused), and a database error never reaches the user as PostgreSQL's text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from org.models import Department, Person
from renewals.imports import engine
from renewals.imports import services as imports
from renewals.imports.models import ImportJob
from renewals.inventory.models import Subscription
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast
from tests.factories import DepartmentFactory
from tests.renewals.conftest import Inventory
from tests.renewals.imports.conftest import codes, run, stored_files, upload, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


# Blank lines before, between and after the rows: empty, spaces and a tab, an ideographic space,
# CRLF, and a row of empty cells.
BLANKS = (
    "subscription,module,month,active_users\n"
    "\n"
    "JIRA-A,,2026-09,7\n"
    "   \t\n"
    "\u3000\r\n"
    ",,,\n"
    " , ,  ,\n"
    "JIRA-A,Gantt,2026-09,2\n"
    "\n\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_blank_lines_in_a_csv_are_skipped(cast: Cast, inventory: Inventory, encoding: str) -> None:
    job = run(cast.it_admin, "usage", BLANKS.encode(encoding))
    assert job.status == "done" and job.total_rows == 2 and job.summary["created"] == 2
    assert sorted(MonthlyUsage.objects.values_list("active_users", flat=True)) == [2, 7]


def test_rows_after_blank_lines_keep_their_row_numbers(cast: Cast, inventory: Inventory) -> None:
    content = BLANKS + "JIRA-A,,2026-10,-1\n"  # the file's row 11
    job = upload(cast.it_admin, "usage", content)
    assert job.status == "invalid" and job.total_rows == 3
    assert codes(job) == [(11, "active_users", "negative")]


def test_a_blank_line_inside_a_quoted_value_is_kept(cast: Cast, inventory: Inventory) -> None:
    content = (
        "ref,vendor,product,department,seats,unit_price,term_start,term_end,notes\n"
        '\nNOTE-1,Notion,Notion,a,5,8.00,2026-01-01,2026-12-31,"first line\n\n   \nlast line"\n\n'
    )
    assert run(cast.it_admin, "subscriptions", content).status == "done"
    assert Subscription.objects.get(ref="NOTE-1").notes == "first line\n\n   \nlast line"


def test_blank_rows_in_an_xlsx_are_skipped_and_rows_keep_their_numbers(
    cast: Cast, inventory: Inventory
) -> None:
    content = xlsx(
        [
            ["subscription", "module", "month", "active_users"],
            [None, None, None, None],
            ["JIRA-A", None, "2026-09", 7],
            ["  ", "", " ", "\u3000"],
            [],
            ["JIRA-A", "Gantt", "2026-09", -2],  # spreadsheet row 6
        ]
    )
    job = upload(cast.it_admin, "usage", content, "usage.xlsx")
    assert job.status == "invalid" and job.total_rows == 2
    assert codes(job) == [(6, "active_users", "negative")]
    fixed = xlsx([["subscription", "month", "active_users"], [], ["JIRA-A", "2026-09", 7], [" "]])
    assert run(cast.it_admin, "usage", fixed, "usage.xlsx").summary["created"] == 1


def test_a_file_of_blank_rows_has_no_data(cast: Cast, inventory: Inventory) -> None:
    job = upload(cast.it_admin, "usage", "subscription,month,active_users\n\n , ,\n\n")
    assert job.status == "invalid" and "no data rows" in job.failure_text


# --- departments by code or name --------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_people_import_accepts_a_department_name(cast: Cast, encoding: str) -> None:
    content = "工号,姓名,部门\nN1,王五,研发中心 A\nN2,赵六,测试部 a-qa\nN3,钱七,B\n"
    assert run(cast.it_admin, "people", content.encode(encoding)).summary["created"] == 3
    found = dict(
        Person.objects.filter(employee_no__startswith="N").values_list(
            "employee_no", "department__code"
        )
    )
    assert found == {"N1": "a", "N2": "a-qa", "N3": "b"}


def test_subscriptions_import_accepts_a_department_name_in_xlsx(
    cast: Cast, inventory: Inventory
) -> None:
    content = xlsx(
        [
            ["编号", "供应商", "产品", "部门", "席位", "单价", "开始日期", "结束日期"],
            ["NAME-1", "Notion", "Notion", "市场部 B", 5, 8, "2026-01-01", "2026-12-31"],
        ]
    )
    assert run(cast.it_admin, "subscriptions", content, "s.xlsx").summary["created"] == 1
    assert Subscription.objects.get(ref="NAME-1").department == cast.dept_b


def test_a_department_named_outside_the_importers_departments_is_refused(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "_allowed_departments", lambda user: [cast.dept_a.pk])
    content = "工号,姓名,部门\nP9,某人,市场部 B\nP10,某人,没有这个部门\nP11,某人,研发中心 A\n"
    job = upload(cast.it_admin, "people", content)
    assert codes(job) == [
        (2, "department", "department_not_allowed"),
        (3, "department", "unknown_department"),
    ]


def test_an_ambiguous_department_is_refused_with_a_clear_error(cast: Cast) -> None:
    DepartmentFactory.create(code="ops", name="运维部")
    DepartmentFactory.create(code="it", name="OPS")  # another department's name is the code "ops"
    content = "employee_no,name,department\nM1,A,ops\nM2,B,运维部\nM3,C,it\n"
    job = upload(cast.it_admin, "people", content)
    assert job.status == "invalid"
    assert codes(job) == [(2, "department", "ambiguous_department")]
    assert "More than one department" in str(imports_error_message(job))
    assert not Person.objects.filter(employee_no__startswith="M").exists()


def imports_error_message(job: ImportJob) -> Any:
    from renewals.imports.columns import ERROR_MESSAGES

    return ERROR_MESSAGES[job.errors[0]["code"]]


# --- database errors: our message, never PostgreSQL's; nothing changed ------------------------


def test_a_database_error_while_checking_is_a_translated_message_without_a_row(
    cast: Cast, inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_check(cursor: Any, **kwargs: Any) -> Any:
        cursor.execute("SELECT 1 / 0")  # a real PostgreSQL error: division by zero

    monkeypatch.setattr(imports, "check_rows", broken_check)
    job = upload(cast.it_admin, "usage", "subscription,month,active_users\nJIRA-A,2026-09,1\n")
    assert job.status == "invalid" and job.errors == []
    assert "database problem" in job.failure_text and "division" not in job.failure_text
    with translation.override("zh-hans"):
        text = ImportJob.objects.get(pk=job.pk).failure_text
    assert "数据库" in text and "division" not in text and "row" not in text.lower()
    assert MonthlyUsage.objects.count() == 0 and stored_files() == []


def test_a_database_error_while_writing_changes_nothing_and_shows_no_database_text(
    cast: Cast, inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_apply(cursor: Any, **kwargs: Any) -> Any:
        engine.apply_rows(cursor, **kwargs)  # writes the rows …
        cursor.execute("INSERT INTO org_department (id) VALUES (NULL)")  # … then fails

    monkeypatch.setattr(imports, "apply_rows", broken_apply)
    job = upload(cast.it_admin, "usage", "subscription,month,active_users\nJIRA-A,2026-09,1\n")
    job = imports.import_commit(user=cast.it_admin, job=job)
    assert job.status == "failed"
    assert "database problem" in job.failure_text
    assert "null value" not in job.failure_text and "org_department" not in job.failure_text
    assert MonthlyUsage.objects.count() == 0 and Department.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "english", "chinese"),
    [
        ("JIRA-A,2026-09,1\nJIRA-A,2026-10,1,2\n", "Row 3 has more values", "第 3 行"),
        ("JIRA-A,2026-09,1\nJIRA-A,2026-10\n", "Row 3 has fewer values", "第 3 行"),
        ('JIRA-A,2026-09,1\n"JIRA-A,2026-10,1\n', "never closed", "引号"),
    ],
)
def test_a_file_copy_cannot_read_gets_our_message_with_its_row(
    cast: Cast, inventory: Inventory, body: str, english: str, chinese: str
) -> None:
    job = upload(cast.it_admin, "usage", "subscription,month,active_users\n" + body)
    assert job.status == "invalid" and english in job.failure_text, job.failure_text
    assert "extra data" not in job.failure_text and "missing data" not in job.failure_text
    with translation.override("zh-hans"):
        assert chinese in ImportJob.objects.get(pk=job.pk).failure_text
    assert stored_files() == []
