"""The KPI store: the dashboard's figures kept per scope (stale-while-revalidate).

Computing the figures reads the whole inventory (~300 ms at 10,000 subscriptions), so pages
never wait for it once a scope has figures: the last figures computed for a scope are kept in
the shared cache and served with their "computed at" stamp. Older than KPI_CACHE_SECONDS (or
of another day) they are still served, and one refresh per scope is queued (a django-q2 task;
the cache's add() is the guard, so two stale views queue one task). A schedule warms the
company-wide scope and every head's and software admin's scope (core/schedules.py), so
even the first view after expiry is served from the cache. Only a scope with nothing stored
(first view ever, or figures older than STORED_SECONDS: the worker has not refreshed them
for an hour) is computed in the request.

The worker's refresh reaches the web processes through the cache they all share: a table in
our database by default, Redis with REDIS_URL (config/settings.py, "Cache"). Nothing is
refreshed in a web process's own thread: every refresh is a django-q2 task.

The figures themselves are computed by ``renewals.reports.selectors.kpis``.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django_q.tasks import async_task

from org.models import User
from org.roles import Role
from renewals.reports.selectors.kpis import Dashboard, dashboard_for, scope

# How long stored figures may be served at all; the warm-up runs well within it.
STORED_SECONDS = 3600
# How long a queued refresh keeps its scope from queueing another (a refresh that died frees
# it after this); longer than a refresh takes.
REFRESH_GUARD_SECONDS = 300


def scope_digest(depts: list[int] | None) -> str:
    """Names a scope in cache keys: every department, or one set of departments."""
    who = "all" if depts is None else ",".join(str(pk) for pk in sorted(depts))
    return hashlib.sha256(who.encode()).hexdigest()[:32]


def stored_key(depts: list[int] | None) -> str:
    # The stored value is a pickled Dashboard: change the version when its fields change or its
    # class moves (4: renewals.selectors.kpis became renewals.reports.selectors.kpis; a value
    # stored under the old path would not unpickle; 5: Dashboard.projected_overlap, #18).
    return f"kpi:figures:5:{scope_digest(depts)}"


def guard_key(depts: list[int] | None) -> str:
    """Set while a refresh of the scope is queued or running."""
    return f"kpi:refreshing:{scope_digest(depts)}"


def is_fresh(board: Dashboard, today: dt.date) -> bool:
    age = (timezone.now() - board.computed_at).total_seconds()
    return board.today == today and age <= settings.KPI_CACHE_SECONDS


def stored_dashboard(depts: list[int] | None, today: dt.date) -> tuple[Dashboard, str]:
    """The scope's figures and how they were found: "fresh" (stored, recent), "stale" (stored,
    served while one refresh is queued) or "computed" (nothing stored: computed now and
    stored)."""
    board = cache.get(stored_key(depts))
    if not isinstance(board, Dashboard):
        board = dashboard_for(depts, today)
        cache.set(stored_key(depts), board, STORED_SECONDS)
        return board, "computed"
    if is_fresh(board, today):
        return board, "fresh"
    refresh_queue(depts)
    return board, "stale"


def refresh_queue(depts: list[int] | None) -> bool:
    """Queue one refresh of the scope's figures unless one is queued or running already;
    True when this call queued it."""
    # add() sets the key only when it is absent, atomically across processes (Redis SET NX; the
    # database cache INSERTs the key, and its primary key refuses a second view's INSERT): of
    # two views that find the same figures stale, one queues the refresh.
    if not cache.add(guard_key(depts), timezone.now().isoformat(), REFRESH_GUARD_SECONDS):
        return False

    def enqueue() -> None:
        # In a transaction: outside one, django-q2's ORM broker first closes the request's
        # database connection (close_old_connections with CONN_MAX_AGE 0), and the rest of the
        # request would connect again (~7 ms).
        with transaction.atomic():
            async_task("renewals.tasks.kpi_refresh", depts, group="kpi-refresh")

    transaction.on_commit(enqueue)
    return True


def refresh(depts: list[int] | None, today: dt.date | None = None) -> Dashboard | None:
    """Compute and store the scope's figures, then free its refresh guard. None when another
    refresh of the scope is running right now (a PostgreSQL advisory lock per scope, held for
    the transaction, so it is freed even if the worker dies)."""
    locked = False
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_try_advisory_xact_lock(hashtext(%s))", [stored_key(depts)]
                )
                row = cursor.fetchone()
            locked = bool(row and row[0])
            if not locked:
                return None  # that refresh frees the guard when it is done
            board = dashboard_for(depts, today or timezone.localdate())
            cache.set(stored_key(depts), board, STORED_SECONDS)
            return board
    finally:
        if locked:
            cache.delete(guard_key(depts))


def warm_scopes() -> list[list[int] | None]:
    """Every department together, and the scope of each active department head and software
    admin (their departments with the sub-departments): the scopes the dashboard is seen in."""
    found: dict[str, list[int] | None] = {scope_digest(None): None}
    users = User.objects.filter(
        is_active=True, groups__name__in=[Role.DEPARTMENT_HEAD, Role.SOFTWARE_ADMIN]
    ).distinct()
    for user in users:
        depts = scope(user)
        if depts:
            found.setdefault(scope_digest(depts), sorted(depts))
    return list(found.values())
