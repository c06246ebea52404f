"""Subscriptions with their seat, usage and cost figures, scoped to what a user may see."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, NullIf
from django.shortcuts import get_object_or_404
from django.utils import timezone

from org.models import Person
from org.roles import SEE_ALL_ROLES, roles_of
from org.scoping import managed_departments, visible_departments
from renewals.inventory.models import Module, Subscription, Vendor
from renewals.inventory.money import (
    MONEY,
    PeriodsPerYear,
    annual_cost_base,
    cents,
    rate_to_base,
)
from renewals.usage.models import MonthlyUsage, Seat


def idle_cutoff(today: dt.date | None = None) -> dt.date:
    """Seats whose last activity (or assignment, if never active) is before this day are idle."""
    return (today or timezone.localdate()) - dt.timedelta(days=settings.IDLE_AFTER_DAYS)


def _count_seats(condition: Q) -> Subquery:
    seats = (
        Seat.objects.filter(condition, subscription=OuterRef("pk"), revoked_on__isnull=True)
        .order_by()
        .values("subscription")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(seats, output_field=IntegerField())


def _latest_usage(field: str) -> Subquery:
    # Ordering by module_id too (NULL in every row here) lets PostgreSQL read the latest month
    # straight off the end of the unique (subscription, module, month) index instead of
    # fetching and sorting every month of the subscription: 2 ms less on a 50-row page.
    rows = MonthlyUsage.objects.filter(subscription=OuterRef("pk"), module__isnull=True).order_by(
        "-module_id", "-month"
    )
    return Subquery(rows.values(field)[:1])


def _idle(cutoff: dt.date) -> Q:
    """Seats idle on the cutoff: no activity since, or never active and assigned before it."""
    return Q(last_active_on__lt=cutoff) | Q(last_active_on__isnull=True, assigned_on__lt=cutoff)


def seat_is_idle(seat: Seat, cutoff: dt.date) -> bool:
    """_idle for a seat already loaded (the Python twin of the SQL condition)."""
    if seat.last_active_on is not None:
        return seat.last_active_on < cutoff
    return seat.assigned_on < cutoff


def idle_seats(*, today: dt.date | None = None) -> Coalesce:
    """How many active seats of a subscription row are idle (for filtering by it)."""
    return Coalesce(_count_seats(_idle(idle_cutoff(today))), 0)


# What with_figures annotates; add_figures sets the same attributes.
FIGURES = (
    "used_seats",
    "idle_seats",
    "departed_holders",
    "active_users",
    "usage_month",
    "rate",
    "periods",
)


def with_figures(
    queryset: QuerySet[Subscription], *, today: dt.date | None = None
) -> QuerySet[Subscription]:
    """Annotate what the figures need: seats used/idle/departed, the latest usage, the exchange
    rate and billing periods per year; one subquery each, per row (the modules' price per
    period is a column, Subscription.modules_cost).

    The figures derived from these (yearly cost, utilisation, cost per active user, free seats)
    are computed in Python by the Subscription properties: annotating them as SQL would repeat
    every subquery they are built from in each expression (PostgreSQL does not share them).
    ``order_by_figure`` gives the SQL form for sorting.
    """
    today = today or timezone.localdate()
    return queryset.annotate(
        used_seats=Coalesce(_count_seats(Q()), 0),
        idle_seats=idle_seats(today=today),
        departed_holders=Coalesce(_count_seats(Q(person__status="left")), 0),
        active_users=_latest_usage("active_users"),
        usage_month=_latest_usage("month"),
        rate=rate_to_base(on=today),
        periods=PeriodsPerYear(),
    )


def figure_expression(name: str, *, today: dt.date | None = None) -> RawSQL:
    """The SQL form of a derived figure, for sorting a list by it: the expression of
    ``_figure`` compiled once a day (building and compiling it took 1.2 ms a page)."""
    sql, params, output_field = _figure_sql(
        name, today or timezone.localdate(), settings.BASE_CURRENCY
    )
    return RawSQL(sql, params, output_field=output_field)


@functools.lru_cache(maxsize=16)
def _figure_sql(name: str, today: dt.date, base_currency: str) -> tuple[str, tuple[Any, ...], Any]:
    # Compiled against a plain Subscription query: the columns are those of the unaliased
    # table renewals_subscription, as in the list's queries, the only ones sorted by it.
    query = Subscription.objects.annotate(figure=_figure(name, today)).query
    compiler = query.get_compiler(using=Subscription.objects.db)
    expression = query.annotations["figure"]
    sql, params = compiler.compile(expression)
    return sql, tuple(params), expression.output_field


def _figure(name: str, today: dt.date) -> Any:
    annual = annual_cost_base(on=today)
    if name == "annual_cost":
        return annual
    if name == "utilisation":
        return Case(
            When(seats_purchased=0, then=Value(None)),
            default=ExpressionWrapper(
                _latest_usage("active_users") * Value(100.0) / F("seats_purchased"),
                output_field=DecimalField(max_digits=9, decimal_places=2),
            ),
        )
    if name == "monthly_cost_per_active_user":
        active = _latest_usage("active_users")
        return ExpressionWrapper(annual / Value(12) / NullIf(active, Value(0)), output_field=MONEY)
    raise ValueError(name)


def add_figures(
    subscriptions: list[Subscription], *, today: dt.date | None = None
) -> list[Subscription]:
    """Set the figures of with_figures on already loaded subscriptions (a page of a list), in
    one query for all of them: the list's count and page queries stay plain, and the
    subqueries run for the rows shown only."""
    by_pk = {s.pk: s for s in subscriptions}
    if not by_pk:
        return subscriptions
    sql, params = _figures_sql(
        today or timezone.localdate(), settings.IDLE_AFTER_DAYS, settings.BASE_CURRENCY
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(by_pk) if p is _PKS else p for p in params])
        for pk, *values in cursor.fetchall():
            for name, value in zip(FIGURES, values, strict=True):
                setattr(by_pk[pk], name, value)
    return subscriptions


# Stands for the list of primary keys in the compiled figures query.
_PKS = ["pks"]


@functools.lru_cache(maxsize=8)
def _figures_sql(
    today: dt.date, idle_after_days: int, base_currency: str
) -> tuple[str, tuple[Any, ...]]:
    """with_figures for an array of primary keys, as SQL compiled once a day (and again when
    the settings it reads change): building and compiling its eight subqueries through the
    ORM took longer than running them for a page of 50 rows."""
    rows = with_figures(
        Subscription.objects.filter(
            RawSQL(
                '"renewals_subscription"."id" = ANY(%s::bigint[])',
                (_PKS,),
                output_field=BooleanField(),
            )
        ),
        today=today,
    )
    sql, params = rows.order_by().values_list("pk", *FIGURES).query.sql_with_params()
    assert sum(p is _PKS for p in params) == 1
    return sql, params


def visible_subscriptions(*, user: Any) -> QuerySet[Subscription]:
    """Subscriptions of the departments the user may see, with vendor, department and owner;
    without figures (see with_figures and add_figures)."""
    subscriptions = Subscription.objects.all()
    if not roles_of(user) & SEE_ALL_ROLES:
        # Roles that see every department skip the filter: every subscription has one, and
        # joining all departments only made the page's count and query slower to plan and run.
        subscriptions = subscriptions.filter(department__in=visible_departments(user))
    return subscriptions.select_related("vendor", "department", "owner")


def subscription_list(*, user: Any, today: dt.date | None = None) -> QuerySet[Subscription]:
    """Subscriptions of the departments the user may see, with figures."""
    return with_figures(visible_subscriptions(user=user), today=today)


def get_subscription_for(user: Any, pk: int) -> Subscription:
    """The subscription if the user may see it (404 otherwise), with its figures."""
    return add_figures([get_object_or_404(visible_subscriptions(user=user), pk=pk)])[0]


def get_subscription_to_manage(user: Any, pk: int) -> Subscription:
    """The subscription if the user may change its department's data (404 otherwise)."""
    return get_object_or_404(
        Subscription.objects.filter(department__in=managed_departments(user)), pk=pk
    )


# A subscription's modules with how many active seats hold each, by name. Plain SQL: through
# the ORM (a prefetch with the count annotated) it took a millisecond more to build than to run.
_MODULES_SQL = (
    "SELECT m.*, (SELECT count(*) FROM renewals_seat_modules sm "
    "JOIN renewals_seat st ON st.id = sm.seat_id "
    "WHERE sm.module_id = m.id AND st.revoked_on IS NULL) AS holder_count "
    "FROM renewals_module m WHERE m.subscription_id = %s ORDER BY m.name, m.id"
)


def modules_with_holders(subscription: Subscription) -> list[Module]:
    """The subscription's modules by name, each with ``holder_count``: its active seats."""
    return list(Module.objects.raw(_MODULES_SQL, [subscription.pk]))


def past_terms(subscription: Subscription) -> list[dict[str, Any]]:
    """Every past term of the subscription, newest first, with what was paid for it (amount
    and currency, in the base currency at the recorded rate, order and fapiao numbers)."""
    # Plain SQL: the same query through the ORM took longer to build than to run.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT term_start, term_end, seats, unit_price, currency, actual_amount, "
            "rate_to_base, order_ref, actual_currency, fapiao_no FROM renewals_subscriptionterm "
            "WHERE subscription_id = %s "
            "ORDER BY term_start DESC",
            [subscription.pk],
        )
        rows = cursor.fetchall()
    return [
        {
            "term_start": start,
            "term_end": end,
            "seats": seats,
            "unit_price": unit_price,
            "currency": currency,
            "amount": None,
            "actual": cents(actual * rate) if actual is not None else None,
            "actual_amount": actual,
            "actual_currency": actual_currency or currency,
            "current": False,
            "order_ref": order_ref,
            "fapiao_no": fapiao_no,
        }
        for (
            start, end, seats, unit_price, currency, actual, rate, order_ref, actual_currency,
            fapiao_no,
        ) in rows
    ]  # fmt: skip


def visible_vendors(*, user: Any) -> QuerySet[Vendor]:
    """The vendors the user may see, by name: every vendor for the roles that see every
    department, else the vendors of the subscriptions of their departments (the vendor list's
    rule, without its counts: the filters' choices)."""
    vendors = Vendor.objects.all()
    if not roles_of(user) & SEE_ALL_ROLES:
        visible = Subscription.objects.filter(department__in=visible_departments(user))
        vendors = vendors.filter(pk__in=visible.values("vendor_id"))
    return vendors.order_by("name")


def seat_holders(*, user: Any) -> QuerySet[Person]:
    """The people the user may name in a seat filter: those of their departments (the
    directory's scope) and those holding a seat of one of their subscriptions (whom the seat
    lists already name)."""
    if roles_of(user) & SEE_ALL_ROLES:
        return Person.objects.all()
    visible = visible_departments(user)
    holders = Seat.objects.filter(subscription__department__in=visible).values("person_id")
    return Person.objects.filter(Q(department__in=visible) | Q(pk__in=holders))


def vendor_list(*, user: Any, archived: bool | None = None) -> QuerySet[Vendor]:
    """Vendors with how many of the user's visible subscriptions each has; ``archived``
    True: only archived ones, False: only the others, None: both."""
    visible = Q(subscriptions__department__in=visible_departments(user))
    vendors = Vendor.objects.annotate(subscription_count=Count("subscriptions", filter=visible))
    if archived is not None:
        vendors = vendors.filter(archived_at__isnull=not archived)
    if not roles_of(user) & SEE_ALL_ROLES:
        # A department head sees the vendors their departments buy from, not the whole list.
        vendors = vendors.filter(subscription_count__gt=0)
    return vendors.order_by("name")


def vendor_choices() -> QuerySet[Vendor]:
    """The vendors a picker offers (a subscription's form, a new purchase): those not
    archived, by name."""
    return Vendor.objects.filter(archived_at__isnull=True).order_by("name")


def active_seat_count(subscription_id: int) -> int:
    """How many seats of the subscription are assigned now (not revoked): its seat count may not
    go below that."""
    return Seat.objects.filter(subscription_id=subscription_id, revoked_on__isnull=True).count()
