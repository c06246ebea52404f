"""The KPI dashboard's figures (home page), scoped to the departments a user may see.

Definitions (also shown on the page and in README):

- **Renewals due in N days**: subscriptions whose current term ends between today and today + N
  days (the same rows as the subscription list's "renews within N days" filter).
- **Renewals due in a month**: every term that ended in that month and was not ended on purpose:
  past terms (``SubscriptionTerm``) whose renewal was recorded, and current terms that ended
  without a renewal (``term_end`` before today, no decision not to renew, not cancelled).
  **On time** = the renewal was recorded (request executed) on or before the term's last day,
  in TIME_ZONE. **On-time renewal rate** = on time ÷ due. Past terms imported without a renewal
  date are not counted (nothing says whether they were on time).
- **Lapsed services**: subscriptions expired without a decision not to renew.
- **Utilisation** per month: active users ÷ seats purchased, summed over the subscriptions that
  reported usage that month (whole-subscription rows).
- **Idle-seat cost per month**: for every idle seat (no activity for IDLE_AFTER_DAYS), its
  subscription's yearly price per seat (seat price × billing periods × today's rate) ÷ 12.
- **Realised savings** (last 12 months): for each renewal recorded, the yearly cost of the term
  before minus the term after (seats × unit price × periods × rate), where that is a reduction;
  plus the realised savings of accepted suggestions.
- **Projected savings** (yearly): under-used modules' yearly cost, idle seats' yearly cost,
  accepted suggestions not yet realised, and the saving of consolidating overlapping tools (the
  overlaps with a subscription in the scope, their whole saving: ``renewals.inventory.overlap``,
  the findings page's figures).
- **Spend vs budget**: this year's allocation of each department against committed + actual, each
  department's figure including its sub-departments' (``budgets.selectors.department_budgets``,
  the rule the budget pages, briefings and the API share).

Every figure is one aggregate query whatever the number of subscriptions.

The figures a page shows are the scope's stored ones: the KPI store
(``renewals.reports.services.kpi_store``) keeps them in the cache and refreshes them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from budgets.selectors import DepartmentBudget, department_budgets
from org.roles import SEE_ALL_ROLES, roles_of
from org.scoping import visible_departments
from renewals.inventory.models import LIVE_STATUSES_SQL, Subscription
from renewals.inventory.money import PERIODS_SQL, cents
from renewals.inventory.overlap import find_overlaps, involving, total_saving
from renewals.inventory.selectors import idle_cutoff
from renewals.suggestions.models import Suggestion
from renewals.suggestions.selectors import suggestion_totals
from renewals.usage.selectors import add_months, month_start, underused_modules

ZERO = Decimal(0)
DUE_WINDOWS = (7, 30, 60)

# Today's rate of a subscription's currency to the base currency (NULL when unknown).
_RATE = (
    "(CASE WHEN s.currency = %(base)s THEN 1.0 ELSE (SELECT r.rate_to_base FROM "
    "renewals_currencyrate r WHERE r.currency = s.currency AND r.valid_from <= %(today)s "
    "ORDER BY r.valid_from DESC LIMIT 1) END)"
)
# The departments' subscriptions; a proposed one (a new purchase under approval) is not bought
# yet and counts in no figure.
_SCOPE = (
    "(%(depts)s::bigint[] IS NULL OR s.department_id = ANY(%(depts)s::bigint[]))"
    " AND s.status <> 'proposed'"
)


@dataclass(frozen=True)
class MonthRate:
    """Renewals due in one month and how many were on time."""

    month: dt.date
    due: int
    on_time: int
    late: int
    lapsed: int

    @property
    def rate(self) -> Decimal | None:
        if not self.due:
            return None
        return (Decimal(self.on_time) * 100 / self.due).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class UsagePoint:
    month: dt.date
    active: int
    seats: int

    @property
    def percent(self) -> Decimal | None:
        if not self.seats:
            return None
        return (Decimal(self.active) * 100 / self.seats).quantize(Decimal("0.1"))


@dataclass
class Dashboard:
    today: dt.date
    due: dict[int, int]
    months: list[MonthRate]
    lapsed: int
    usage: list[UsagePoint]
    idle_seats: int
    idle_cost_month: Decimal
    realised_renewals: Decimal
    realised_renewal_count: int
    realised_suggestions: Decimal
    projected_modules: Decimal
    projected_idle: Decimal
    projected_suggestions: Decimal
    budgets: list[DepartmentBudget] = field(default_factory=list)
    projected_overlap: Decimal = ZERO
    target: Decimal = Decimal("99.5")
    computed_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def on_time(self) -> MonthRate:
        """The twelve months together."""
        return MonthRate(
            month=self.months[0].month if self.months else self.today,
            due=sum(m.due for m in self.months),
            on_time=sum(m.on_time for m in self.months),
            late=sum(m.late for m in self.months),
            lapsed=sum(m.lapsed for m in self.months),
        )

    @property
    def realised(self) -> Decimal:
        return self.realised_renewals + self.realised_suggestions

    @property
    def projected(self) -> Decimal:
        return (
            self.projected_modules
            + self.projected_idle
            + self.projected_suggestions
            + self.projected_overlap
        )

    @property
    def on_target(self) -> bool | None:
        rate = self.on_time.rate
        return None if rate is None else rate >= self.target


def scope(user: Any) -> list[int] | None:
    """Department ids the user may see, or None for the roles that see every department."""
    if roles_of(user) & SEE_ALL_ROLES:
        return None
    return list(visible_departments(user).values_list("pk", flat=True))


def _params(depts: list[int] | None, today: dt.date, **extra: Any) -> dict[str, Any]:
    return {"depts": depts, "today": today, "base": settings.BASE_CURRENCY, **extra}


def _one(sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return tuple(cursor.fetchone())


def _all(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def due_counts(depts: list[int] | None, today: dt.date) -> dict[int, int]:
    cols = ", ".join(
        f"COUNT(*) FILTER (WHERE s.term_end <= %(today)s::date + {days})" for days in DUE_WINDOWS
    )
    row = _one(
        f"SELECT {cols} FROM renewals_subscription s WHERE {_SCOPE} "
        f"AND s.term_end >= %(today)s AND s.term_end <= %(today)s::date + {max(DUE_WINDOWS)}",
        _params(depts, today),
    )
    return dict(zip(DUE_WINDOWS, (int(n) for n in row), strict=True))


# A current term that ended without a renewal and without a decision to let it end.
LAPSED_TERM = "s.term_end < %(today)s AND NOT s.ends_at_term_end AND s.status <> 'cancelled'"


def on_time_by_month(depts: list[int] | None, today: dt.date, months: int = 12) -> list[MonthRate]:
    """The last ``months`` complete months plus the current one, oldest first."""
    first = add_months(month_start(today), -months)
    rows = _all(
        f"""
        SELECT month, SUM(on_time), SUM(late), SUM(lapsed) FROM (
            SELECT date_trunc('month', t.term_end)::date AS month,
                   COUNT(*) FILTER (WHERE (t.renewed_at AT TIME ZONE %(tz)s)::date <= t.term_end)
                       AS on_time,
                   COUNT(*) FILTER (WHERE (t.renewed_at AT TIME ZONE %(tz)s)::date > t.term_end)
                       AS late,
                   0 AS lapsed
            FROM renewals_subscriptionterm t JOIN renewals_subscription s ON s.id = t.subscription_id
            WHERE {_SCOPE} AND t.renewed_at IS NOT NULL AND t.term_end >= %(first)s
              AND t.term_end <= %(today)s
            GROUP BY 1
            UNION ALL
            SELECT date_trunc('month', s.term_end)::date, 0, 0, COUNT(*)
            FROM renewals_subscription s
            WHERE {_SCOPE} AND {LAPSED_TERM} AND s.term_end >= %(first)s
            GROUP BY 1
        ) x GROUP BY month
        """,
        _params(depts, today, first=first, tz=settings.TIME_ZONE),
    )
    found = {month: (int(a), int(b), int(c)) for month, a, b, c in rows}
    result = []
    for i in range(months + 1):
        month = add_months(first, i)
        on_time, late, lapsed = found.get(month, (0, 0, 0))
        result.append(MonthRate(month, on_time + late + lapsed, on_time, late, lapsed))
    return result


def lapsed_count(depts: list[int] | None, today: dt.date) -> int:
    return int(
        _one(
            f"SELECT COUNT(*) FROM renewals_subscription s WHERE {_SCOPE} AND {LAPSED_TERM}",
            _params(depts, today),
        )[0]
    )


def usage_trend(depts: list[int] | None, today: dt.date, months: int = 12) -> list[UsagePoint]:
    """Active users and seats of the subscriptions that reported usage, per complete month."""
    first = add_months(month_start(today), -months)
    rows = _all(
        f"""
        SELECT u.month, SUM(u.active_users), SUM(s.seats_purchased)
        FROM renewals_monthlyusage u JOIN renewals_subscription s ON s.id = u.subscription_id
        WHERE {_SCOPE} AND u.module_id IS NULL AND u.month >= %(first)s AND u.month < %(current)s
        GROUP BY 1
        """,
        _params(depts, today, first=first, current=month_start(today)),
    )
    found = {month: (int(a), int(b)) for month, a, b in rows}
    points = []
    for i in range(months):
        month = add_months(first, i)
        active, seats = found.get(month, (0, 0))
        points.append(UsagePoint(month, active, seats))
    return points


_IDLE_SEATS = f"""
    FROM renewals_seat st JOIN renewals_subscription s ON s.id = st.subscription_id
    WHERE {_SCOPE} AND st.revoked_on IS NULL AND s.status IN {LIVE_STATUSES_SQL}
      AND COALESCE(st.last_active_on, st.assigned_on) < %(cutoff)s
"""
_SEAT_YEARLY = (
    "s.unit_price * "
    + PERIODS_SQL.format(cycle="s.billing_cycle", start="s.term_start", end="s.term_end")
    + " * "
    + _RATE
)


def idle_seat_cost(depts: list[int] | None, today: dt.date) -> tuple[int, Decimal]:
    """How many seats of running subscriptions are idle, and their yearly cost in the base
    currency (the seat price over a year; modules not included). Seats are counted per
    subscription first, so the price and rate are worked out once per subscription."""
    count, yearly = _one(
        f"""
        SELECT SUM(i.n), SUM(i.n * {_SEAT_YEARLY})
        FROM (SELECT st.subscription_id, COUNT(*) AS n FROM renewals_seat st
              WHERE st.revoked_on IS NULL
                AND COALESCE(st.last_active_on, st.assigned_on) < %(cutoff)s
              GROUP BY 1) i
        JOIN renewals_subscription s ON s.id = i.subscription_id
        WHERE {_SCOPE} AND s.status IN {LIVE_STATUSES_SQL}
        """,
        _params(depts, today, cutoff=idle_cutoff(today)),
    )
    return int(count or 0), cents(yearly or ZERO) or ZERO


def idle_seat_rows(depts: list[int] | None, today: dt.date) -> list[tuple[Any, ...]]:
    """(subscription id, person name, account, last active, yearly cost) of each idle seat."""
    return _all(
        f"SELECT s.id, p.name, st.account, COALESCE(st.last_active_on, st.assigned_on), "
        f"ROUND({_SEAT_YEARLY}, 2) {_IDLE_SEATS.replace('WHERE', 'JOIN org_person p ON p.id = st.person_id WHERE', 1)} "
        "ORDER BY 5 DESC NULLS LAST, s.id, p.name",
        _params(depts, today, cutoff=idle_cutoff(today)),
    )


def renewal_rows(depts: list[int] | None, today: dt.date, month: dt.date) -> list[tuple[Any, ...]]:
    """(subscription id, term end, renewed at or None, state) of the renewals due in a month,
    state "on_time", "late" or "lapsed" as counted by on_time_by_month."""
    return _all(
        f"""
        SELECT t.subscription_id, t.term_end, t.renewed_at,
               CASE WHEN (t.renewed_at AT TIME ZONE %(tz)s)::date <= t.term_end
                    THEN 'on_time' ELSE 'late' END
        FROM renewals_subscriptionterm t JOIN renewals_subscription s ON s.id = t.subscription_id
        WHERE {_SCOPE} AND t.renewed_at IS NOT NULL AND t.term_end >= %(first)s
          AND t.term_end < %(next)s AND t.term_end <= %(today)s
        UNION ALL
        SELECT s.id, s.term_end, NULL, 'lapsed' FROM renewals_subscription s
        WHERE {_SCOPE} AND {LAPSED_TERM} AND s.term_end >= %(first)s AND s.term_end < %(next)s
        ORDER BY 2, 1
        """,
        _params(depts, today, first=month, next=add_months(month, 1), tz=settings.TIME_ZONE),
    )


# Each past term with the term that followed it: the next past term, or the current one.
_RENEWAL_PAIRS = f"""
    SELECT p.subscription_id, p.renewed_at,
           p.seats * p.unit_price * p.rate_to_base
               * {
    PERIODS_SQL.format(cycle="s.billing_cycle", start="p.term_start", end="p.term_end")
}
               AS before_cost,
           COALESCE(p.n_seats, s.seats_purchased) * COALESCE(p.n_price, s.unit_price)
               * COALESCE(p.n_rate, {_RATE})
               * {
    PERIODS_SQL.format(
        cycle="s.billing_cycle",
        start="COALESCE(p.n_start, s.term_start)",
        end="COALESCE(p.n_end, s.term_end)",
    )
}
               AS after_cost
    FROM (
        SELECT t.subscription_id, t.renewed_at, t.seats, t.unit_price, t.rate_to_base,
               t.term_start, t.term_end,
               LEAD(t.seats) OVER w AS n_seats, LEAD(t.unit_price) OVER w AS n_price,
               LEAD(t.rate_to_base) OVER w AS n_rate, LEAD(t.term_start) OVER w AS n_start,
               LEAD(t.term_end) OVER w AS n_end
        FROM renewals_subscriptionterm t
        WHERE t.subscription_id IN (
            SELECT r.subscription_id FROM renewals_subscriptionterm r
            WHERE r.renewed_at >= %(since)s)
        WINDOW w AS (PARTITION BY t.subscription_id ORDER BY t.term_start)
    ) p
    JOIN renewals_subscription s ON s.id = p.subscription_id
    WHERE {_SCOPE} AND p.renewed_at >= %(since)s
"""


def realised_renewal_savings(depts: list[int] | None, today: dt.date) -> tuple[Decimal, int]:
    """Yearly savings of the renewals recorded in the last 12 months, and how many saved."""
    total, count = _one(
        f"SELECT SUM(before_cost - after_cost) FILTER (WHERE before_cost > after_cost), "
        f"COUNT(*) FILTER (WHERE before_cost > after_cost) FROM ({_RENEWAL_PAIRS}) p",
        _params(depts, today, since=_since(today)),
    )
    return cents(total or ZERO) or ZERO, int(count)


def renewal_savings_rows(depts: list[int] | None, today: dt.date) -> list[tuple[Any, ...]]:
    """(subscription id, renewed at, yearly cost before, after, saving) of the renewals that
    saved, largest saving first."""
    return _all(
        "SELECT subscription_id, renewed_at, ROUND(before_cost, 2), ROUND(after_cost, 2), "
        f"ROUND(before_cost - after_cost, 2) FROM ({_RENEWAL_PAIRS}) p "
        "WHERE before_cost > after_cost ORDER BY before_cost - after_cost DESC, subscription_id",
        _params(depts, today, since=_since(today)),
    )


def _since(today: dt.date) -> dt.datetime:
    start = add_months(month_start(today), -12)
    return timezone.make_aware(dt.datetime.combine(start, dt.time.min))


def projected_module_savings(depts: list[int] | None, today: dt.date) -> Decimal:
    """Yearly cost of the modules under-used in each of the last UNDERUSE_MONTHS months: the
    findings page's list (``usage.underused_modules``), summed."""
    subscriptions = Subscription.objects.exclude(status=Subscription.Status.PROPOSED)
    if depts is not None:
        subscriptions = subscriptions.filter(department__in=depts)
    modules = underused_modules(subscriptions, today=today)
    return sum((m.yearly_cost or ZERO for m in modules), start=ZERO)


def projected_overlap_savings(depts: list[int] | None, today: dt.date) -> Decimal:
    """The yearly saving of consolidating the overlapping tools with a subscription in the
    scope (the findings page's overlaps and figures)."""
    return total_saving(involving(find_overlaps(today=today), depts))


def suggestion_savings(depts: list[int] | None, today: dt.date) -> tuple[Decimal, Decimal]:
    """(realised in the last 12 months, accepted and not yet realised) yearly savings of the
    suggestions on the departments' subscriptions."""
    rows = Suggestion.objects.all()
    if depts is not None:
        rows = rows.filter(subscription__department__in=depts)
    totals = suggestion_totals(rows, realised_from=add_months(month_start(today), -12))
    return totals.realised, totals.accepted_estimated


def budget_rows(depts: list[int] | None, year: int) -> list[DepartmentBudget]:
    """This year's figure of each department in scope (every department for ``None``), its
    sub-departments included, in tree order: the budget overview's rows."""
    return department_budgets(depts, year)


def dashboard(*, user: Any, today: dt.date | None = None) -> Dashboard:
    """The figures for the departments ``user`` may see, computed now."""
    return dashboard_for(scope(user), today or timezone.localdate())


def dashboard_for(depts: list[int] | None, today: dt.date) -> Dashboard:
    """The figures for a scope (``scope()``: department ids, or None for every department),
    computed now from the whole inventory (a few hundred milliseconds at 10,000 subscriptions)."""
    idle_count, idle_yearly = idle_seat_cost(depts, today)
    realised, realised_count = realised_renewal_savings(depts, today)
    suggested_realised, suggested_open = suggestion_savings(depts, today)
    return Dashboard(
        today=today,
        due=due_counts(depts, today),
        months=on_time_by_month(depts, today),
        lapsed=lapsed_count(depts, today),
        usage=usage_trend(depts, today),
        idle_seats=idle_count,
        idle_cost_month=cents(idle_yearly / 12) or ZERO,
        realised_renewals=realised,
        realised_renewal_count=realised_count,
        realised_suggestions=suggested_realised,
        projected_modules=projected_module_savings(depts, today),
        projected_idle=idle_yearly,
        projected_suggestions=suggested_open,
        projected_overlap=projected_overlap_savings(depts, today),
        budgets=budget_rows(depts, today.year),
        target=Decimal(settings.ON_TIME_RENEWAL_TARGET),
    )


def lapsed_subscriptions(user: Any, today: dt.date) -> QuerySet[Subscription]:
    """The rows behind ``lapsed_count`` (LAPSED_TERM as a queryset)."""
    depts = scope(user)
    rows = Subscription.objects.filter(term_end__lt=today, ends_at_term_end=False).exclude(
        status__in=[Subscription.Status.CANCELLED, Subscription.Status.PROPOSED]
    )
    if depts is not None:
        rows = rows.filter(department__in=depts)
    return rows.select_related("vendor", "department").order_by("term_end", "pk")
