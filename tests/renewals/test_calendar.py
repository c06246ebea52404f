"""The renewal calendar page and the per-user iCal feed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from renewals import calendar as cal
from renewals.models import CalendarFeed
from tests.conftest import Cast
from tests.factories import SubscriptionFactory, VendorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dates(cast: Cast) -> None:
    SubscriptionFactory.create(
        ref="CAL-A", department=cast.dept_a, vendor=VendorFactory.create(name="Atlassian, Inc; \\ Jira"),
        product="Jira 软件" * 8, term_start=dt.date(2026, 1, 15), term_end=dt.date(2027, 1, 15),
        auto_renew=True, notice_period_days=30,
    )  # fmt: skip
    SubscriptionFactory.create(
        ref="CAL-B",
        department=cast.dept_b,
        term_start=dt.date(2026, 1, 20),
        term_end=dt.date(2027, 1, 20),
    )


def test_month_view_is_scoped_and_shows_deadlines(cast: Cast, dates: None) -> None:
    client = Client()
    client.force_login(cast.head_a)
    html = client.get(reverse("renewals:calendar"), {"month": "2027-01"}).content.decode()
    assert "CAL-A" not in html  # titles, not refs
    events = client.get(reverse("renewals:calendar"), {"month": "2027-01"}).context["events"]
    assert [(e.day, e.kind, e.subscription.ref) for e in events] == [
        (dt.date(2027, 1, 15), "term_end", "CAL-A")
    ]
    december = client.get(reverse("renewals:calendar"), {"month": "2026-12"}).context["events"]
    assert [(e.day, e.kind) for e in december if e.subscription.ref == "CAL-A"] == [
        (dt.date(2026, 12, 16), "cancel_by")
    ]
    assert (
        client.get(
            reverse("renewals:calendar"), {"month": "garbage", "department": "x"}
        ).status_code
        == 200
    )


def test_ical_feed_is_secret_revocable_escaped_and_folded(cast: Cast, dates: None) -> None:
    client = Client()
    client.force_login(cast.head_a)
    client.post(reverse("renewals:calendar-feed-reset"))
    token = CalendarFeed.objects.get(user=cast.head_a).token
    anonymous = Client()  # calendar apps have no session
    response = anonymous.get(reverse("renewals:calendar-feed", args=[token]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    unfolded = body.replace("\r\n ", "")
    assert "DTSTART;VALUE=DATE:20270115" in unfolded and "DTSTART;VALUE=DATE:20261216" in unfolded
    assert "Atlassian\\, Inc\\; \\\\ Jira" in unfolded
    assert "20270120" not in unfolded  # department B's date is not head A's business
    client.post(reverse("renewals:calendar-feed-reset"))
    assert (
        anonymous.get(reverse("renewals:calendar-feed", args=[token])).status_code == 404
    )  # replaced
    client.post(reverse("renewals:calendar-feed-revoke"))
    assert not CalendarFeed.objects.filter(user=cast.head_a).exists()


def test_fold_keeps_multibyte_characters_whole() -> None:
    line = "SUMMARY:" + "续费" * 40
    folded = cal._fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
