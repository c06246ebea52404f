"""The account clean-up campaign (数字办公日账号清理), opening: the checklist, who opens and closes,
one campaign at a time (also under parallel clicks), broken and hostile input."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from renewals.cleanup import services
from renewals.cleanup.models import CleanupCampaign, CleanupItem
from renewals.notify.models import Notification
from tests.conftest import Cast
from tests.renewals.cleanup.conftest import Seats, _client, _in_threads, _open

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
