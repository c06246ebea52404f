"""Small wording rules every page follows: the language switcher names each language in that
language, relative times say "刚刚" / "just now" instead of "0 分钟 前"."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_q.models import Task

from org.templatetags.relative_time import ago
from tests.conftest import Cast

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
