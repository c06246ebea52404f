"""The KPI dashboard's stored figures: served with their stamp, refreshed in the background once
per scope, warmed by the schedule through the real django-q2 scheduler, computed in the request
only when nothing is stored."""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule, Success
from django_q.scheduler import scheduler

from config.schedules import PREFIX
from renewals.selectors import kpis
from renewals.tasks import kpi_refresh
from tests.conftest import Cast
from tests.factories import SubscriptionFactory

LAPSED = re.compile(
    r'data-testid="kpi-lapsed">\s*<div class="card-body">\s*<div class="[^"]*">(\d+)<'
)


@pytest.fixture
def stored(settings: Any) -> Any:
    """Figures kept 60 s (the tests' settings compute them on every view); an empty cache."""
    settings.KPI_CACHE_SECONDS = 60
    cache.clear()
    yield settings
    cache.clear()


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """Tasks queued with django_q.tasks.async_task, recorded and not run (the tests' settings
    run tasks at once, which would hide the stale figures)."""
    calls: list[tuple[str, tuple[Any, ...]]] = []
    lock = threading.Lock()

    def record(func: str, *args: Any, **kwargs: Any) -> str:
        with lock:
            calls.append((func, args))
        return "recorded"

    monkeypatch.setattr(kpis, "async_task", record)
    return calls


def lapsed_shown(html: str) -> int:
    match = LAPSED.search(html)
    assert match, "no lapsed figure on the page"
    return int(match[1])


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def lapse_one(cast: Cast) -> None:
    SubscriptionFactory.create(
        department=cast.dept_a, term_start=dt.date(2024, 1, 1), term_end=dt.date(2025, 1, 1),
        status="expired",
    )  # fmt: skip


@pytest.mark.django_db
def test_stale_figures_are_served_with_their_stamp_and_one_refresh_is_queued(
    cast: Cast,
    stored: Any,
    queued: list[tuple[str, tuple[Any, ...]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = signed_in(cast.head_a)
    first = client.get(reverse("home")).content.decode()  # nothing stored: computed now
    before = lapsed_shown(first)
    assert 'data-testid="kpi-refreshing"' not in first and not queued
    lapse_one(cast)
    # Within KPI_CACHE_SECONDS the stored figures are served as they are, nothing is queued.
    assert lapsed_shown(client.get(reverse("home")).content.decode()) == before and not queued
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=90)):
        # (the task is queued once the request's transaction commits)
        with (
            CaptureQueriesContext(connection) as views,
            django_capture_on_commit_callbacks(execute=True),
        ):
            pages = [client.get(reverse("home")).content.decode() for _ in range(2)]
        # Stale: both views get the stored figures, stamped and marked as being updated ...
        for page in pages:
            assert lapsed_shown(page) == before
            assert 'data-testid="kpi-refreshing"' in page
            assert timezone.localtime().strftime("%Y-%m-%d") in page  # the "as of" stamp
        # ... without computing anything, and one refresh is queued for A's scope.
        assert not [q for q in views if "renewals_subscription" in q["sql"]]
        depts = kpis.scope(cast.head_a)
        assert queued == [("renewals.tasks.kpi_refresh", (depts,))]
        assert kpi_refresh(*queued[0][1]).startswith("computed")  # the worker's part
        fresh = client.get(reverse("home")).content.decode()
    assert lapsed_shown(fresh) == before + 1
    assert 'data-testid="kpi-refreshing"' not in fresh
    # The refresh freed the scope's guard: figures that turn stale again queue a new one.
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=200)):
        with django_capture_on_commit_callbacks(execute=True):
            client.get(reverse("home"))
    assert len(queued) == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_stale_views_queue_one_refresh(
    cast: Cast, stored: Any, queued: list[tuple[str, tuple[Any, ...]]]
) -> None:
    signed_in(cast.head_a).get(reverse("home"))  # stores A's figures
    clients = [signed_in(cast.head_a) for _ in range(2)]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def view(client: Client) -> None:
        try:
            start.wait()
            statuses.append(client.get(reverse("home")).status_code)
        finally:
            connections.close_all()

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=90)):
        threads = [threading.Thread(target=view, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert statuses == [200, 200]
    assert [func for func, _args in queued] == ["renewals.tasks.kpi_refresh"]


@pytest.mark.django_db(transaction=True)
def test_a_refresh_while_another_runs_for_the_scope_computes_nothing(
    cast: Cast, stored: Any
) -> None:
    """One refresh per scope at a time, across processes: an advisory lock per scope."""
    holding, done = threading.Event(), threading.Event()

    def other_refresh() -> None:
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", [kpis.stored_key(None)]
                )
                holding.set()
                done.wait(30)
                cursor.execute("COMMIT")
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_refresh)
    thread.start()
    try:
        assert holding.wait(30)
        assert kpis.refresh(None) is None
        assert cache.get(kpis.stored_key(None)) is None
    finally:
        done.set()
        thread.join(30)
    board = kpis.refresh(None)
    assert board is not None and cache.get(kpis.stored_key(None)) == board


@pytest.mark.django_db
def test_the_scheduled_warm_up_stores_every_scope_and_views_compute_nothing(
    cast: Cast, stored: Any
) -> None:
    call_command("sync_schedules")
    job = Schedule.objects.get(name=PREFIX + "kpi-warm")
    assert (job.func, job.schedule_type, job.minutes) == ("renewals.tasks.kpi_warm", "I", 10)
    lapse_one(cast)
    Schedule.objects.filter(pk=job.pk).update(next_run=timezone.now() - dt.timedelta(seconds=1))
    scheduler()  # the real django-q2 scheduler; the tests' settings run the task at once
    assert Schedule.objects.get(pk=job.pk).next_run > timezone.now()
    result = Success.objects.get(func="renewals.tasks.kpi_warm").result
    # Every department together, head A's (A and its sub-department), head B's; the software
    # admin's scope is A's too.
    assert result == "3 of 3 scopes refreshed"
    for user in (cast.it_admin, cast.head_a, cast.head_b, cast.software_admin):
        assert isinstance(cache.get(kpis.stored_key(kpis.scope(user))), kpis.Dashboard), user
    client = signed_in(cast.head_a)
    with CaptureQueriesContext(connection) as views:
        page = client.get(reverse("home")).content.decode()
    assert not [q for q in views if "renewals_subscription" in q["sql"]]
    assert lapsed_shown(page) == kpis.dashboard(user=cast.head_a).lapsed >= 1
    assert 'data-testid="kpi-refreshing"' not in page


@pytest.mark.django_db
def test_a_view_makes_the_same_number_of_queries_whatever_the_inventory(
    cast: Cast, stored: Any
) -> None:
    def counts() -> tuple[int, int]:
        cache.clear()
        client = signed_in(cast.it_admin)
        client.get(reverse("home"))  # nothing stored: computed and stored
        with CaptureQueriesContext(connection) as stored_view:
            client.get(reverse("home"))
        cache.clear()
        with CaptureQueriesContext(connection) as computing_view:
            client.get(reverse("home"))
        return len(stored_view), len(computing_view)

    small = counts()
    for i in range(20):
        SubscriptionFactory.create(department=cast.dept_a if i % 2 else cast.dept_b)
    lapse_one(cast)
    assert counts() == small
    assert small[0] < small[1]


@pytest.mark.django_db(transaction=True)
def test_with_a_per_process_cache_a_stale_view_refreshes_in_a_thread_of_its_own(
    cast: Cast, stored: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default memory cache is each process's own: a worker's refresh would never reach
    the web process, so the view's process refreshes its figures itself, after answering."""
    monkeypatch.setattr(kpis, "refresh_in_worker", lambda: False)
    client = signed_in(cast.head_a)
    before = lapsed_shown(client.get(reverse("home")).content.decode())
    lapse_one(cast)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=90)):
        alive = set(threading.enumerate())
        page = client.get(reverse("home")).content.decode()
        assert lapsed_shown(page) == before and 'data-testid="kpi-refreshing"' in page
        refreshers = [t for t in threading.enumerate() if t not in alive]
        assert len(refreshers) == 1
        refreshers[0].join(30)
        fresh = client.get(reverse("home")).content.decode()
    assert lapsed_shown(fresh) == before + 1 and 'data-testid="kpi-refreshing"' not in fresh


@pytest.mark.django_db
def test_the_warm_up_does_nothing_in_a_worker_whose_cache_the_pages_do_not_share(
    cast: Cast, stored: Any
) -> None:
    from renewals.tasks import kpi_warm

    stored.Q_CLUSTER = {**stored.Q_CLUSTER, "sync": False}  # a real worker, memory cache
    assert not kpis.refresh_in_worker()
    assert kpi_warm().startswith("skipped")
    assert cache.get(kpis.stored_key(None)) is None
