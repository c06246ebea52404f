"""Shared by the clean-up campaign's tests: the seats a checklist is built from (departed, idle,
never used, fresh, revoked, another department's, a USD one) and small helpers."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from renewals.cleanup import services
from renewals.cleanup.models import CleanupCampaign, CleanupItem
from renewals.inventory.models import CurrencyRate
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import (
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
