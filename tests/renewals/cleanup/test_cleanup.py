"""The account clean-up campaign (数字办公日账号清理): checklist, decisions, races, progress,
closing report (screen, PDF, CSV, XLSX)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from org.models import Person
from org.roles import Role
from renewals.cleanup import services
from renewals.cleanup.models import CleanupCampaign, CleanupItem
from renewals.inventory.models import CurrencyRate
from renewals.notify.models import Notification
from renewals.usage.models import Seat
from tests.conftest import Cast, make_user
from tests.factories import (
    DepartmentFactory,
    PersonFactory,
    SeatFactory,
    SubscriptionFactory,
    VendorFactory,
)

HTMX = {"HX-Request": "true"}


@dataclass
class Seats:
    departed: Seat
    idle: Seat
    never_used: Seat
    fresh: Seat
    revoked: Seat
    departed_b: Seat
    usd: Seat


@pytest.fixture
def seats(cast: Cast) -> Seats:
    today = timezone.localdate()
    long_ago = today - dt.timedelta(days=400)
    left = PersonFactory.create(
        department=cast.dept_a, name="离职的张三", status="left", left_on=dt.date(2025, 1, 1)
    )
    left_b = PersonFactory.create(
        department=cast.dept_b, name="离职的李四", status="left", left_on=dt.date(2025, 1, 1)
    )
    sub_b = SubscriptionFactory.create(
        department=cast.dept_b, product="飞书项目", vendor=VendorFactory.create(name="飞书")
    )
    CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("7.2"), valid_from=dt.date(2020, 1, 1)
    )
    usd = SubscriptionFactory.create(
        department=cast.dept_a, product="Jira", unit_price=Decimal("8.00"), currency="USD",
        billing_cycle="monthly", vendor=VendorFactory.create(name="Atlassian"),
    )  # fmt: skip
    sub_a = cast.subscription_a  # CNY, annual, 1000.00 a seat
    return Seats(
        departed=SeatFactory.create(
            subscription=sub_a,
            person=left,
            assigned_on=long_ago,
            last_active_on=today,
            account="zhangsan",
        ),  # fmt: skip
        idle=SeatFactory.create(
            subscription=sub_a,
            person=PersonFactory.create(department=cast.dept_a, name="闲置王五"),
            assigned_on=long_ago,
            last_active_on=today - dt.timedelta(days=100),
        ),  # fmt: skip
        never_used=SeatFactory.create(
            subscription=sub_a,
            assigned_on=long_ago,
            last_active_on=None,
            person=PersonFactory.create(department=cast.dept_a, name="从未登录"),
        ),  # fmt: skip
        fresh=SeatFactory.create(
            subscription=sub_a,
            assigned_on=long_ago,
            last_active_on=today,
            person=PersonFactory.create(department=cast.dept_a, name="活跃"),
        ),  # fmt: skip
        revoked=SeatFactory.create(
            subscription=sub_a,
            assigned_on=long_ago,
            revoked_on=long_ago,
            person=PersonFactory.create(
                department=cast.dept_a, status="left", left_on=dt.date(2025, 1, 1)
            ),
        ),  # fmt: skip
        departed_b=SeatFactory.create(subscription=sub_b, person=left_b, assigned_on=long_ago),
        usd=SeatFactory.create(
            subscription=usd, person=left, assigned_on=long_ago, last_active_on=today
        ),
    )


def _open(cast: Cast, **extra: Any) -> CleanupCampaign:
    return services.campaign_open(
        user=cast.finance, name="2026 数字办公日", due_on=timezone.localdate(), **extra
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _item(campaign: CleanupCampaign, seat: Seat) -> CleanupItem:
    return CleanupItem.objects.get(campaign=campaign, seat=seat)


# --- opening ---------------------------------------------------------------------------------


def test_open_builds_the_checklist_from_departed_and_idle_seats(cast: Cast, seats: Seats) -> None:
    campaign = _open(cast)
    items = {i.seat_id: i for i in campaign.items.all()}
    assert set(items) == {
        seats.departed.pk, seats.idle.pk, seats.never_used.pk, seats.departed_b.pk, seats.usd.pk
    }  # fmt: skip
    assert items[seats.departed.pk].reason == "departed"  # active yesterday, but the holder left
    assert items[seats.idle.pk].reason == "idle"
    assert items[seats.idle.pk].last_active_on == seats.idle.last_active_on
    assert items[seats.never_used.pk].reason == "idle"
    assert items[seats.departed_b.pk].department == cast.dept_b
    assert all(i.decision == "pending" for i in items.values())
    assert campaign.idle_days == 60 and campaign.status == "open"


def test_open_tells_each_departments_admins_and_heads_where_their_list_is(
    cast: Cast, seats: Seats, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        campaign = _open(cast)
    url_a = reverse("renewals:cleanup-checklist", args=[campaign.pk, cast.dept_a.pk])
    url_b = reverse("renewals:cleanup-checklist", args=[campaign.pk, cast.dept_b.pk])
    told = Notification.objects.exclude(title="提醒")  # the cast's own notification
    assert list(told.filter(user=cast.software_admin).values_list("url", flat=True)) == [url_a]
    assert list(told.filter(user=cast.head_a).values_list("url", flat=True)) == [url_a]
    assert list(told.filter(user=cast.head_b).values_list("url", flat=True)) == [url_b]
    assert not told.filter(user__in=[cast.finance, cast.employee]).exists()
    body = next(m for m in mail.outbox if cast.software_admin.email in m.to).body
    assert "4" in body and url_a in body  # dept A: departed, idle, never used, USD seat


def test_only_finance_and_it_open_and_close(cast: Cast, seats: Seats) -> None:
    for user in (cast.head_a, cast.software_admin, cast.auditor, cast.employee):
        with pytest.raises(PermissionDenied):
            services.campaign_open(user=user, name="x", due_on=timezone.localdate())
    campaign = services.campaign_open(user=cast.it_admin, name="x", due_on=timezone.localdate())
    with pytest.raises(PermissionDenied):
        services.campaign_close(campaign=campaign, user=cast.head_a)
    assert services.campaign_close(campaign=campaign, user=cast.finance).status == "closed"


def test_a_second_campaign_is_refused_while_one_is_open(cast: Cast, seats: Seats) -> None:
    _open(cast)
    with pytest.raises(services.CleanupRefused) as refused:
        _open(cast)
    assert refused.value.code == "already_open"
    response = _client(cast.finance).post(
        reverse("renewals:cleanup-open"),
        {"name": "again", "due_on": timezone.localdate().isoformat()},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("renewals:cleanup-list")
    assert "已有一个账号清理活动正在进行" in response.content.decode()
    assert CleanupCampaign.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "due_on": "2099-01-01"},
        {"name": "   ", "due_on": "2099-01-01"},
        {"name": "x" * 10_000, "due_on": "2099-01-01"},
        {"name": "ok", "due_on": "2000-01-01"},  # in the past
        {"name": "ok", "due_on": "9999-12-31"},  # more than a year away
        {"name": "ok", "due_on": "not a date"},
        {"name": "ok", "due_on": "2026-02-30"},
        {"name": "ok", "due_on": "' OR 1=1 --"},
        {"name": "ok"},
    ],
)
def test_open_form_refuses_broken_input_and_writes_nothing(
    cast: Cast, seats: Seats, data: dict[str, str]
) -> None:
    response = _client(cast.finance).post(reverse("renewals:cleanup-open"), data)
    assert response.status_code == 400
    assert 'class="invalid-feedback' in response.content.decode() or "is-invalid" in (
        response.content.decode()
    )
    assert not CleanupCampaign.objects.exists() and not CleanupItem.objects.exists()


def test_a_hostile_campaign_name_is_shown_as_text(cast: Cast, seats: Seats) -> None:
    name = "<script>alert(1)</script>"
    response = _client(cast.finance).post(
        reverse("renewals:cleanup-open"),
        {"name": name, "due_on": timezone.localdate().isoformat()},
        follow=True,
    )
    page = response.content.decode()
    assert name not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _in_threads(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        try:
            barrier.wait()
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.django_db(transaction=True)
def test_parallel_open_clicks_make_one_campaign(cast: Cast, seats: Seats) -> None:
    def click(i: int) -> str:
        try:
            services.campaign_open(
                user=cast.finance if i % 2 else cast.it_admin,
                name=f"click {i}",
                due_on=timezone.localdate(),
            )
        except services.CleanupRefused as exc:
            return str(exc.code)
        return "opened"

    results = _in_threads(8, click)
    assert results.count("opened") == 1
    assert results.count("already_open") == 7
    assert CleanupCampaign.objects.count() == 1
    assert CleanupItem.objects.count() == 5  # one checklist, not eight


# --- deciding --------------------------------------------------------------------------------


def _decide(client: Client, item: CleanupItem, decision: str, **extra: str) -> Any:
    data = {"decision": decision, "seen": item.decision, **extra}
    url = reverse("renewals:cleanup-decide", args=[item.campaign_id, item.pk])
    return client.post(url, data, headers=HTMX)


def test_revoke_sets_the_seat_revoked_today_and_the_row_comes_back(
    cast: Cast, seats: Seats
) -> None:
    campaign = _open(cast)
    item = _item(campaign, seats.departed)
    response = _decide(_client(cast.software_admin), item, "revoke")
    assert response.status_code == 200
    assert 'data-decision="revoke"' in response.content.decode()
    item.refresh_from_db()
    seats.departed.refresh_from_db()
    today = timezone.localdate()
    assert item.decision == "revoke" and item.revoked_on == today
    assert item.decided_by == cast.software_admin and item.decided_at is not None
    assert seats.departed.revoked_on == today


def test_keep_needs_a_reason_and_records_it(cast: Cast, seats: Seats) -> None:
    campaign = _open(cast)
    item = _item(campaign, seats.idle)
    client = _client(cast.software_admin)
    response = _decide(client, item, "keep", keep_reason="   ")
    assert response.status_code == 400 and "请说明保留该账号的原因" in response.content.decode()
    item.refresh_from_db()
    assert item.decision == "pending"
    response = _decide(client, item, "keep", keep_reason="<b>季度</b>  审计要用")
    assert response.status_code == 200
    assert "&lt;b&gt;季度&lt;/b&gt; 审计要用" in response.content.decode()
    item.refresh_from_db()
    seats.idle.refresh_from_db()
    assert item.decision == "keep" and item.keep_reason == "<b>季度</b> 审计要用"
    assert seats.idle.revoked_on is None


@pytest.mark.parametrize(
    "data",
    [
        {"decision": "keep", "keep_reason": "x" * 10_000, "seen": "pending"},
        {"decision": "delete", "seen": "pending"},
        {"decision": "", "seen": "pending"},
        {"decision": "revoke"},
        {"decision": "revoke", "seen": "nonsense"},
        {},
    ],
)
def test_broken_decisions_are_refused_and_change_nothing(
    cast: Cast, seats: Seats, data: dict[str, str]
) -> None:
    campaign = _open(cast)
    item = _item(campaign, seats.departed)
    url = reverse("renewals:cleanup-decide", args=[campaign.pk, item.pk])
    response = _client(cast.software_admin).post(url, data, headers=HTMX)
    assert response.status_code == 400
    assert 'data-testid="item-error"' in response.content.decode()
    item.refresh_from_db()
    seats.departed.refresh_from_db()
    assert item.decision == "pending" and seats.departed.revoked_on is None


def test_a_decision_can_change_while_open_but_a_revoke_is_not_undone(
    cast: Cast, seats: Seats
) -> None:
    campaign = _open(cast)
    client = _client(cast.software_admin)
    item = _item(campaign, seats.idle)
    _decide(client, item, "revoke")
    item.refresh_from_db()
    response = _decide(client, item, "keep", keep_reason="还要用")
    assert response.status_code == 200
    item.refresh_from_db()
    seats.idle.refresh_from_db()
    assert item.decision == "keep" and item.revoked_on is None
    assert seats.idle.revoked_on == timezone.localdate()  # the seat stays revoked
    assert "该席位已于" in response.content.decode()
    _decide(client, item, "pending")
    item.refresh_from_db()
    assert item.decision == "pending" and item.decided_by is None and item.keep_reason == ""


def test_a_stale_click_is_told_someone_else_decided(cast: Cast, seats: Seats) -> None:
    campaign = _open(cast)
    item = _item(campaign, seats.idle)
    _decide(_client(cast.it_admin), item, "keep", keep_reason="IT 决定保留")
    response = _decide(_client(cast.software_admin), item, "revoke")  # item.decision: pending
    assert response.status_code == 409
    assert "其他人刚刚处理了这个账号" in response.content.decode()
    item.refresh_from_db()
    seats.idle.refresh_from_db()
    assert item.decision == "keep" and seats.idle.revoked_on is None


def test_heads_read_their_checklist_and_cannot_decide(cast: Cast, seats: Seats) -> None:
    campaign = _open(cast)
    url = reverse("renewals:cleanup-checklist", args=[campaign.pk, cast.dept_a.pk])
    page = _client(cast.head_a).get(url).content.decode()
    assert "离职的张三" in page and 'data-testid="revoke"' not in page
    item = _item(campaign, seats.departed)
    assert _decide(_client(cast.head_a), item, "revoke").status_code == 403
    assert _decide(_client(cast.finance), item, "revoke").status_code == 403
    assert _decide(_client(cast.auditor), item, "revoke").status_code == 403
    assert 'data-testid="revoke"' in _client(cast.software_admin).get(url).content.decode()
    item.refresh_from_db()
    assert item.decision == "pending"


def test_other_departments_items_do_not_exist_for_a_head_or_admin(cast: Cast, seats: Seats) -> None:
    campaign = _open(cast)
    item_b = _item(campaign, seats.departed_b)
    url_b = reverse("renewals:cleanup-checklist", args=[campaign.pk, cast.dept_b.pk])
    assert _client(cast.head_a).get(url_b).status_code == 404
    assert _client(cast.software_admin).get(url_b).status_code == 404
    assert _decide(_client(cast.software_admin), item_b, "revoke").status_code == 404
    assert _client(cast.head_b).get(url_b).status_code == 200
    seats.departed_b.refresh_from_db()
    assert seats.departed_b.revoked_on is None


def test_decisions_after_the_close_are_refused(cast: Cast, seats: Seats) -> None:
    campaign = _open(cast)
    item = _item(campaign, seats.departed)
    services.campaign_close(campaign=campaign, user=cast.finance)
    response = _decide(_client(cast.software_admin), item, "revoke")
    assert response.status_code == 409 and "活动已结束" in response.content.decode()
    item.refresh_from_db()
    seats.departed.refresh_from_db()
    assert item.decision == "pending" and seats.departed.revoked_on is None
    with pytest.raises(services.CleanupRefused):
        services.campaign_close(campaign=campaign, user=cast.finance)


@pytest.mark.django_db(transaction=True)
def test_two_admins_deciding_one_account_at_once_make_one_decision(
    cast: Cast, seats: Seats
) -> None:
    second_admin = make_user("swadmin_a2", Role.SOFTWARE_ADMIN)
    cast.dept_a.software_admins.add(second_admin)
    deciders = [(cast.software_admin, "revoke"), (second_admin, "keep")]
    for attempt in range(5):
        campaign = CleanupCampaign.objects.filter(status="open").first() or _open(cast)
        item = _item(campaign, seats.idle)
        CleanupItem.objects.filter(pk=item.pk).update(
            decision="pending", keep_reason="", revoked_on=None, decided_by=None
        )
        Seat.objects.filter(pk=seats.idle.pk).update(revoked_on=None)

        def decide(i: int, item: CleanupItem = item) -> str:
            user, decision = deciders[i]
            try:
                services.item_decide(
                    item=item, user=user, decision=decision, keep_reason="要用", seen="pending"
                )
            except services.CleanupRefused as exc:
                return str(exc.code)
            return decision

        results = sorted(_in_threads(2, decide))
        assert results in (["already_decided", "keep"], ["already_decided", "revoke"]), attempt
        item.refresh_from_db()
        seats.idle.refresh_from_db()
        winner = next(r for r in results if r != "already_decided")
        assert item.decision == winner
        assert (seats.idle.revoked_on is not None) == (winner == "revoke")


@pytest.mark.django_db(transaction=True)
def test_a_decision_racing_the_close_either_lands_before_it_or_is_refused(
    cast: Cast, seats: Seats
) -> None:
    campaign = _open(cast)
    item = _item(campaign, seats.departed)

    def act(i: int) -> str:
        try:
            if i == 0:
                services.campaign_close(campaign=campaign, user=cast.finance)
                return "closed"
            services.item_decide(item=item, user=cast.software_admin, decision="revoke")
        except services.CleanupRefused as exc:
            return str(exc.code)
        return "revoked"

    results = _in_threads(2, act)
    item.refresh_from_db()
    campaign.refresh_from_db()
    assert campaign.status == "closed" and results[0] == "closed"
    if results[1] == "revoked":
        assert item.decision == "revoke" and item.decided_at < campaign.closed_at  # type: ignore[operator]
    else:
        assert results[1] == "closed" and item.decision == "pending"


def test_a_revoke_refreshes_the_risk_register_after_commit(
    cast: Cast,
    seats: Seats,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    calls: list[int] = []
    monkeypatch.setattr("renewals.risks.services.risks_refresh", lambda: calls.append(1))
    campaign = _open(cast)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.item_decide(
            item=_item(campaign, seats.departed), user=cast.software_admin, decision="revoke"
        )
    assert not calls  # not before the commit
    for callback in callbacks:
        callback()
    assert calls == [1]
    with django_capture_on_commit_callbacks(execute=True):
        services.item_decide(
            item=_item(campaign, seats.idle), user=cast.software_admin, decision="keep",
            keep_reason="要用",
        )  # fmt: skip
    assert calls == [1]  # a keep does not


def test_a_failed_risk_refresh_does_not_undo_a_revoke(
    cast: Cast,
    seats: Seats,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def broken() -> None:
        raise RuntimeError("risk refresh failed")

    monkeypatch.setattr("renewals.risks.services.risks_refresh", broken)
    campaign = _open(cast)
    with django_capture_on_commit_callbacks(execute=True):
        services.item_decide(
            item=_item(campaign, seats.departed), user=cast.software_admin, decision="revoke"
        )
    assert _item(campaign, seats.departed).decision == "revoke"


def test_a_seat_assigned_in_the_future_is_revoked_on_its_assignment_day(
    cast: Cast, seats: Seats
) -> None:
    later = timezone.localdate() + dt.timedelta(days=10)
    seat = SeatFactory.create(
        subscription=cast.subscription_a, assigned_on=later,
        person=PersonFactory.create(department=cast.dept_a, status="left", left_on=dt.date(2025, 1, 1)),
    )  # fmt: skip
    campaign = _open(cast)
    item = services.item_decide(
        item=_item(campaign, seat), user=cast.software_admin, decision="revoke"
    )
    assert item.revoked_on == later


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
