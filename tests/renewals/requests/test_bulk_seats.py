"""Bulk actions on seats (#15.13): revoke or keep idle and departed seats, on the open cleanup
campaign's checklist when there is one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from renewals.cleanup.models import CleanupItem
from renewals.cleanup.services import campaign_open
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import PersonFactory, SeatFactory, SubscriptionFactory
from tests.renewals.requests.bulk_helpers import (
    SEATS,
    client_for,
    outcomes,
)

# --- seats: revoke or keep idle and departed seats -------------------------------------------


@pytest.fixture
def seats(cast: Cast) -> dict[str, Seat]:
    today = timezone.localdate()
    left = PersonFactory.create(department=cast.dept_a, status="left", left_on=today)
    busy = PersonFactory.create(department=cast.dept_a)
    sleepy = PersonFactory.create(department=cast.dept_a)
    sub_b = SubscriptionFactory.create(department=cast.dept_b)
    return {
        "departed": SeatFactory.create(subscription=cast.subscription_a, person=left),
        "busy": SeatFactory.create(
            subscription=cast.subscription_a, person=busy, last_active_on=today
        ),
        "idle": SeatFactory.create(
            subscription=cast.subscription_a,
            person=sleepy,
            last_active_on=today - dt.timedelta(days=200),
        ),
        "b": SeatFactory.create(
            subscription=sub_b, person=PersonFactory.create(department=cast.dept_b, status="left",
                                                            left_on=today)
        ),
    }  # fmt: skip


def test_revoking_idle_and_departed_seats_without_a_campaign(
    cast: Cast, seats: dict[str, Seat]
) -> None:
    ids = [seats[k].pk for k in ("departed", "idle", "busy", "b")]
    response = client_for(cast.software_admin).post(
        SEATS, {"ids": ids, "decision": "revoke", "back": "/subscriptions/"}
    )
    assert response.status_code == 200
    assert outcomes(response) == {
        seats["departed"].pk: "done",
        seats["idle"].pk: "done",
        seats["busy"].pk: "refused",  # in use: not for clean-up
        seats["b"].pk: "refused",  # B's seat does not exist for A's software admin
    }
    today = timezone.localdate()
    assert Seat.objects.get(pk=seats["departed"].pk).revoked_on == today
    assert Seat.objects.get(pk=seats["idle"].pk).revoked_on == today
    assert Seat.objects.get(pk=seats["busy"].pk).revoked_on is None
    assert Seat.objects.get(pk=seats["b"].pk).revoked_on is None
    assert 'href="/subscriptions/"' in response.content.decode()
    replay = client_for(cast.software_admin).post(SEATS, {"ids": ids, "decision": "revoke"})
    assert outcomes(replay)[seats["departed"].pk] == "unchanged"


def test_keeping_needs_a_reason_and_the_open_campaign(cast: Cast, seats: dict[str, Seat]) -> None:
    client = client_for(cast.software_admin)
    departed = seats["departed"].pk
    no_reason = client.post(SEATS, {"ids": [departed], "decision": "keep", "reason": "  "})
    assert no_reason.status_code == 400
    assert "Say why the accounts are kept." in no_reason.content.decode()
    no_campaign = client.post(SEATS, {"ids": [departed], "decision": "keep", "reason": "交接中"})
    assert outcomes(no_campaign) == {departed: "refused"}
    assert Seat.objects.get(pk=departed).revoked_on is None
    bad = client.post(SEATS, {"ids": [departed], "decision": "delete"})
    assert bad.status_code == 400


def test_seats_on_the_open_campaign_are_decided_on_its_checklist(
    cast: Cast, seats: dict[str, Seat]
) -> None:
    campaign = campaign_open(user=cast.finance, name="清理", due_on=timezone.localdate())
    client = client_for(cast.software_admin)
    kept = client.post(
        SEATS, {"ids": [seats["departed"].pk], "decision": "keep", "reason": "交接到月底"}
    )
    assert outcomes(kept) == {seats["departed"].pk: "done"}
    item = CleanupItem.objects.get(campaign=campaign, seat=seats["departed"])
    assert (item.decision, item.keep_reason, item.decided_by) == (
        "keep",
        "交接到月底",
        cast.software_admin,
    )
    assert Seat.objects.get(pk=seats["departed"].pk).revoked_on is None
    revoked = client.post(SEATS, {"ids": [seats["idle"].pk], "decision": "revoke"})
    assert outcomes(revoked) == {seats["idle"].pk: "done"}
    item = CleanupItem.objects.get(campaign=campaign, seat=seats["idle"])
    assert item.decision == "revoke" and item.revoked_on is not None
    assert Seat.objects.get(pk=seats["idle"].pk).revoked_on is not None
    # A kept account is not turned over by a later bulk revoke: listed as decided.
    again = client.post(SEATS, {"ids": [seats["departed"].pk], "decision": "revoke"})
    assert outcomes(again) == {seats["departed"].pk: "unchanged"}
    assert Seat.objects.get(pk=seats["departed"].pk).revoked_on is None


@pytest.mark.parametrize("role", ["head_a", "finance", "auditor", "employee"])
def test_only_it_and_software_admins_clean_up_seats(
    cast: Cast, seats: dict[str, Seat], role: str
) -> None:
    response = client_for(getattr(cast, role)).post(
        SEATS, {"ids": [seats["departed"].pk], "decision": "revoke"}
    )
    assert response.status_code == 403
    assert Seat.objects.get(pk=seats["departed"].pk).revoked_on is None


def test_the_pages_offer_seat_checkboxes_to_those_who_clean_up(
    cast: Cast, seats: dict[str, Seat]
) -> None:
    detail = reverse("renewals:subscription-detail", args=[cast.subscription_a.pk])
    findings = reverse("renewals:findings")
    admin_page = client_for(cast.software_admin).get(detail).content.decode()
    assert 'id="bulk-seats"' in admin_page
    assert f'value="{seats["departed"].pk}" form="bulk-seats"' in admin_page
    assert f'value="{seats["idle"].pk}" form="bulk-seats"' in admin_page
    assert f'value="{seats["busy"].pk}" form="bulk-seats"' not in admin_page
    findings_page = client_for(cast.it_admin).get(findings).content.decode()
    assert f'value="{seats["departed"].pk}" form="bulk-seats"' in findings_page
    assert f'value="{seats["b"].pk}" form="bulk-seats"' in findings_page
    # The software admin of A: only A's row can be selected.
    findings_page = client_for(cast.software_admin).get(findings).content.decode()
    assert f'value="{seats["departed"].pk}" form="bulk-seats"' in findings_page
    # The head reads: no form.
    for url in (detail, findings):
        assert 'id="bulk-seats"' not in client_for(cast.head_a).get(url).content.decode()
