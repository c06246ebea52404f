"""Issue #18's "done when", in Chromium, in Chinese and in English, as new users would try it:

IT adds a vendor and a subscription with two modules → a software admin assigns 5 seats by
pasting e-mails, reassigns a leaver's seat and grants an employee's seat request → the employee
asks for a new tool of a category the company already has, sees the existing tools and submits
anyway → the head and finance approve → execution creates the subscription and its seats → the
overlap appears in the findings and in the risk register.

Screenshots of every step go to var/screenshots/inventory-<language>/ for review."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from budgets import services as budget_services
from renewals.inventory.models import Subscription, Vendor
from renewals.requests.models.requests import Purpose, RenewalRequest
from renewals.risks.models import Risk
from renewals.risks.services import risks_refresh
from renewals.seats.models import SeatRequest
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.e2e.test_layout import signed_in_page
from tests.factories import PersonFactory, SeatFactory, SubscriptionFactory, VendorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

T = {
    "zh-hans": {"vendor": "坚果云", "product": "坚果云团队版", "tool": "Tower 团队版"},
    "en": {"vendor": "Nutstore", "product": "Nutstore Team", "tool": "Tower Team"},
}


class Shots:
    def __init__(self, language: str) -> None:
        self.folder = Path(settings.BASE_DIR) / "var" / "screenshots" / f"inventory-{language}"
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page: object, name: str) -> None:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        assert path.stat().st_size > 5000, f"{path} looks empty"


def _scene(cast: Cast) -> dict[str, Any]:
    """Department A's people (five to get seats by e-mail, a leaver holding a seat, the
    employee's own entry), department B's project-management tool, a budget for 2027."""
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    cast.person_a.user = cast.employee
    cast.person_a.email = "me@corp.example"
    cast.person_a.save()
    five = [
        PersonFactory.create(department=cast.dept_a, name=f"同事{i}", email=f"p{i}@corp.example")
        for i in range(5)
    ]
    newcomer = PersonFactory.create(department=cast.dept_a, name="新同事", employee_no="N-1")
    leaver = PersonFactory.create(
        department=cast.dept_a, name="离职者", status="left", left_on=dt.date(2026, 11, 1)
    )
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(seats_purchased=3)
    leaver_seat = SeatFactory.create(subscription=cast.subscription_a, person=leaver)
    asana = VendorFactory.create(name="Asana")
    SubscriptionFactory.create(
        vendor=asana, product="Asana Business", department=cast.dept_b, category="project",
        seats_purchased=20, unit_price=Decimal("800.00"), term_end=dt.date(2027, 6, 30),
    )  # fmt: skip
    return {"five": five, "newcomer": newcomer, "leaver_seat": leaver_seat}


def _ok(page: object) -> None:
    """The page that came back is no error page."""
    assert not page.locator(".alert-danger, .invalid-feedback").count(), page.inner_text("main")  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_inventory_kept_in_the_app_from_vendor_to_overlap(
    browser: object, live_server: object, cast: Cast, language: str
) -> None:
    words, shots, base = T[language], Shots(language), live_server.url  # type: ignore[attr-defined]
    scene = _scene(cast)
    errors: list[str] = []

    def tab(user: object) -> object:
        page = signed_in_page(browser, live_server, user, language)  # type: ignore[arg-type]
        page.on("pageerror", lambda e: errors.append(str(e)))  # type: ignore[attr-defined]
        page.set_viewport_size({"width": 1280, "height": 900})  # type: ignore[attr-defined]
        return page

    # 1. IT adds a vendor, then a subscription of it with two modules.
    it = tab(cast.it_admin)
    it.goto(base + "/vendors/")  # type: ignore[attr-defined]
    it.click("[data-testid=vendor-add]")  # type: ignore[attr-defined]
    it.fill("#id_name", words["vendor"])  # type: ignore[attr-defined]
    it.fill("#id_website", "https://www.jianguoyun.com/")  # type: ignore[attr-defined]
    it.click("[data-testid=vendor-form] button[type=submit]")  # type: ignore[attr-defined]
    it.wait_for_selector("[data-testid=vendor-edit]")  # type: ignore[attr-defined]
    vendor = Vendor.objects.get(name=words["vendor"])
    shots(it, "vendor-added")
    it.goto(base + "/subscriptions/")  # type: ignore[attr-defined]
    it.click("[data-testid=add-subscription]")  # type: ignore[attr-defined]
    it.fill("#id_ref", "SUB-NUT")  # type: ignore[attr-defined]
    it.select_option("#id_vendor", str(vendor.pk))  # type: ignore[attr-defined]
    it.fill("#id_product", words["product"])  # type: ignore[attr-defined]
    it.select_option("#id_category", "documents")  # type: ignore[attr-defined]
    it.select_option("#id_department", str(cast.dept_a.pk))  # type: ignore[attr-defined]
    it.fill("#id_seats_purchased", "6")  # type: ignore[attr-defined]
    it.fill("#id_unit_price", "360.00")  # type: ignore[attr-defined]
    it.fill("#id_term_start", "2026-12-01")  # type: ignore[attr-defined]
    it.fill("#id_term_end", "2027-11-30")  # type: ignore[attr-defined]
    it.fill("#id_notice_period_days", "30")  # type: ignore[attr-defined]
    it.click("[data-testid=save]")  # type: ignore[attr-defined]
    it.wait_for_selector("[data-testid=seats-panel]")  # type: ignore[attr-defined]
    sub = Subscription.objects.get(ref="SUB-NUT")
    for name, price in (("团队协作 Collaboration", "60.00"), ("历史版本 History", "")):
        it.click("[data-testid=module-add]")  # type: ignore[attr-defined]
        it.fill("#id_name", name)  # type: ignore[attr-defined]
        it.fill("#id_unit_price", price)  # type: ignore[attr-defined]
        it.click("[data-testid=module-form] button[type=submit]")  # type: ignore[attr-defined]
        it.wait_for_selector("[data-testid=module-table]")  # type: ignore[attr-defined]
    assert sorted(sub.modules.values_list("name", flat=True)) == [
        "历史版本 History", "团队协作 Collaboration",
    ]  # fmt: skip
    shots(it, "subscription-with-modules")

    # 2. The employee asks for a seat of it from "my software".
    me = tab(cast.employee)
    me.goto(base + "/my-software/")  # type: ignore[attr-defined]
    me.locator(  # type: ignore[attr-defined]
        f"[data-testid=askable] [data-testid=ask-seat][href$='subscription={sub.pk}']"
    ).click()
    me.fill("#id_reason", "共享项目文档 / shared project files")  # type: ignore[attr-defined]
    me.click("[data-testid=seat-request-form] button[type=submit]")  # type: ignore[attr-defined]
    me.wait_for_selector("[data-testid=my-seat-request]")  # type: ignore[attr-defined]
    shots(me, "seat-asked")

    # 3. The software admin pastes five e-mails, reassigns the leaver's seat, grants the request.
    admin = tab(cast.software_admin)
    admin.goto(f"{base}/subscriptions/{sub.pk}/seats/bulk-assign/")  # type: ignore[attr-defined]
    emails = "\n".join(p.email for p in scene["five"])
    admin.locator("textarea[name=entries]").first.fill(emails + "\nnobody@corp.example")  # type: ignore[attr-defined]
    admin.click("[data-testid=bulk-assign-form] button[type=submit]")  # type: ignore[attr-defined]
    admin.wait_for_selector("[data-testid=bulk-preview]")  # type: ignore[attr-defined]
    assert "nobody@corp.example" in admin.text_content("[data-testid=list-unknown]")  # type: ignore[attr-defined]
    shots(admin, "bulk-preview")
    admin.click("[data-testid=bulk-confirm] button[type=submit]")  # type: ignore[attr-defined]
    admin.wait_for_selector("[data-testid=seats-panel]")  # type: ignore[attr-defined]
    assert Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count() == 5
    leaver_seat = scene["leaver_seat"]
    admin.goto(f"{base}/seats/{leaver_seat.pk}/reassign/")  # type: ignore[attr-defined]
    admin.fill("#id_person", "N-1")  # type: ignore[attr-defined]
    admin.fill("#id_reason", "离职 / left the company")  # type: ignore[attr-defined]
    admin.click("[data-testid=seat-reassign-form] button[type=submit]")  # type: ignore[attr-defined]
    admin.wait_for_selector("[data-testid=seats-panel]")  # type: ignore[attr-defined]
    leaver_seat.refresh_from_db()
    assert leaver_seat.revoked_on is not None
    assert Seat.objects.get(subscription=cast.subscription_a, person=scene["newcomer"])
    admin.goto(base + "/seat-requests/")  # type: ignore[attr-defined]
    shots(admin, "seat-request-inbox")
    admin.locator("[data-testid=seat-request]").filter(has_text=words["product"]).locator(  # type: ignore[attr-defined]
        "[data-testid=grant]"
    ).click()
    admin.wait_for_selector("[data-testid=no-seat-requests]")  # type: ignore[attr-defined]
    assert SeatRequest.objects.get().status == "granted"
    assert Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count() == 6

    # 4. The employee asks for a new project-management tool: the company already has one.
    me.goto(base + "/my-software/")  # type: ignore[attr-defined]
    me.click("[data-testid=ask-new-tool]")  # type: ignore[attr-defined]
    me.fill("#id_vendor_name", "Tower")  # type: ignore[attr-defined]
    me.select_option("#id_category", "project")  # type: ignore[attr-defined]
    me.fill("#id_product", words["tool"])  # type: ignore[attr-defined]
    me.wait_for_selector("[data-testid=same-category]")  # type: ignore[attr-defined]
    assert "Asana" in me.inner_text("[data-testid=same-category]")  # type: ignore[attr-defined]
    me.fill("#id_seats", "10")  # type: ignore[attr-defined]
    me.fill("#id_term_start", "2027-01-01")  # type: ignore[attr-defined]
    me.fill("#id_unit_price", "6000.00")  # type: ignore[attr-defined]
    me.fill("#id_justification", "研发看板 / the R&D team's boards")  # type: ignore[attr-defined]
    me.fill("#id_people", "\n".join(p.email for p in scene["five"][:3]))  # type: ignore[attr-defined]
    shots(me, "new-tool-with-existing-tools")
    me.click("[data-testid=save]")  # type: ignore[attr-defined]
    me.wait_for_selector("[data-testid=request-status]")  # type: ignore[attr-defined]
    me.click("[data-testid=submit]")  # type: ignore[attr-defined]
    me.wait_for_selector(  # type: ignore[attr-defined]
        "[data-testid=request-status]:is([data-status=submitted], [data-status=in_approval])"
    )
    request = RenewalRequest.objects.get(purpose=Purpose.NEW)
    assert request.amount_base == Decimal("60000.00")

    # 5. The head, then finance approve on the request page (60,000 CNY: both tiers).
    for approver in (cast.head_a, cast.finance):
        page = tab(approver)
        page.goto(base + request.get_absolute_url())  # type: ignore[attr-defined]
        assert page.is_visible("[data-testid=already-has]")  # type: ignore[attr-defined]
        page.click("[data-testid=approve]")  # type: ignore[attr-defined]
        page.get_by_test_id("approve").wait_for(state="detached")  # type: ignore[attr-defined]
        shots(page, f"approved-{approver.username}")
        page.context.close()  # type: ignore[attr-defined]
    request.refresh_from_db()
    assert request.status == "approved"

    # 6. IT records the execution: the tool is live, with the named people's seats.
    it.goto(base + request.get_absolute_url())  # type: ignore[attr-defined]
    it.click("[data-testid=execute]")  # type: ignore[attr-defined]
    it.fill("#id_order_ref", "PO-TOWER-1")  # type: ignore[attr-defined]
    it.fill("#id_fapiao_no", "FP-TOWER-1")  # type: ignore[attr-defined]
    it.fill("#id_actual_amount", "60000.00")  # type: ignore[attr-defined]
    it.click("[data-testid=save]")  # type: ignore[attr-defined]
    it.wait_for_selector("[data-testid=request-status][data-status=executed]")  # type: ignore[attr-defined]
    tool = Subscription.objects.get(pk=request.subscription_id)
    assert tool.status == "active" and tool.archived_at is None
    assert tool.seats.filter(revoked_on__isnull=True).count() == 3
    shots(it, "executed")

    # 7. The overlap: on the findings page, and in the risk register after the nightly refresh.
    risks_refresh()
    it.goto(base + "/findings/")  # type: ignore[attr-defined]
    group = it.locator("[data-testid=overlap-group]").filter(has_text=words["tool"])  # type: ignore[attr-defined]
    assert group.count() == 1 and "Asana" in group.inner_text()
    shots(it, "findings-overlap")
    assert Risk.objects.filter(rule="overlapping_tools", key="project", status="open").exists()
    it.goto(base + "/risks/")  # type: ignore[attr-defined]
    with translation.override(language):
        title = gettext("Several tools of one category are paid for")
    assert title in it.inner_text("main")  # type: ignore[attr-defined]
    shots(it, "risk-register")
    for page in (it, me, admin):
        page.context.close()  # type: ignore[attr-defined]
    assert not errors, errors
