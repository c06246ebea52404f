"""Contract status follows time and replacement: a newer contract that has started supersedes the
older active one (at save, row-locked), and a contract past its end expires (daily task)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from contracts import services, tasks
from contracts.models import Contract
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 3, 1)


def save(cast: Cast, number: str, start: dt.date, end: dt.date, **extra: Any) -> Contract:
    data = {
        "number": number, "counterparty": "北京飞书科技有限公司", "valid_from": start,
        "valid_to": end, "total_value": Decimal("1000"), "currency": "CNY", "status": "active",
    } | extra  # fmt: skip
    return services.contract_save(user=cast.it_admin, subscription=cast.subscription_a, data=data)


def statuses() -> dict[str, str]:
    return dict(Contract.objects.values_list("number", "status"))


@time_machine.travel(dt.datetime(2027, 3, 1, 4, 0, tzinfo=dt.UTC))
def test_a_newer_contract_that_has_started_supersedes_the_older_active_one(cast: Cast) -> None:
    save(cast, "OLD", dt.date(2026, 6, 1), dt.date(2028, 5, 31))
    # Signed for later: the old one stays in force until the new one starts.
    save(cast, "NEXT", dt.date(2027, 6, 1), dt.date(2028, 5, 31))
    assert statuses() == {"OLD": "active", "NEXT": "active"}
    # An upgrade that has started replaces the old contract at once.
    upgrade = save(cast, "UPGRADE", dt.date(2027, 2, 1), dt.date(2028, 1, 31))
    assert upgrade.status == "active"
    assert statuses() == {"OLD": "superseded", "NEXT": "active", "UPGRADE": "active"}
    # Another subscription's contracts are not touched.
    other = services.contract_save(
        user=cast.it_admin,
        subscription=type(cast.subscription_a).objects.create(
            ref="A-2",
            vendor=cast.subscription_a.vendor,
            product="Other",
            department=cast.dept_a,
            seats_purchased=1,
            unit_price=Decimal("1"),
            term_start=dt.date(2027, 1, 1),
            term_end=dt.date(2027, 12, 31),
        ),  # fmt: skip
        data={
            "number": "ELSEWHERE",
            "counterparty": "某公司",
            "valid_from": dt.date(2026, 1, 1),
            "valid_to": dt.date(2027, 12, 31),
            "total_value": Decimal("1"),
        },  # fmt: skip
    )
    assert other.status == "active"
    # When NEXT starts, the daily run lets it supersede UPGRADE.
    with time_machine.travel(dt.datetime(2027, 6, 1, 4, 0, tzinfo=dt.UTC)):
        assert tasks.statuses_refresh() == "0 expired, 1 superseded"
    assert statuses() == {
        "OLD": "superseded",
        "NEXT": "active",
        "UPGRADE": "superseded",
        "ELSEWHERE": "active",
    }


@time_machine.travel(dt.datetime(2027, 3, 1, 4, 0, tzinfo=dt.UTC))
def test_an_older_contract_entered_later_is_superseded_and_drafts_are_left_alone(
    cast: Cast,
) -> None:
    save(cast, "CURRENT", dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    older = save(cast, "ARCHIVED", dt.date(2026, 7, 1), dt.date(2027, 6, 30))
    assert older.status == "superseded"
    draft = save(cast, "DRAFT", dt.date(2027, 2, 1), dt.date(2028, 1, 31), status="draft")
    assert draft.status == "draft"
    assert statuses()["CURRENT"] == "active"  # a draft supersedes nothing


@time_machine.travel(dt.datetime(2027, 3, 1, 4, 0, tzinfo=dt.UTC))
def test_a_contract_expires_the_day_after_its_end(cast: Cast) -> None:
    ended = save(cast, "ENDED", dt.date(2025, 3, 1), dt.date(2027, 2, 28))
    assert ended.status == "expired"  # entered after its end: expired at once
    running = save(cast, "RUNNING", dt.date(2026, 3, 1), dt.date(2027, 3, 31))
    assert running.status == "active"
    with time_machine.travel(dt.datetime(2027, 3, 31, 4, 0, tzinfo=dt.UTC)):
        assert tasks.statuses_refresh() == "0 expired, 0 superseded"  # its last day
    with time_machine.travel(dt.datetime(2027, 4, 1, 4, 0, tzinfo=dt.UTC)):
        assert tasks.statuses_refresh() == "1 expired, 0 superseded"
        assert tasks.statuses_refresh() == "0 expired, 0 superseded"  # a second run: nothing
    assert statuses() == {"ENDED": "expired", "RUNNING": "expired"}


def test_the_status_refresh_is_a_daily_scheduled_job() -> None:
    from core.schedules import SCHEDULES

    spec = next(s for s in SCHEDULES if s.func == "contracts.tasks.statuses_refresh")
    assert spec.schedule_type == "C" and spec.cron == "5 0 * * *"


@pytest.mark.django_db(transaction=True)
def test_two_contracts_saved_at_once_leave_one_active(cast: Cast) -> None:
    # Without the subscription's row lock each save misses the other (uncommitted) contract and
    # both stay active.
    today = timezone.localdate()
    for attempt in range(5):
        barrier = threading.Barrier(2)

        def work(i: int, attempt: int = attempt, barrier: threading.Barrier = barrier) -> Contract:
            try:
                barrier.wait()
                start = today - dt.timedelta(days=10 + i)
                return save(cast, f"R{attempt}-{i}", start, today + dt.timedelta(days=300))
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(work, range(2)))
        mine = Contract.objects.filter(number__startswith=f"R{attempt}-")
        assert dict(mine.values_list("number", "status")) == {
            f"R{attempt}-0": "active", f"R{attempt}-1": "superseded"
        }  # fmt: skip
        mine.update(status="expired")
