"""The REST API (/api/v1/): bulk usage with broken and hostile input, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from renewals.usage.models import MonthlyUsage
from tests.api.helpers import api, post
from tests.conftest import Cast
from tests.factories import ModuleFactory, SubscriptionFactory


def test_usage_is_written_in_bulk_and_a_resend_changes_nothing(cast: Cast) -> None:
    module = ModuleFactory.create(subscription=cast.subscription_a, name="甘特图")
    rows = [
        {"subscription": cast.subscription_a.pk, "month": "2026-10-01", "active_users": 7},
        {
            "subscription": cast.subscription_a.pk,
            "module": "甘特图",
            "month": "2026-10-01",
            "active_users": 2,
            "tasks_completed": 40,
        },
    ]
    client = api(cast.software_admin)
    url = reverse("api:usage-bulk")
    response = post(client, url, {"rows": rows})
    assert response.status_code == 201 and response.json() == {"written": 2}
    assert post(client, url, {"rows": rows}).status_code == 201
    assert MonthlyUsage.objects.count() == 2
    assert MonthlyUsage.objects.get(module=module).tasks_completed == 40
    rows[0]["active_users"] = 8
    post(client, url, {"rows": rows[:1]})
    assert MonthlyUsage.objects.get(module=None).active_users == 8
    listed = client.get(reverse("api:usage-list"), {"subscription": cast.subscription_a.pk})
    assert {r["module"] for r in listed.json()["results"]} == {None, "甘特图"}


@pytest.mark.parametrize(
    "row",
    [
        {"month": "2026-10-15", "active_users": 1},  # not a month's first day
        {"month": "2099-01-01", "active_users": 1},  # the future
        {"month": "2026-13-01", "active_users": 1},
        {"month": "10/2026", "active_users": 1},
        {"month": "2026-10-01", "active_users": -1},
        {"month": "2026-10-01", "active_users": "1e5"},
        {"month": "2026-10-01", "active_users": "NaN"},
        {"month": "2026-10-01", "active_users": 10**25},
        {"month": "2026-10-01", "active_users": 1, "module": "没有这个模块"},
        {"month": "2026-10-01", "active_users": 1, "module": "x" * 81},
        {"month": "2026-10-01", "active_users": 1, "subscription": 10**25},
        {"month": "2026-10-01", "active_users": 1, "subscription": "<script>"},
        {"month": "2026-10-01", "active_users": 1, "tasks_completed": -5},
    ],
)
def test_a_broken_usage_row_refuses_the_whole_call(cast: Cast, row: dict[str, Any]) -> None:
    good = {"subscription": cast.subscription_a.pk, "month": "2026-09-01", "active_users": 1}
    bad = {"subscription": cast.subscription_a.pk, **row}
    response = post(api(cast.it_admin), reverse("api:usage-bulk"), {"rows": [good, bad]})
    assert response.status_code == 400, response.content
    assert MonthlyUsage.objects.count() == 0


def test_usage_refusals_name_every_row_and_write_nothing(cast: Cast) -> None:
    subscription_b = SubscriptionFactory.create(department=cast.dept_b)
    rows = [
        {"subscription": cast.subscription_a.pk, "month": "2026-10-01", "active_users": 1},
        {"subscription": subscription_b.pk, "month": "2026-10-01", "active_users": 1},
        {"subscription": cast.subscription_a.pk, "month": "2026-10-01", "active_users": 2},
    ]
    response = post(
        api(cast.software_admin, language="en"),
        reverse("api:usage-bulk"),
        {"rows": rows},
    )
    assert response.status_code == 400
    messages = response.json()["rows"]
    assert any(m.startswith("#1: No subscription") for m in messages)
    assert any(m.startswith("#2:") and "twice" in m for m in messages)
    assert MonthlyUsage.objects.count() == 0


def test_oversized_and_malformed_usage_calls_are_refused(cast: Cast) -> None:
    client = api(cast.it_admin)
    url = reverse("api:usage-bulk")
    row = {"subscription": cast.subscription_a.pk, "month": "2026-10-01", "active_users": 1}
    assert post(client, url, {"rows": [row] * 5001}).status_code == 400
    assert post(client, url, {"rows": []}).status_code == 400
    assert post(client, url, {"rows": "many"}).status_code == 400
    assert post(client, url, [row]).status_code == 400
    assert client.post(url, b"\xff\xfe garbage", content_type="application/json").status_code == 400
    assert MonthlyUsage.objects.count() == 0
