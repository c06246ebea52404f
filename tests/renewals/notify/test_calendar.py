"""The renewal calendar page and the per-user iCal feed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from renewals.inventory.models import Subscription
from renewals.notify import calendar as cal
from renewals.notify.models import CalendarFeed
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


# --- the month grid (#15.15) --------------------------------------------------------------------


def _grid_days(html: str) -> list[str]:
    return re.findall(r'data-day="(\d{4}-\d\d-\d\d)"', html)


@time_machine.travel(dt.datetime(2027, 1, 6, 10, tzinfo=dt.UTC), tick=False)
def test_the_month_is_a_grid_of_weeks_monday_first_with_today_marked(
    cast: Cast, dates: None
) -> None:
    client = Client()
    client.force_login(cast.head_a)
    response = client.get(reverse("renewals:calendar"), {"month": "2027-01"})
    html = response.content.decode()
    days = _grid_days(html)
    # January 2027 starts on a Friday: the grid runs from Monday 28 December to Sunday 31 January.
    assert days[0] == "2026-12-28" and days[-1] == "2027-01-31" and len(days) == 35
    weeks = response.context["weeks"]
    assert all(len(week) == 7 and week[0].date.weekday() == 0 for week in weeks)
    assert [d.date for w in weeks for d in w if d.is_today] == [dt.date(2027, 1, 6)]
    assert 'data-day="2027-01-06" aria-current="date"' in html

    def cell(day: str) -> str:
        return html.split(f'data-day="{day}"', 1)[1].split("</td>", 1)[0]

    cal_a = Subscription.objects.get(ref="CAL-A").get_absolute_url()
    assert f'class="calendar-event term_end" href="{cal_a}"' in cell("2027-01-15")
    assert "calendar-event" not in cell("2027-01-20")  # department B's date: not head A's
    assert 'class="calendar-day other-month" data-day="2026-12-28"' in html
    assert 'class="calendar-day" data-day="2027-01-01"' in html
    # The month's previous and next links, and the weekday header starting on Monday (周一).
    assert "周一" in html.split("<thead>", 2)[1].split("</th>", 1)[0]


def test_grid_links_keep_the_department_and_the_view(cast: Cast, dates: None) -> None:
    client = Client()
    client.force_login(cast.it_admin)
    dept = str(cast.dept_a.pk)
    html = client.get(
        reverse("renewals:calendar"), {"month": "2027-01", "department": dept}
    ).content.decode()
    assert f"?month=2026-12&amp;department={dept}&amp;view=grid" in html
    assert f"?month=2027-02&amp;department={dept}&amp;view=grid" in html
    assert f"?month=2027-01&amp;department={dept}&amp;view=list" in html  # the toggle
    listed = client.get(
        reverse("renewals:calendar"), {"month": "2027-01", "department": dept, "view": "list"}
    )
    html = listed.content.decode()
    assert 'data-testid="calendar-grid"' not in html and listed.context["view"] == "list"
    assert f"?month=2027-02&amp;department={dept}&amp;view=list" in html  # remembered
    assert '<input type="hidden" name="view" value="list">' in html  # and by the filter
    assert [e.subscription.ref for e in listed.context["events"]] == ["CAL-A"]
    grid = client.get(reverse("renewals:calendar"), {"month": "2027-01", "view": "nonsense"})
    assert grid.context["view"] == "grid"


def test_the_grid_costs_the_same_queries_whatever_the_data(cast: Cast, dates: None) -> None:
    client = Client()
    client.force_login(cast.it_admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("renewals:calendar"), {"month": "2027-01"}).status_code == 200
        return len(captured)

    few = queries()
    for i in range(12):
        SubscriptionFactory.create(
            ref=f"MANY-{i}", department=cast.dept_a if i % 2 else cast.dept_b,
            term_start=dt.date(2026, 1, 1 + i), term_end=dt.date(2027, 1, 1 + i),
            auto_renew=True, notice_period_days=10,
        )  # fmt: skip
    assert queries() == few


def test_weekday_names_in_both_languages() -> None:
    with translation.override("zh-hans"):
        assert [short for short, _ in cal.weekday_names()][:2] == ["周一", "周二"]
        assert "".join(shortest for _, shortest in cal.weekday_names()) == "一二三四五六日"
    with translation.override("en"):
        assert cal.weekday_names()[0] == ("Mon", "Mo")
