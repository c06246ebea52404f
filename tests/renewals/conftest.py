"""Inventory fixtures: a small inventory in department A (and one subscription in B)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from renewals.inventory.models import CurrencyRate, Module, Subscription
from tests.conftest import Cast
from tests.factories import ModuleFactory, SubscriptionFactory, VendorFactory


@dataclass
class Inventory:
    jira: Subscription
    gantt: Module
    feishu_b: Subscription


@pytest.fixture
def inventory(cast: Cast) -> Inventory:
    CurrencyRate.objects.create(
        currency="USD", rate_to_base=Decimal("7.2"), valid_from=dt.date(2026, 1, 1)
    )
    jira = SubscriptionFactory.create(
        ref="JIRA-A",
        vendor=VendorFactory.create(name="Atlassian"),
        product="Jira",
        department=cast.dept_a,
        seats_purchased=10,
        unit_price=Decimal("8.00"),
        currency="USD",
        billing_cycle="monthly",
        term_start=dt.date(2026, 3, 1),
        term_end=dt.date(2027, 2, 28),
        auto_renew=True,
        notice_period_days=30,
    )
    gantt = ModuleFactory.create(subscription=jira, name="Gantt", unit_price=Decimal("2.00"))
    feishu_b = SubscriptionFactory.create(
        ref="FEISHU-B",
        vendor=VendorFactory.create(name="飞书"),
        product="飞书项目",
        department=cast.dept_b,
    )
    return Inventory(jira=jira, gantt=gantt, feishu_b=feishu_b)


# The local webhook receiver on 127.0.0.1, for every test of this folder that posts to chat.
from tests.renewals.notify.test_webhooks import receiver  # noqa: E402,F401
