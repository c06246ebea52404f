"""The navbar's search box and the home page's "what to do" in Chromium (#15 points 11 and 12):
"/" focuses the box (also on a phone, where it sits behind the menu toggler), a search shows its
groups, an employee's home shows their software; both pages fit 390 and 1280 px in both
languages (screenshots under var/screenshots/search-home/)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from org.models import User
from renewals.requests import services as request_services
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.e2e.test_layout import OVERFLOW_JS, signed_in_page
from tests.factories import ModuleFactory, PersonFactory, SubscriptionFactory, VendorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("var") / "screenshots" / "search-home"
TOGGLE = {"zh-hans": "展开/收起导航", "en": "Toggle navigation"}


@pytest.fixture
def scene(cast: Cast) -> None:
    today = timezone.localdate()
    vendor = VendorFactory.create(name="Atlassian")
    jira = SubscriptionFactory.create(
        department=cast.dept_a, vendor=vendor, product="Jira Software", edition="Premium",
        owner=cast.software_admin, term_start=today - dt.timedelta(days=320),
        term_end=today + dt.timedelta(days=40), ref="JIRA-A",
    )  # fmt: skip
    feishu = SubscriptionFactory.create(
        department=cast.dept_a, vendor=VendorFactory.create(name="飞书"), product="飞书项目",
        edition="企业版", ref="FS-A",
    )  # fmt: skip
    me = PersonFactory.create(department=cast.dept_a, user=cast.employee, name="王小明")
    for sub, module in ((jira, "Advanced Roadmaps"), (feishu, "甘特图")):
        seat = Seat.objects.create(
            subscription=sub, person=me, assigned_on=dt.date(2025, 4, 1), account="wangxm",
            last_active_on=today - dt.timedelta(days=2),
        )  # fmt: skip
        seat.modules.add(ModuleFactory.create(subscription=sub, name=module))
    request = request_services.request_create(subscription=jira, user=cast.software_admin)
    request_services.request_submit(request=request, user=cast.software_admin)
    request_services.request_create(subscription=feishu, user=cast.software_admin)


def _fits(page: object, where: str) -> None:
    problems = page.evaluate(OVERFLOW_JS)  # type: ignore[attr-defined]
    assert not problems, (where, problems)


def _shoot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_slash_focuses_the_search_and_the_results_are_grouped(
    browser: object, live_server: object, cast: Cast, scene: None, language: str
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    page = signed_in_page(browser, live_server, cast.head_a, language)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))  # type: ignore[attr-defined]
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    for width in (1600, 1280, 390):  # in the bar, then behind the menu toggler
        page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
        page.goto(base + "/")  # type: ignore[attr-defined]
        page.keyboard.press("/")  # type: ignore[attr-defined]
        page.wait_for_function("document.activeElement.id === 'global-search'")  # type: ignore[attr-defined]
        page.keyboard.type("jira")  # type: ignore[attr-defined]
        page.keyboard.press("Enter")  # type: ignore[attr-defined]
        page.get_by_test_id("search-results").wait_for()  # type: ignore[attr-defined]
        subs = page.get_by_test_id("search-group-subscriptions")  # type: ignore[attr-defined]
        assert subs.get_by_test_id("search-count").inner_text() == "1"
        assert "Jira Software Premium" in subs.inner_text()
        requests = page.get_by_test_id("search-group-requests")  # type: ignore[attr-defined]
        assert requests.get_by_test_id("search-count").inner_text() == "1"
        _fits(page, f"search {width}")
        _shoot(page, f"search-{language}-{width}")
        # A "/" typed into a field is just a character.
        page.fill("#search-page-q", "")  # type: ignore[attr-defined]
        page.focus("#search-page-q")  # type: ignore[attr-defined]
        page.keyboard.type("a/b")  # type: ignore[attr-defined]
        assert page.input_value("#search-page-q") == "a/b"  # type: ignore[attr-defined]
        # The head's home: the approval waiting for them, with its inbox link.
        page.goto(base + "/")  # type: ignore[attr-defined]
        todo = page.get_by_test_id("todo-awaiting")  # type: ignore[attr-defined]
        assert "1" in todo.inner_text()
        _fits(page, f"home head {width}")
        _shoot(page, f"home-head-{language}-{width}")
    page.context.close()  # type: ignore[attr-defined]
    assert not errors, errors


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_employees_home_is_their_software(
    browser: object, live_server: object, cast: Cast, scene: None, language: str
) -> None:
    base = live_server.url  # type: ignore[attr-defined]
    employee: User = cast.employee
    page = signed_in_page(browser, live_server, employee, language)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
        page.goto(base + "/")  # type: ignore[attr-defined]
        seats = page.get_by_test_id("my-seat")  # type: ignore[attr-defined]
        assert seats.count() == 2
        text = page.get_by_test_id("my-seats").inner_text()  # type: ignore[attr-defined]
        assert "Jira Software" in text and "飞书项目" in text and "甘特图" in text
        assert "2025-04-01" in text
        assert page.get_by_test_id("count-departments").count() == 0  # type: ignore[attr-defined]
        _fits(page, f"employee home {width}")
        _shoot(page, f"home-employee-{language}-{width}")
    # The user menu leads to the same page (on a phone behind the menu toggler).
    page.get_by_role("button", name=TOGGLE[language]).click()  # type: ignore[attr-defined]
    # Wait for Bootstrap's collapse to finish opening: a click on the user menu while the folded
    # menu is still animating can leave the drop-down closed (seen under load).
    page.wait_for_selector("#main-nav.show:not(.collapsing)")  # type: ignore[attr-defined]
    page.get_by_test_id("user-menu").click()  # type: ignore[attr-defined]
    page.get_by_test_id("my-software-link").wait_for(state="visible")  # type: ignore[attr-defined]
    page.get_by_test_id("my-software-link").click()  # type: ignore[attr-defined]
    page.wait_for_url("**/my-software/")  # type: ignore[attr-defined]
    assert page.get_by_test_id("my-seat").count() == 2  # type: ignore[attr-defined]
    _fits(page, "my software 390")
    _shoot(page, f"my-software-{language}-390")
    # Their search finds their own tools only.
    page.goto(base + "/search/?q=飞书")  # type: ignore[attr-defined]
    group = page.get_by_test_id("search-group-my-software")  # type: ignore[attr-defined]
    assert group.get_by_test_id("search-count").inner_text() == "1"
    assert page.get_by_test_id("search-group-subscriptions").count() == 0  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]
