"""Small wording rules every page follows: the language switcher names each language in that
language, relative times say "刚刚" / "just now" instead of "0 分钟 前"."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_q.models import Task

from org.templatetags.figures import percent
from org.templatetags.relative_time import ago
from renewals.alerts import services as alerts
from renewals.notify.models import Notification
from renewals.notify.services.messaging import render_message
from tests.conftest import Cast
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


def _options(html: str) -> dict[str, str]:
    select = html.split('id="language-select"', 1)[1].split("</select>", 1)[0]
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', select))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_language_switcher_names_each_language_in_its_own_language(
    cast: Cast, language: str
) -> None:
    client = Client(headers={"accept-language": language})
    client.force_login(cast.employee)
    options = _options(client.get(reverse("home")).content.decode())
    assert options == {
        "zh-hans": "简体中文",
        "en": "English",
    }  # never "英语" / "Simplified Chinese"


def test_ago_says_just_now_under_a_minute_in_both_languages() -> None:
    now = timezone.now()
    with translation.override("zh-hans"):
        assert ago(now - dt.timedelta(seconds=59), now) == "刚刚"
        assert ago(now + dt.timedelta(seconds=3), now) == "刚刚"  # a clock a little ahead
        assert ago(now - dt.timedelta(minutes=5), now) == "5\xa0分钟前"
        assert ago(now - dt.timedelta(days=2, hours=3), now) == "2\xa0日，3\xa0小时前"
    with translation.override("en"):
        assert ago(now - dt.timedelta(seconds=10), now) == "just now"
        assert ago(now - dt.timedelta(minutes=1), now) == "1\xa0minute ago"
    assert ago(None) == ""


@pytest.mark.parametrize(
    ("language", "fresh", "older"),
    [
        ("zh-hans", "最近一次任务：刚刚", "最近一次任务：3\xa0分钟前"),
        ("en", "last task: just now", "last task: 3\xa0minutes ago"),
    ],
)
def test_the_worker_badge_says_just_now(cast: Cast, language: str, fresh: str, older: str) -> None:
    now = timezone.now()
    task = Task.objects.create(
        id="t1",
        name="heartbeat",
        func="config.health.heartbeat",
        started=now,
        stopped=now,
        success=True,
    )
    client = Client(headers={"accept-language": language})
    client.force_login(cast.it_admin)
    html = client.get(reverse("system-status")).content.decode()
    assert fresh in html and "0\xa0" not in html.split('data-testid="worker-last-run"')[1][:80]
    Task.objects.filter(pk=task.pk).update(stopped=now - dt.timedelta(minutes=3, seconds=5))
    assert older in client.get(reverse("system-status")).content.decode()


def test_percent_is_a_dash_when_nothing_is_measured() -> None:
    assert percent(None) == "—" and percent("") == "—"
    assert percent(Decimal("57.5")) == "57.5%" and percent(0) == "0%"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_bells_alert_and_briefing_notices_never_say_dash_percent(
    cast: Cast, language: str
) -> None:
    """A subscription without usage data yet: its alert in the bell read "使用率 —%"."""
    cast.software_admin.language = language
    cast.software_admin.save()
    sub = SubscriptionFactory.create(
        ref="NO-USAGE", department=cast.dept_a, owner=cast.software_admin,
        term_start=dt.date(2026, 4, 1), term_end=dt.date(2027, 3, 31),
    )  # fmt: skip
    alerts.alerts_sweep(today=dt.date(2027, 3, 1))
    alerts.alerts_deliver()
    body = Notification.objects.get(user=cast.software_admin, subscription=sub).body
    assert "—%" not in body and "None" not in body
    assert {"zh-hans": "使用率 —，", "en": "utilisation —,"}[language] in body
    totals: dict[str, object] = {
        "active_users": None, "utilisation": None, "idle_seats": 0, "departed_holders": 0,
    }  # fmt: skip
    context = {
        "department": cast.dept_a, "month": dt.date(2026, 11, 1), "url": "",
        "figures": {"totals": totals, "currency": "CNY"},
    }  # fmt: skip
    _subject, text, html = render_message("renewals/email/briefing", context, language)
    assert "—%" not in text and "—%" not in html
    totals["utilisation"] = Decimal("62.5")
    _subject, text, _html = render_message("renewals/email/briefing", context, language)
    assert "62.5%" in text
