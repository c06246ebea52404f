"""The account clean-up campaign, deciding: revoke and keep, stale clicks, who decides which
department, races with other admins and with the close, the risk refresh after a revoke."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from org.roles import Role
from renewals.cleanup import services
from renewals.cleanup.models import CleanupCampaign, CleanupItem
from renewals.usage.models import Seat
from tests.conftest import Cast, make_user
from tests.factories import (
    PersonFactory,
    SeatFactory,
)
from tests.renewals.cleanup.conftest import HTMX, Seats, _client, _in_threads, _item, _open

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
