"""Monthly usage briefings: the figures on a hand-built data set, in a fixed number of queries."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renewals.reports.selectors.briefings import briefing_figures
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast
from tests.factories import (
    ModuleFactory,
    PersonFactory,
    SeatFactory,
    SubscriptionFactory,
)
from tests.renewals.reports.briefings.conftest import (
    MONTH,
    TODAY,
)

# --- Figures ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_figures_match_the_hand_computed_values(cast: Cast, data: SimpleNamespace) -> None:
    figures = briefing_figures(cast.dept_a, MONTH, today=TODAY)
    t = figures["totals"]
    assert figures["departments"] == ["研发中心 A", "测试部 A-QA"]
    assert t["subscriptions"] == 2  # the cancelled one and department B's are not counted
    assert (t["active_users"], t["utilisation"]) == (20, "66.7")  # 5 + 15 of 10 + 20 seats
    assert (t["seats_assigned"], t["idle_seats"], t["departed_holders"]) == (3, 1, 1)
    assert t["tasks_completed"] == 40  # reported by Jira only
    assert (t["monthly_cost"], t["annual_cost"]) == ("1600.00", "19200.00")
    assert t["cost_per_active_user"] == "80.00"  # 1,600 / 20
    assert t["yearly_saving"] == "2400.00"  # the module (1,200) and the idle seat (1,200)
    subs = {s["ref"]: s for s in figures["subscriptions"]}
    assert (
        subs["JIRA"]["utilisation"] == "50.0" and subs["JIRA"]["cost_per_active_user"] == "220.00"
    )
    assert subs["WPS"]["utilisation"] == "75.0" and subs["WPS"]["tasks_completed"] is None
    assert subs["WPS"]["department"] == "测试部 A-QA"
    assert figures["modules"] == [
        {"subscription": "Atlassian Jira", "module": "Roadmaps", "seats": 10,
         "active_users": 2, "utilisation": "20.0"},
    ]  # fmt: skip
    assert [r["kind"] for r in figures["recommendations"]] == [
        "drop_module", "reclaim_idle", "revoke_departed",
    ]  # fmt: skip
    assert [(d["person"], d["left_on"]) for d in figures["departed"]] == [
        ("离职员工", "2026-09-30")
    ]
    assert [(r["ref"], r["days_left"]) for r in figures["renewals"]] == [("WPS", 30)]
    assert figures["budget"] == {
        # available = 50,000 - 15 % reserve (7,500) - 18,000 paid
        "year": 2026, "allocated": "50000.00", "reserve": "7500.00", "committed": "0.00",
        "actual": "18000.00", "available": "24500.00", "used_percent": "36.0", "annual_software_cost_percent": "38.4",
        # A's figure includes its sub-department's (which has no budget): labelled, split shown.
        "includes_sub_departments": True, "own_allocated": "50000.00",
        "sub_departments_allocated": "0.00",
    }  # fmt: skip
    trend = {p["month"]: p["utilisation"] for p in figures["trend"]}
    assert len(trend) == 12 and trend["2026-09-01"] == "60.0" and trend["2026-07-01"] is None
    assert trend["2026-10-01"] == "66.7"


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_subscriptions(
    cast: Cast, data: SimpleNamespace
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            briefing_figures(cast.dept_a, MONTH, today=TODAY)
        return len(queries)

    before = count()
    for n in range(15):
        sub = SubscriptionFactory.create(department=cast.dept_a_child, seats_purchased=5)
        ModuleFactory.create(subscription=sub, licensed_seats=5)
        SeatFactory.create(subscription=sub, person=PersonFactory.create(department=cast.dept_a))
        MonthlyUsage.objects.create(subscription=sub, month=MONTH, active_users=n % 5)
    assert count() == before <= 10
