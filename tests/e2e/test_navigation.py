"""Each role signs in through the real login page and sees exactly its menu, in both languages."""

from __future__ import annotations

import pytest

from tests.conftest import Cast
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What each role's menu holds (the keys of config.navigation.NAVIGATION).
LOOP = ["subscriptions", "requests", "approvals", "calendar", "contracts"]
READER = [k for k in LOOP if k != "approvals"]  # no approver role
DIRECTORY = ["departments", "people", "vendors"]  # in the "Manage" drop-down, like the ones below
MANAGE = {"seat_requests", "departments", "people", "vendors", "imports", "channels", "tiers", "rates", "directory", "connectors", "chat", "system", "audit", "admin"}  # fmt: skip
REPORTS = ["findings", "briefings", "risks", "cleanup", "suggestions"]  # "Reports" drop-down
EXPECTED_MENU = {
    "it_admin": ["home", *LOOP, "budgets", *REPORTS, "seat_requests", *DIRECTORY, "imports", "channels", "tiers", "rates", "directory", "connectors", "chat", "system", "audit", "admin"],
    "finance": ["home", *LOOP, "budgets", *REPORTS, *DIRECTORY, "tiers", "rates"],
    "head_a": ["home", *LOOP, "budgets", *REPORTS, "seat_requests", *DIRECTORY, "tiers"],
    "head_b": ["home", *LOOP, "budgets", *REPORTS, "seat_requests", *DIRECTORY, "tiers"],
    "software_admin": ["home", *READER, *REPORTS, "seat_requests", *DIRECTORY, "imports", "tiers"],
    "auditor": ["home", *READER, "budgets", *REPORTS, *DIRECTORY, "tiers", "rates", "directory", "connectors", "chat", "system", "audit"],
    "legal": ["home", *LOOP, *REPORTS, *DIRECTORY, "tiers"],  # reads all, approves legal steps
    "employee": ["home", "suggestions"],  # (in "Reports")
}  # fmt: skip
LABELS = {
    "zh-hans": {
        "home": "仪表盘", "requests": "续费", "approvals": "待我审批", "tiers": "审批层级", "contracts": "合同",
        "subscriptions": "订阅", "calendar": "续费日历", "findings": "风险发现", "vendors": "供应商", "budgets": "预算",
        "departments": "部门", "people": "人员", "imports": "数据导入", "channels": "群机器人", "system": "系统状态",
        "admin": "后台管理", "briefings": "软件使用简报", "risks": "风险清单", "cleanup": "账号清理",
        "suggestions": "优化建议", "audit": "审计日志", "rates": "汇率", "seat_requests": "席位申请", "directory": "通讯录来源", "connectors": "用量连接器", "chat": "聊天应用",
    },
    "en": {
        "home": "Dashboard", "requests": "Renewals", "approvals": "Approvals",
        "tiers": "Approval tiers", "contracts": "Contracts", "subscriptions": "Subscriptions", "calendar": "Calendar", "findings": "Findings",
        "vendors": "Vendors", "budgets": "Budgets", "departments": "Departments", "people": "People",
        "imports": "Imports", "channels": "Chat channels", "system": "System status",
        "admin": "Administration", "briefings": "Usage briefings", "risks": "Risk register",
        "cleanup": "Account clean-up", "suggestions": "Savings suggestions", "audit": "Audit trail",
        "rates": "Exchange rates", "seat_requests": "Seat requests", "directory": "Directory sources", "connectors": "Usage connectors", "chat": "Chat apps",
    },
}  # fmt: skip
SIGN_IN = {"zh-hans": "登录", "en": "Sign in"}


def sign_in(page: object, base: str, username: str, language: str) -> None:
    page.goto(base + "/accounts/login/")  # type: ignore[attr-defined]
    if language == "en":
        page.select_option("#language-select", "en")  # type: ignore[attr-defined]
        page.wait_for_selector('html[lang="en"]')  # type: ignore[attr-defined]
    page.get_by_role("button", name=SIGN_IN[language]).wait_for()  # type: ignore[attr-defined]
    page.fill("#id_username", username)  # type: ignore[attr-defined]
    page.fill("#id_password", PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name=SIGN_IN[language]).click()  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=main-nav]")  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_each_role_sees_its_menu(
    page: object, live_server: object, cast: Cast, language: str
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    for role, keys in EXPECTED_MENU.items():
        user = getattr(cast, role)
        sign_in(page, base, user.username, language)
        assert page.get_attribute("html", "lang") == language  # type: ignore[attr-defined]
        links = page.locator("[data-testid=main-nav] a[data-nav]")  # type: ignore[attr-defined]
        assert [links.nth(i).get_attribute("data-nav") for i in range(links.count())] == keys, role
        assert [links.nth(i).text_content().strip() for i in range(links.count())] == [
            LABELS[language][k] for k in keys
        ], role
        # Every menu entry opens (no 403/500 behind a visible link).
        for key in keys:
            if key == "admin":
                continue
            if key in MANAGE:
                page.get_by_test_id("manage-menu").click()  # type: ignore[attr-defined]
            elif key in REPORTS:
                page.get_by_test_id("reports-menu").click()  # type: ignore[attr-defined]
            page.locator(f"[data-nav={key}]").click()  # type: ignore[attr-defined]
            page.wait_for_load_state()  # type: ignore[attr-defined]
            assert page.locator("h1").count() >= 1  # type: ignore[attr-defined]
            assert "403" not in page.title() and "500" not in page.title()  # type: ignore[attr-defined]
        page.get_by_test_id("user-menu").click()  # type: ignore[attr-defined]
        page.get_by_test_id("logout").click()  # type: ignore[attr-defined]
        page.wait_for_selector("#id_username")  # type: ignore[attr-defined]


def test_a_department_head_cannot_open_another_department_by_url(
    page: object, live_server: object, cast: Cast, console_errors: list[str]
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    sign_in(page, base, cast.head_a.username, "zh-hans")
    response = page.goto(f"{base}/org/departments/{cast.dept_b.pk}/")  # type: ignore[attr-defined]
    assert response.status == 404
    assert cast.dept_b.name not in page.content()  # type: ignore[attr-defined]
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    console_errors.clear()
    response = page.goto(f"{base}/org/departments/{cast.dept_a.pk}/")  # type: ignore[attr-defined]
    assert response.status == 200
    assert cast.dept_a.name in page.inner_text("h1")  # type: ignore[attr-defined]


def test_the_dashboard_shows_real_counts_and_the_font_is_ours(
    page: object, live_server: object, cast: Cast
) -> None:
    from tests.factories import PersonFactory

    PersonFactory.create_batch(4, department=cast.dept_a)
    PersonFactory.create(department=cast.dept_b, status="left", left_on="2026-10-01")
    base = live_server.url  # type: ignore[attr-defined]
    sign_in(page, base, cast.it_admin.username, "zh-hans")
    assert page.inner_text("[data-testid=count-people-active]") == "5"  # type: ignore[attr-defined]
    assert page.inner_text("[data-testid=count-people-left]") == "1"  # type: ignore[attr-defined]
    assert page.inner_text("[data-testid=count-departments]") == "3"  # type: ignore[attr-defined]
    family = page.evaluate("getComputedStyle(document.body).fontFamily")  # type: ignore[attr-defined]
    assert "Noto Sans SC" in family
    page.screenshot(path=str(__import__("pathlib").Path("var") / "e2e-dashboard.png"))  # type: ignore[attr-defined]


def test_people_search_updates_the_table_in_place(
    page: object, live_server: object, cast: Cast
) -> None:
    from tests.factories import PersonFactory

    PersonFactory.create(name="欧阳娜娜", department=cast.dept_a)
    PersonFactory.create(name="司马光", department=cast.dept_a)
    base = live_server.url  # type: ignore[attr-defined]
    sign_in(page, base, cast.head_a.username, "zh-hans")
    page.goto(base + "/org/people/")  # type: ignore[attr-defined]
    table = page.get_by_test_id("person-table")  # type: ignore[attr-defined]
    assert "司马光" in table.inner_text()
    page.evaluate("window.notReloaded = true")  # type: ignore[attr-defined]
    # (main: the navbar has a search box named q too)
    page.fill("main input[name=q]", "欧阳")  # type: ignore[attr-defined]
    from playwright.sync_api import expect

    expect(page.get_by_test_id("person-table")).not_to_contain_text("司马光")  # type: ignore[attr-defined]
    assert "欧阳娜娜" in page.get_by_test_id("person-table").inner_text()  # type: ignore[attr-defined]
    assert page.evaluate("window.notReloaded") is True  # type: ignore[attr-defined]
    assert "q=%E6%AC%A7%E9%98%B3" in page.url  # type: ignore[attr-defined]
