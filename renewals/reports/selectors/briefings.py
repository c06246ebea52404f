"""The monthly usage briefing (软件使用简报) of one department and its sub-departments: the
figures (JSON-ready, kept with each stored PDF) and the charts drawn from them.

Usage figures (active users, utilisation, tasks completed, the 12-month trend) are those of the
briefing's calendar month. Seats, idle seats, departed holders, costs, budget, renewals due and
recommendations describe the subscriptions as they stand on ``today`` (the day the briefing is
made; a scheduled briefing is made on the 1st of the next month). A fixed number of queries
whatever the number of subscriptions (tests count them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from budgets.selectors import department_budgets
from core.charts import bar_chart, line_chart
from core.money import short_money
from org.models import Department
from renewals.inventory.models import LIVE_STATUSES, Module, Subscription
from renewals.inventory.money import cents
from renewals.inventory.overlap import Overlap, find_overlaps, involving, total_saving
from renewals.inventory.selectors import with_figures
from renewals.usage.models import MonthlyUsage
from renewals.usage.selectors import (
    UnderusedModule,
    add_months,
    departed_holders,
    month_start,
    recommendations,
    underused_modules,
)

TREND_MONTHS = 12
RENEWAL_WINDOW_DAYS = 90
# Subscriptions a briefing reports on: those still running (expired and cancelled ones cost
# nothing any more).
CURRENT = LIVE_STATUSES
ONE_PLACE = Decimal("0.1")

# The department and every department below it, in one recursive query (as org.scoping does
# for the departments a user is assigned to).
_SUBTREE_SQL = """
WITH RECURSIVE subtree(id) AS (
    SELECT %s::bigint
    UNION
    SELECT d.id FROM org_department d JOIN subtree s ON d.parent_id = s.id
)
SELECT id FROM subtree
"""


def department_subtree(department: Department) -> QuerySet[Department]:
    """``department`` and all its sub-departments (a lazy queryset: a subquery when filtered on)."""
    return Department.objects.filter(pk__in=RawSQL(_SUBTREE_SQL, [department.pk]))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(cents(value))


def _percent(part: int | Decimal | None, whole: int | Decimal | None) -> str | None:
    if part is None or not whole:
        return None
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(ONE_PLACE, ROUND_HALF_UP))


def _per(amount: Decimal | None, count: int | None) -> str | None:
    if amount is None or not count:
        return None
    return str((amount / count).quantize(Decimal("0.01"), ROUND_HALF_UP))


# Usage rows of a briefing: (subscription, module or None, month) -> (active users, tasks).
Usage = dict[tuple[int, int | None, dt.date], tuple[int | None, int | None]]


@dataclass
class Sums:
    """What the subscriptions add up to (the briefing's totals)."""

    seats_purchased: int = 0
    seats_assigned: int = 0
    idle_seats: int = 0
    # Active users, and the seats and monthly cost, of the subscriptions that reported usage.
    active_users: int = 0
    seats_reporting: int = 0
    cost_reporting: Decimal = field(default_factory=Decimal)
    tasks_completed: int = 0
    tasks_reported: bool = False
    monthly_cost: Decimal = field(default_factory=Decimal)
    annual_cost: Decimal = field(default_factory=Decimal)


def briefing_figures(
    department: Department, month: dt.date, *, today: dt.date | None = None
) -> dict[str, Any]:
    """Everything the briefing shows for ``department`` (with sub-departments) and the calendar
    month starting ``month``; Decimals as strings, dates in ISO form. Texts (recommendations)
    are in the active language."""
    month = month_start(month)
    today = today or timezone.localdate()
    departments = department_subtree(department)
    names = list(departments.order_by("code").values_list("name", flat=True))
    subscriptions = _subscriptions(departments, today)
    window = [add_months(month, -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    usage = _usage(subscriptions, window)
    underused = underused_modules(
        Subscription.objects.filter(pk__in=[s.pk for s in subscriptions]), today=today
    )
    subs_out, sums = _subscription_rows(subscriptions, usage, month)
    advice, saving = _recommendation_rows(subscriptions, today, underused)
    departed = _departed_rows(departments)
    renewals = _renewal_rows(subscriptions, today)
    overlaps = involving(find_overlaps(today=today), {s.department_id for s in subscriptions})
    return {
        "department": {"id": department.pk, "name": department.name, "code": department.code},
        "departments": names,
        "month": month.isoformat(),
        "as_of": today.isoformat(),
        "currency": settings.BASE_CURRENCY,
        "idle_after_days": settings.IDLE_AFTER_DAYS,
        "totals": _totals(sums, len(subscriptions), len(departed), saving, len(renewals)),
        "subscriptions": sorted(
            subs_out, key=lambda s: (-Decimal(s["annual_cost"] or 0), s["name"])
        ),
        "modules": _module_rows(subscriptions, usage, month),
        "trend": _trend(subscriptions, usage, window),
        "departed": departed,
        "renewals": renewals,
        "budget": _budget(department, month, sums.annual_cost),
        "recommendations": advice,
        "overlaps": _overlap_rows(overlaps),
        "overlap_saving": _money(total_saving(overlaps)),
        "overlap_uncounted": any(not group.counted for group in overlaps),
    }


def _subscriptions(departments: QuerySet[Department], today: dt.date) -> list[Subscription]:
    """The running subscriptions of the departments, with their figures (``with_figures``)
    and modules, by vendor and product."""
    return list(
        with_figures(
            Subscription.objects.filter(department__in=departments, status__in=CURRENT), today=today
        )
        .select_related("vendor", "department")
        .prefetch_related(Prefetch("modules", queryset=Module.objects.order_by("name")))
        .order_by("vendor__name", "product", "pk")
    )


def _usage(subscriptions: list[Subscription], window: list[dt.date]) -> Usage:
    """The subscriptions' usage rows (whole subscription and per module) in the trend's months."""
    usage: Usage = {}
    rows = MonthlyUsage.objects.filter(
        subscription__in=[s.pk for s in subscriptions], month__gte=window[0], month__lte=window[-1]
    ).values_list("subscription_id", "module_id", "month", "active_users", "tasks_completed")
    for sub_id, module_id, row_month, users, tasks in rows:
        usage[sub_id, module_id, row_month] = (users, tasks)
    return usage


def _subscription_rows(
    subscriptions: list[Subscription], usage: Usage, month: dt.date
) -> tuple[list[dict[str, Any]], Sums]:
    """One row per subscription (seats, usage and cost in the month), and their sums."""
    rows: list[dict[str, Any]] = []
    sums = Sums()
    for sub in subscriptions:
        active, done = usage.get((sub.pk, None, month), (None, None))
        # Annotated by with_figures.
        used, idle = getattr(sub, "used_seats", 0), getattr(sub, "idle_seats", 0)
        annual = sub.annual_cost
        monthly = None if annual is None else cents(annual / 12)
        rows.append(
            {
                "id": sub.pk,
                "ref": sub.ref,
                "name": sub.display_name,
                "department": sub.department.name,
                "seats_purchased": sub.seats_purchased,
                "seats_assigned": used,
                "active_users": active,
                "utilisation": _percent(active, sub.seats_purchased),
                "idle_seats": idle,
                "departed_holders": getattr(sub, "departed_holders", 0),
                "tasks_completed": done,
                "annual_cost": _money(annual),
                "monthly_cost": _money(monthly),
                "cost_per_active_user": _per(monthly, active),
            }
        )
        sums.seats_purchased += sub.seats_purchased
        sums.seats_assigned += used or 0
        sums.idle_seats += idle or 0
        if active is not None:
            sums.active_users += active
            sums.seats_reporting += sub.seats_purchased
            if monthly is not None:
                sums.cost_reporting += monthly
        if done is not None:
            sums.tasks_reported = True
            sums.tasks_completed += done
        if annual is not None:
            sums.annual_cost += annual
            sums.monthly_cost += monthly or 0
    return rows, sums


def _totals(
    sums: Sums, subscriptions: int, departed: int, saving: Decimal, renewals: int
) -> dict[str, Any]:
    active_total = sums.active_users if sums.seats_reporting else None
    return {
        "subscriptions": subscriptions,
        "seats_purchased": sums.seats_purchased,
        "seats_assigned": sums.seats_assigned,
        "active_users": active_total,
        "utilisation": _percent(active_total, sums.seats_reporting),
        "idle_seats": sums.idle_seats,
        "departed_holders": departed,
        "tasks_completed": sums.tasks_completed if sums.tasks_reported else None,
        "monthly_cost": _money(sums.monthly_cost),
        "annual_cost": _money(sums.annual_cost),
        # Cost of the subscriptions that reported usage, over their active users.
        "cost_per_active_user": _per(sums.cost_reporting, active_total),
        "yearly_saving": _money(saving),
        "renewals_due": renewals,
    }


def _module_rows(
    subscriptions: list[Subscription], usage: Usage, month: dt.date
) -> list[dict[str, Any]]:
    """Each module's seats and active users in the month, subscription by subscription."""
    rows = []
    for sub in subscriptions:
        for module in sub.modules.all():
            m_active, _done = usage.get((sub.pk, module.pk, month), (None, None))
            seats = module.licensed_seats or sub.seats_purchased
            rows.append(
                {
                    "subscription": sub.display_name,
                    "module": module.name,
                    "seats": seats,
                    "active_users": m_active,
                    "utilisation": _percent(m_active, seats),
                }
            )
    return rows


def _recommendation_rows(
    subscriptions: list[Subscription], today: dt.date, underused: Sequence[UnderusedModule]
) -> tuple[list[dict[str, Any]], Decimal]:
    """What to change at renewal, subscription by subscription, and the yearly saving."""
    rows = []
    saving = Decimal(0)
    for sub in subscriptions:
        for rec in recommendations(sub, today=today, underused=underused):
            rows.append(
                {
                    "subscription": sub.display_name,
                    "kind": rec.kind,
                    "text": rec.text,
                    "yearly_saving": _money(rec.yearly_saving),
                }
            )
            saving += rec.yearly_saving or 0
    return rows, saving


def _overlap_rows(overlaps: list[Overlap]) -> list[dict[str, Any]]:
    """The overlapping tools involving the departments: the tools (named, with their
    departments), the projected saving and its assumptions (in the active language)."""
    return [
        {
            "kind": group.kind,
            "label": group.label,
            "tools": [
                {
                    "name": tool.name,
                    "departments": sorted({s.department.name for s in tool.subscriptions}),
                    "active_users": tool.active_users,
                }
                for tool in group.tools
            ],
            "saving": _money(group.saving),
            "counted": group.counted,
            "assumptions": group.assumptions,
        }
        for group in overlaps
    ]


def _trend(
    subscriptions: list[Subscription], usage: Usage, window: list[dt.date]
) -> list[dict[str, Any]]:
    """Utilisation per month of the subscriptions that reported usage that month."""
    trend = []
    for point in window:
        active_sum, seat_sum = 0, 0
        for sub in subscriptions:
            found = usage.get((sub.pk, None, point))
            if found is not None and found[0] is not None:
                active_sum += found[0]
                seat_sum += sub.seats_purchased
        trend.append(
            {
                "month": point.isoformat(),
                "active_users": active_sum if seat_sum else None,
                "seats": seat_sum,
                "utilisation": _percent(active_sum, seat_sum),
            }
        )
    return trend


def _departed_rows(departments: QuerySet[Department]) -> list[dict[str, Any]]:
    """Seats still held by people who left."""
    return [
        {
            "person": seat.person.name,
            "employee_no": seat.person.employee_no,
            "left_on": seat.person.left_on.isoformat() if seat.person.left_on else None,
            "subscription": seat.subscription.display_name,
            "department": seat.subscription.department.name,
        }
        for seat in departed_holders(departments=departments)
    ]


def _renewal_rows(subscriptions: list[Subscription], today: dt.date) -> list[dict[str, Any]]:
    """The terms ending within RENEWAL_WINDOW_DAYS, soonest first."""
    horizon = today + dt.timedelta(days=RENEWAL_WINDOW_DAYS)
    return [
        {
            "ref": sub.ref,
            "name": sub.display_name,
            "term_end": sub.term_end.isoformat(),
            "days_left": (sub.term_end - today).days,
            "auto_renew": sub.auto_renew,
            "cancellation_deadline": sub.computed_cancellation_deadline.isoformat(),
            "ends_at_term_end": sub.ends_at_term_end,
            "annual_cost": _money(sub.annual_cost),
        }
        for sub in sorted(subscriptions, key=lambda s: (s.term_end, s.ref))
        if today <= sub.term_end <= horizon
    ]


def _budget(department: Department, month: dt.date, annual_cost: Decimal) -> dict[str, Any] | None:
    """The department's budget of the year, None when it has none. The department's figure
    incl. its sub-departments: the rule of every budget page
    (budgets.selectors.department_budgets), with its own budget's share beside it."""
    budget_rows = department_budgets([department.pk], month.year)
    if not any(row.budget for row in budget_rows):
        return None
    row = budget_rows[0]
    total = row.balance
    return {
        "year": month.year,
        "allocated": _money(total.allocated),
        "reserve": _money(total.reserve),
        "committed": _money(total.committed),
        "actual": _money(total.actual),
        "available": _money(total.available),
        "used_percent": None if total.used_percent is None else str(total.used_percent),
        "annual_software_cost_percent": _percent(annual_cost, total.allocated)
        if total.allocated > 0
        else None,
        "includes_sub_departments": row.has_sub_departments,
        "own_allocated": _money(row.own.allocated),
        "sub_departments_allocated": _money(row.sub_departments.allocated),
    }


def _number(value: str | int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def briefing_charts(figures: dict[str, Any], *, limit: int = 25) -> dict[str, SafeString]:
    """The briefing's charts (one code path for the page and the PDF): utilisation per
    subscription and per module in the month, the 12-month utilisation trend, and the largest
    yearly costs. At most ``limit`` bars each (the tables list everything)."""
    currency = figures["currency"]
    subs = figures["subscriptions"]
    by_use = sorted(
        subs, key=lambda s: (s["utilisation"] is None, -(_number(s["utilisation"]) or 0))
    )
    modules = [m for m in figures["modules"] if m["utilisation"] is not None]
    trend = figures["trend"]
    return {
        "utilisation": bar_chart(
            [(s["name"], _number(s["utilisation"])) for s in by_use[:limit]],
            title=_("Utilisation per subscription"),
            unit="%",
            max_value=100,
        ),
        "modules": bar_chart(
            [(f"{m['subscription']} · {m['module']}", _number(m["utilisation"])) for m in modules][
                :limit
            ],
            title=_("Utilisation per module"),
            unit="%",
            max_value=100,
            color="#198754",
        ),
        "trend": line_chart(
            [p["month"][:7] for p in trend],
            [("", [_number(p["utilisation"]) for p in trend])],
            title=_("Utilisation, last 12 months"),
            unit="%",
            y_max=100,
        ),
        "cost": bar_chart(
            [(s["name"], _number(s["annual_cost"])) for s in subs[:limit]],
            title=_("Yearly cost (%(currency)s)") % {"currency": currency},
            color="#fd7e14",
            fmt=short_money,  # 3.55万 / 35.5K: the bars' labels stay short
        ),
    }
