"""Imports: every kind end to end, idempotent re-imports, and usage rows written with and without
the foreign-key triggers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction

from org.models import Person
from renewals.imports import engine
from renewals.inventory.models import Module, Subscription
from renewals.usage.models import MonthlyUsage, Seat
from tests.conftest import Cast
from tests.factories import PersonFactory
from tests.renewals.conftest import Inventory
from tests.renewals.imports.conftest import (
    USAGE,
    run,
    stored_files,
    xlsx,
)

pytestmark = pytest.mark.django_db


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
