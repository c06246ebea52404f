"""An IT admin imports files through the browser, sees the findings, exports the list; a head
of another department does not see any of it."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone

from tests.conftest import Cast
from tests.e2e.test_navigation import sign_in
from tests.factories import PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def import_file(page: object, base: str, kind_label: str, path: Path) -> str:
    page.goto(base + "/imports/")  # type: ignore[attr-defined]
    page.select_option("select[name=kind]", label=kind_label)  # type: ignore[attr-defined]
    page.set_input_files("input[name=file]", str(path))  # type: ignore[attr-defined]
    page.get_by_role("button", name="上传并检查").click()  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=import-status][data-status=ready]")  # type: ignore[attr-defined]
    page.get_by_test_id("commit").click()  # type: ignore[attr-defined]
    return page.get_by_test_id("import-summary").inner_text()  # type: ignore[attr-defined]


def test_it_admin_imports_then_sees_idle_seats_and_leavers_and_exports(
    page: object, live_server: object, cast: Cast, tmp_path: Path, console_errors: list[str]
) -> None:
    today = timezone.localdate()
    PersonFactory.create(employee_no="E1", name="在用的人", department=cast.dept_a)
    PersonFactory.create(employee_no="E2", name="闲置的人", department=cast.dept_a)
    PersonFactory.create(
        employee_no="E3",
        name="离职的人",
        department=cast.dept_a,
        status="left",
        left_on=today - dt.timedelta(days=10),
    )
    subs = tmp_path / "订阅.csv"
    subs.write_bytes(
        (
            "编号,供应商,产品,版本,部门,席位数,单价,计费周期,开始日期,结束日期,自动续费,模块\n"
            f"TB-1,阿里巴巴,Teambition,企业版,a,5,365.00,年付,{today - dt.timedelta(days=300)},{today + dt.timedelta(days=65)},否,甘特图=60\n"
        ).encode("gbk")
    )
    seats = tmp_path / "seats.csv"
    seats.write_text(
        "subscription,employee_no,assigned_on,last_active_on\n"
        f"TB-1,E1,2025-01-01,{today}\nTB-1,E2,2025-01-01,{today - dt.timedelta(days=100)}\nTB-1,E3,2025-01-01,{today - dt.timedelta(days=20)}\n",
        encoding="utf-8-sig",
    )
    base = live_server.url  # type: ignore[attr-defined]
    sign_in(page, base, cast.it_admin.username, "zh-hans")
    assert "新增 1 条" in import_file(page, base, "订阅", subs)
    assert "新增 3 条" in import_file(page, base, "席位", seats)

    page.goto(base + "/subscriptions/?q=Teambition")  # type: ignore[attr-defined]
    page.get_by_role("link", name="TB-1").click()  # type: ignore[attr-defined]
    assert page.get_by_test_id("idle-count").inner_text() == "1"  # type: ignore[attr-defined]
    assert page.get_by_test_id("departed-count").inner_text() == "1"  # type: ignore[attr-defined]
    recommendations = page.get_by_test_id("recommendations").inner_text()  # type: ignore[attr-defined]
    assert "闲置" in recommendations and "离职" in recommendations and "365.00" in recommendations
    page.wait_for_selector("#usage-chart[data-drawn=true]")  # type: ignore[attr-defined]
    page.screenshot(path="var/e2e-subscription.png", full_page=True)  # type: ignore[attr-defined]

    page.goto(base + "/subscriptions/")  # type: ignore[attr-defined]
    with page.expect_download() as download_info:  # type: ignore[attr-defined]
        page.get_by_test_id("export-xlsx").click()  # type: ignore[attr-defined]
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and any(r[0] == "TB-1" for r in rows[1:])

    page.get_by_test_id("user-menu").click()  # type: ignore[attr-defined]
    page.get_by_test_id("logout").click()  # type: ignore[attr-defined]
    sign_in(page, base, cast.head_b.username, "zh-hans")
    page.goto(base + "/subscriptions/")  # type: ignore[attr-defined]
    assert "TB-1" not in page.get_by_test_id("subscription-table").inner_text()  # type: ignore[attr-defined]
    assert page.goto(base + "/imports/").status == 403  # type: ignore[attr-defined]
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    ]
    console_errors.clear()


def test_import_errors_are_listed_in_the_browser(
    page: object, live_server: object, cast: Cast, tmp_path: Path, console_errors: list[str]
) -> None:
    bad = tmp_path / "usage.csv"
    bad.write_text("subscription,month,active_users\nNOPE,2026-13,-1\n", encoding="utf-8")
    base = live_server.url  # type: ignore[attr-defined]
    sign_in(page, base, cast.software_admin.username, "en")
    page.goto(base + "/imports/")  # type: ignore[attr-defined]
    page.select_option("select[name=kind]", label="Monthly usage")  # type: ignore[attr-defined]
    page.set_input_files("input[name=file]", str(bad))  # type: ignore[attr-defined]
    page.get_by_role("button", name="Upload and check").click()  # type: ignore[attr-defined]
    errors = page.get_by_test_id("import-errors").inner_text()  # type: ignore[attr-defined]
    assert "No subscription with this reference." in errors and "Cannot be negative." in errors
    assert "Not a month" in errors
    assert page.get_by_test_id("import-failure").is_visible()  # type: ignore[attr-defined]
