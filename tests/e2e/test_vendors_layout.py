"""The vendor and module pages of #18 in Chromium, in Chinese and in English: nothing sticks out
sideways at 390, 1280 and 1920 px, axe-core finds no serious or critical violation (the forms
with their errors shown too), and screenshots are kept in var/screenshots/vendors/."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from renewals.inventory.models import Module, Vendor
from tests.conftest import Cast
from tests.e2e.test_layout import AXE, AXE_JS, NEXT_FRAMES_JS, OVERFLOW_JS, WIDTHS, signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path("var") / "screenshots" / "vendors"


def _check(page: object, name: str, problems: list[str]) -> None:
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})  # type: ignore[attr-defined]
        page.evaluate(NEXT_FRAMES_JS)  # type: ignore[attr-defined]
        for line in page.evaluate(OVERFLOW_JS):  # type: ignore[attr-defined]
            problems.append(f"{name} at {width}px: {line}")
        if width in (390, 1280):
            shot = SCREENSHOTS / f"{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
        if width in (WIDTHS[0], WIDTHS[-1]):
            for line in page.evaluate(AXE_JS):  # type: ignore[attr-defined]
                problems.append(f"{name} at {width}px axe: {line}")


def test_vendor_and_module_pages_fit_and_pass_axe(
    browser: object, live_server: object, cast: Cast
) -> None:
    sub = cast.subscription_a
    vendor = sub.vendor
    Vendor.objects.filter(pk=vendor.pk).update(
        name="Atlassian Corporation Pty Ltd", website="https://www.atlassian.com/zh/software/jira",
        contacts="王经理 138 0000 0000 wang.jingli@example-partner.com.cn", notes="框架协议 2026-2028",
    )  # fmt: skip
    Module.objects.create(
        subscription=sub, name="Advanced Roadmaps", unit_price=Decimal("12345678.90")
    )
    Module.objects.create(subscription=sub, name="自动化规则", licensed_seats=4)
    old = Module.objects.create(subscription=sub, name="Legacy Gantt", unit_price=Decimal("2"))
    Module.objects.filter(pk=old.pk).update(archived_at="2026-01-01T00:00:00Z")
    Vendor.objects.create(name="Zoho", archived_at="2026-01-01T00:00:00Z")
    module = Module.objects.get(subscription=sub, name="自动化规则")
    base = live_server.url  # type: ignore[attr-defined]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for language in ("zh-hans", "en"):
        page = signed_in_page(browser, live_server, cast.it_admin, language)
        pages = {
            "vendor-list": reverse("renewals:vendor-list"),
            "vendor-archived": reverse("renewals:vendor-list") + "?archived=1",
            "vendor-detail": reverse("renewals:vendor-detail", args=[vendor.pk]),
            "vendor-form": reverse("renewals:vendor-edit", args=[vendor.pk]),
            "subscription-modules": sub.get_absolute_url(),
            "module-form": reverse("renewals:module-edit", args=[module.pk]),
        }
        for name, path in pages.items():
            response = page.goto(base + path)  # type: ignore[attr-defined]
            assert response.status == 200, (path, response.status)
            _check(page, f"{language}-{name}", problems)
        # The forms with their errors shown.
        page.goto(base + reverse("renewals:vendor-add"))  # type: ignore[attr-defined]
        page.fill("#id_name", "ATLASSIAN CORPORATION PTY LTD")  # type: ignore[attr-defined]
        page.fill("#id_website", "javascript:alert(1)")  # type: ignore[attr-defined]
        with page.expect_navigation():  # type: ignore[attr-defined]  # the page with the errors
            page.click("form[data-testid=vendor-form] button[type=submit]")  # type: ignore[attr-defined]
        assert page.locator(".invalid-feedback").count() == 2  # type: ignore[attr-defined]
        _check(page, f"{language}-vendor-form-errors", problems)
        page.goto(base + reverse("renewals:module-add", args=[sub.pk]))  # type: ignore[attr-defined]
        page.fill("#id_name", "Gantt")  # type: ignore[attr-defined]
        page.fill("#id_unit_price", "1" * 25)  # type: ignore[attr-defined]
        page.fill("#id_licensed_seats", "0")  # type: ignore[attr-defined]
        with page.expect_navigation():  # type: ignore[attr-defined]  # the page with the errors
            page.click("form[data-testid=module-form] button[type=submit]")  # type: ignore[attr-defined]
        assert page.locator(".invalid-feedback").count() == 2  # type: ignore[attr-defined]
        _check(page, f"{language}-module-form-errors", problems)
        page.context.close()  # type: ignore[attr-defined]
    assert not problems, "\n".join(problems)
