"""Usage analytics: idle seats, departed holders, module under-use, trends and recommendations.
The person picker and the bulk-assign preview are in ``people`` (re-exported here)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from org.models import Department
from org.scoping import visible_departments
from renewals.inventory.models import Module, Subscription
from renewals.inventory.money import MONEY, PeriodsPerYear, cents, rate_to_base
from renewals.inventory.selectors import idle_cutoff, seat_is_idle
from renewals.usage.models import MonthlyUsage, Seat


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def last_complete_months(today: dt.date, count: int) -> list[dt.date]:
    """The ``count`` calendar months before the current one, oldest first."""
    current = month_start(today)
    return [add_months(current, -i) for i in range(count, 0, -1)]


# The names of a seat's modules, alphabetical, in the seats query itself (a prefetch would be
# a second query). Raw SQL: the same subquery through the ORM (ArraySubquery) and the flags as
# CASE expressions to sort by took 2.5 ms of Python to build and compile, more than the query.
_SEAT_MODULE_NAMES = (
    "ARRAY(SELECT m.name FROM renewals_seat_modules sm JOIN renewals_module m "
    'ON m.id = sm.module_id WHERE sm.seat_id = "renewals_seat"."id" ORDER BY m.name)'
)


def seats_of(subscription: Subscription, *, today: dt.date | None = None) -> list[Seat]:
    """Active seats of a subscription with their holder, the names of the modules each holds
    (``module_names``) and the flags ``is_idle`` and ``is_departed``: departed holders
    first, then idle seats, each group by the holder's name."""
    cutoff = idle_cutoff(today)
    seats: list[Seat] = list(
        Seat.objects.filter(subscription=subscription, revoked_on__isnull=True)
        .select_related("person", "person__department")
        .annotate(module_names=RawSQL(_SEAT_MODULE_NAMES, ()))
        .order_by("person__name", "pk")
    )
    for seat in seats:
        seat.is_idle = seat_is_idle(seat, cutoff)  # type: ignore[attr-defined]
        seat.is_departed = seat.person.has_left  # type: ignore[attr-defined]
    # A stable sort keeps the database's order by name within each group.
    seats.sort(key=lambda s: (not s.is_departed, not s.is_idle))  # type: ignore[attr-defined]
    return seats


@dataclass(frozen=True)
class UsagePoint:
    month: dt.date
    active_users: int | None
    seats: int
    tasks_completed: int | None

    @property
    def utilisation(self) -> Decimal | None:
        if self.active_users is None or not self.seats:
            return None
        return (Decimal(self.active_users) * 100 / self.seats).quantize(Decimal("0.1"))


def usage_trend(
    subscription: Subscription,
    *,
    months: int = 12,
    today: dt.date | None = None,
    modules: Sequence[Module] | None = None,
) -> dict[str, list[UsagePoint]]:
    """Monthly utilisation for the subscription ("" key) and each module, last ``months`` months.
    ``modules``: the subscription's modules by name, when the caller has read them already."""
    today = today or timezone.localdate()
    window = last_complete_months(today, months - 1) + [month_start(today)]
    by_pk = {m.pk: m for m in (subscription.modules.all() if modules is None else modules)}
    # Plain SQL: the same query through the ORM took a millisecond more to build than to run.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT module_id, month, active_users, tasks_completed FROM renewals_monthlyusage "
            "WHERE subscription_id = %s AND month >= %s",
            [subscription.pk, window[0]],
        )
        rows = cursor.fetchall()
    found: dict[tuple[int | None, dt.date], tuple[int, int | None]] = {
        (module_id, month): (active, done) for module_id, month, active, done in rows
    }
    series: dict[str, list[UsagePoint]] = {}
    for key, module in [(None, None), *by_pk.items()]:
        seats = (module.licensed_seats if module else None) or subscription.seats_purchased
        points = []
        for month in window:
            active, done = found.get((key, month), (None, None))
            points.append(UsagePoint(month, active, seats, done))
        series[module.name if module else ""] = points
    return series


@dataclass(frozen=True)
class UnderusedModule:
    """A module under the threshold for the last N complete months, and what dropping it saves."""

    module_id: int
    module: str
    subscription_id: int
    subscription: str
    department: str
    seats: int
    max_active: int
    yearly_cost: Decimal | None

    @property
    def right_size_saving(self) -> Decimal | None:
        """Saving if the module kept only as many seats as were ever active in the window."""
        if self.yearly_cost is None or not self.seats:
            return None
        return cents(self.yearly_cost * (self.seats - self.max_active) / self.seats)


def _underused_rows(scope: Q | RawSQL, today: dt.date) -> Any:
    """The under-used modules' rows of the usage rows within ``scope`` (a condition)."""
    months = last_complete_months(today, settings.UNDERUSE_MONTHS)
    seats = Coalesce("module__licensed_seats", "subscription__seats_purchased")
    under = Q(
        active_users__lt=ExpressionWrapper(
            seats * Value(settings.UNDERUSE_PERCENT) / Value(100.0),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        )
    )
    return (
        MonthlyUsage.objects.filter(scope, module__isnull=False, month__in=months)
        .order_by()
        .values(
            "module_id",
            "module__name",
            "subscription_id",
            "subscription__vendor__name",
            "subscription__product",
            "subscription__department__name",
        )
        .annotate(
            months_seen=Count("pk"),
            months_under=Count("pk", filter=under),
            max_active=Max("active_users"),
            module_seats=Max(seats),
            yearly_cost=Max(
                ExpressionWrapper(
                    F("module__unit_price")
                    * seats
                    * PeriodsPerYear(prefix="subscription__")
                    * rate_to_base(currency_ref="subscription__currency", on=today),
                    output_field=MONEY,
                )
            ),
        )
        .filter(months_seen=len(months), months_under=len(months))
        .order_by("-yearly_cost", "module__name")
    )


def _underused(r: dict[str, Any]) -> UnderusedModule:
    return UnderusedModule(
        module_id=r["module_id"],
        module=r["module__name"],
        subscription_id=r["subscription_id"],
        subscription=f"{r['subscription__vendor__name']} {r['subscription__product']}",
        department=r["subscription__department__name"],
        seats=r["module_seats"],
        max_active=r["max_active"],
        yearly_cost=cents(r["yearly_cost"]),
    )


def underused_modules(
    subscriptions: QuerySet[Subscription], *, today: dt.date | None = None
) -> list[UnderusedModule]:
    """Modules used by fewer than UNDERUSE_PERCENT of their seats in each of the last
    UNDERUSE_MONTHS complete months (a month without data clears the flag). One query."""
    rows = _underused_rows(Q(subscription__in=subscriptions), today or timezone.localdate())
    return [_underused(r) for r in rows]


# Stands for the array of subscription ids in the compiled query.
_PKS = ["pks"]


@functools.lru_cache(maxsize=8)
def _underused_sql(
    today: dt.date, months: int, percent: int, base_currency: str
) -> tuple[str, tuple[Any, ...], tuple[str, ...]]:
    """underused_modules for an array of subscription ids, compiled once a day (and again when
    the settings it reads change): building it through the ORM took longer than running it
    for one subscription."""
    # "= ANY(array)": "IN (SELECT unnest(array))" took PostgreSQL 0.6 ms longer to plan.
    scope = RawSQL(
        '"renewals_monthlyusage"."subscription_id" = ANY(%s::bigint[])',
        (_PKS,),
        output_field=BooleanField(),
    )
    rows = _underused_rows(scope, today)
    sql, params = rows.query.sql_with_params()
    assert sum(p is _PKS for p in params) == 1
    columns = (*rows.query.values_select, *rows.query.annotation_select)
    return sql, params, columns


def underused_modules_of(pks: list[int], *, today: dt.date | None = None) -> list[UnderusedModule]:
    """underused_modules of the subscriptions with these ids (a subscription's page)."""
    sql, params, columns = _underused_sql(
        today or timezone.localdate(),
        settings.UNDERUSE_MONTHS,
        settings.UNDERUSE_PERCENT,
        settings.BASE_CURRENCY,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(pks) if p is _PKS else p for p in params])
        return [_underused(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]


@dataclass(frozen=True)
class Recommendation:
    kind: str  # "drop_module", "reclaim_idle", "revoke_departed"
    text: str
    yearly_saving: Decimal | None


def recommendations(
    subscription: Subscription,
    *,
    today: dt.date | None = None,
    underused: Sequence[UnderusedModule] | None = None,
) -> list[Recommendation]:
    """What to change at renewal, with the yearly saving in the base currency where it is known.

    ``subscription`` must come from ``with_figures`` (it reads idle_seats, annual_cost …).
    ``underused``: ``underused_modules`` of many subscriptions read at once (a report over a
    department asks once, not once per subscription); by default this subscription's are read.
    """
    result = []
    if underused is None:
        underused = underused_modules_of([subscription.pk], today=today)
    for module in (m for m in underused if m.subscription_id == subscription.pk):
        result.append(
            Recommendation(
                "drop_module",
                _(
                    "Module %(module)s: at most %(active)s of %(seats)s seats active in each of the "
                    "last %(months)s months. Drop it, or keep only %(active)s seats."
                )
                % {
                    "module": module.module,
                    "active": module.max_active,
                    "seats": module.seats,
                    "months": settings.UNDERUSE_MONTHS,
                },
                module.yearly_cost,
            )
        )
    idle = getattr(subscription, "idle_seats", 0) or 0
    if idle:
        seat_cost = subscription.seat_annual_cost
        result.append(
            Recommendation(
                "reclaim_idle",
                ngettext(
                    "%(n)s seat idle for %(days)s days or more: reclaim it or buy fewer at renewal.",
                    "%(n)s seats idle for %(days)s days or more: reclaim them or buy fewer at renewal.",
                    idle,
                )
                % {"n": idle, "days": settings.IDLE_AFTER_DAYS},
                cents(seat_cost * idle) if seat_cost is not None else None,
            )
        )
    departed = getattr(subscription, "departed_holders", 0) or 0
    if departed:
        result.append(
            Recommendation(
                "revoke_departed",
                ngettext(
                    "%(n)s person who left the company still holds a seat: revoke it now (security risk).",
                    "%(n)s people who left the company still hold seats: revoke them now (security risk).",
                    departed,
                )
                % {"n": departed},
                None,
            )
        )
    return result


def departed_holders(
    *, user: Any = None, departments: QuerySet[Department] | None = None
) -> QuerySet[Seat]:
    """Active seats held by people who left, in the departments the user may see (or in
    ``departments``, for a report made by a worker for one department)."""
    if departments is None:
        departments = visible_departments(user)
    return (
        Seat.objects.filter(
            revoked_on__isnull=True,
            person__status="left",
            subscription__department__in=departments,
        )
        .select_related(
            "person", "subscription", "subscription__vendor", "subscription__department"
        )
        .order_by("person__left_on")
    )


from renewals.usage.selectors.people import (  # noqa: E402 - re-exported
    BULK_MAX_ENTRIES,
    BULK_MAX_LINES,
    PICKER_LIMIT,
    BulkPreview,
    bulk_preview,
    people_search,
    person_lookup,
    pinyin_initials,
    split_people_list,
)

__all__ = [
    "BULK_MAX_ENTRIES",
    "BULK_MAX_LINES",
    "PICKER_LIMIT",
    "BulkPreview",
    "bulk_preview",
    "people_search",
    "person_lookup",
    "pinyin_initials",
    "split_people_list",
]
