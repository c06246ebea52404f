"""The account clean-up campaign, progress and the closing report (screen, PDF, CSV, XLSX)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.urls import reverse
from pypdf import PdfReader

from org.models import Person
from renewals.cleanup import services
from renewals.cleanup.models import CleanupCampaign
from renewals.inventory.models import Subscription
from tests.conftest import Cast
from tests.factories import (
    DepartmentFactory,
    PersonFactory,
    SeatFactory,
    SubscriptionFactory,
)
from tests.renewals.cleanup.conftest import Seats, _client, _item, _open

# --- progress --------------------------------------------------------------------------------


def test_progress_per_department(cast: Cast, seats: Seats) -> None:
    campaign = _open(cast)
    services.item_decide(
        item=_item(campaign, seats.departed), user=cast.software_admin, decision="revoke"
    )
    services.item_decide(
        item=_item(campaign, seats.idle), user=cast.software_admin, decision="keep",
        keep_reason="要用",
    )  # fmt: skip
    page = _client(cast.finance).get(reverse("renewals:cleanup-detail", args=[campaign.pk]))
    html = page.content.decode()
    row_a = html.split(f'data-department="{cast.dept_a.pk}"')[1].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in row_a.split('<td class="text-end">')[1:]]
    assert cells == ["4", "1", "1", "2"]  # items, revoked, kept, to decide
    assert "50%" in row_a
    total = html.split('data-testid="progress-total"')[1].split("</tr>")[0]
    assert "5</td>" in total and "40%" in total
    # Head B sees only their department's row.
    html_b = _client(cast.head_b).get(reverse("renewals:cleanup-detail", args=[campaign.pk]))
    assert f'data-department="{cast.dept_a.pk}"' not in html_b.content.decode()


def test_campaign_and_checklist_pages_have_a_fixed_query_count(
    cast: Cast, seats: Seats, django_assert_max_num_queries: Any
) -> None:
    for _n in range(12):
        department = DepartmentFactory.create()
        subscription = SubscriptionFactory.create(department=department)
        for _ in range(3):
            SeatFactory.create(
                subscription=subscription, assigned_on=dt.date(2020, 1, 1),
                person=PersonFactory.create(department=department, status="left", left_on=dt.date(2025, 1, 1)),
            )  # fmt: skip
    # Room for the leavers' seats (the purchased count is a hard limit).
    Subscription.objects.filter(pk=cast.subscription_a.pk).update(seats_purchased=100)
    for _ in range(20):
        SeatFactory.create(
            subscription=cast.subscription_a, assigned_on=dt.date(2020, 1, 1),
            person=PersonFactory.create(department=cast.dept_a, status="left", left_on=dt.date(2025, 1, 1)),
        )  # fmt: skip
    campaign = _open(cast)
    client = _client(cast.software_admin)
    client.get(reverse("renewals:cleanup-list"))  # warm the session and caches
    for url in (
        reverse("renewals:cleanup-list"),
        reverse("renewals:cleanup-detail", args=[campaign.pk]),
        reverse("renewals:cleanup-checklist", args=[campaign.pk, cast.dept_a.pk]),
        reverse("renewals:cleanup-report", args=[campaign.pk]),
    ):
        with django_assert_max_num_queries(10):
            assert client.get(url).status_code == 200
    finance = _client(cast.finance)
    with django_assert_max_num_queries(10):
        assert (
            finance.get(reverse("renewals:cleanup-detail", args=[campaign.pk])).status_code == 200
        )


# --- the closing report ----------------------------------------------------------------------


@pytest.fixture
def closed(cast: Cast, seats: Seats) -> CleanupCampaign:
    Person.objects.filter(pk=seats.idle.person_id).update(name="+cmd|' /C calc'!A0")
    campaign = _open(cast)
    admin = cast.software_admin
    services.item_decide(item=_item(campaign, seats.departed), user=admin, decision="revoke")
    services.item_decide(item=_item(campaign, seats.usd), user=admin, decision="revoke")
    services.item_decide(
        item=_item(campaign, seats.idle), user=admin, decision="keep",
        keep_reason='=HYPERLINK("http://evil.example","点我")',
    )  # fmt: skip
    return services.campaign_close(campaign=campaign, user=cast.finance)


# departed seat: 1000.00 CNY a year; USD seat: 8.00 USD a month x 12 x 7.2 = 691.20 CNY.
FREED_A = Decimal("1691.20")


def test_the_report_lists_revoked_kept_and_undecided_with_the_cost_freed(
    cast: Cast, seats: Seats, closed: CleanupCampaign
) -> None:
    from renewals.cleanup.selectors import cleanup_report

    report = cleanup_report(campaign=closed, user=cast.finance)
    assert (report.revoked, report.kept, report.pending) == (2, 1, 2)
    assert report.freed == FREED_A and report.unpriced == 0
    part_a = next(p for p in report.departments if p.department == cast.dept_a)
    assert part_a.freed == FREED_A
    assert [i.seat_id for i in part_a.pending] == [seats.never_used.pk]
    assert part_a.kept[0].keep_reason.startswith("=HYPERLINK")
    part_b = next(p for p in report.departments if p.department == cast.dept_b)
    assert part_b.freed == Decimal("0.00") and len(part_b.pending) == 1
    # Head B's report holds department B only.
    assert [
        p.department for p in cleanup_report(campaign=closed, user=cast.head_b).departments
    ] == [cast.dept_b]
    page = _client(cast.finance).get(reverse("renewals:cleanup-report", args=[closed.pk]))
    assert f"{FREED_A:,}" in page.content.decode()  # with separators (#15.9)


def test_closing_from_the_page_leads_to_the_report(cast: Cast, seats: Seats) -> None:
    campaign = _open(cast)
    response = _client(cast.it_admin).post(
        reverse("renewals:cleanup-close", args=[campaign.pk]), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("renewals:cleanup-report", args=[campaign.pk])
    campaign.refresh_from_db()
    assert campaign.status == "closed" and campaign.closed_by == cast.it_admin


def _pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh-hans", ["结案报告", "研发中心 A", "离职的张三"]),
        ("en", ["Closing report", "研发中心 A"]),
    ],
)
def test_the_report_pdf_in_chinese_and_english(
    cast: Cast, closed: CleanupCampaign, lang: str, words: list[str]
) -> None:
    url = reverse("renewals:cleanup-report-pdf", args=[closed.pk]) + f"?lang={lang}"
    response = _client(cast.finance).get(url)
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    for word in [*words, "1,691.20"]:
        assert word in text, (word, text[:500])


def test_head_b_pdf_holds_no_department_a_account(cast: Cast, closed: CleanupCampaign) -> None:
    url = reverse("renewals:cleanup-report-pdf", args=[closed.pk])
    text = _pdf_text(_client(cast.head_b).get(url).content)
    assert "离职的李四" in text and "离职的张三" not in text


def test_csv_and_xlsx_exports_are_injection_safe(cast: Cast, closed: CleanupCampaign) -> None:
    url = reverse("renewals:cleanup-report", args=[closed.pk])
    client = _client(cast.finance)
    text = client.get(url + "?_export=csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for row in rows for c in row]
    assert '\'=HYPERLINK("http://evil.example","点我")' in cells
    assert "'+cmd|' /C calc'!A0" in cells
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    assert len(rows) == 1 + 5
    book = openpyxl.load_workbook(io.BytesIO(client.get(url + "?_export=xlsx").content))
    values = [c.value for row in book.active.iter_rows() for c in row]
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "@")) for v in values)
    assert Decimal("1000.00") in [Decimal(str(v)) for v in values if isinstance(v, int | float)]
