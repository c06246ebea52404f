"""The KPI dashboard's stored figures: served with their stamp, refreshed once per scope by a
django-q2 task (never in a thread of the web process), warmed by the schedule through the real
django-q2 scheduler, computed in the request only when nothing is stored; and what a worker
process stores in the shared cache (the database's, without REDIS_URL) is what the next view
serves."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule, Success
from django_q.scheduler import scheduler
from django_q.tasks import async_task

from config.settings import DATABASE_CACHE
from core.schedules import PREFIX
from renewals.pages import selectors as home
from renewals.reports.selectors import kpis
from renewals.reports.services import kpi_store
from renewals.tasks import kpi_refresh
from tests import helpers
from tests.conftest import Cast
from tests.factories import SubscriptionFactory

ROOT = Path(__file__).resolve().parents[3]

LAPSED = re.compile(
    r'data-testid="kpi-lapsed">\s*<div class="card-body">\s*<div class="[^"]*">(\d+)<'
)


def figure_queries(views: CaptureQueriesContext, user: Any) -> list[str]:
    """The queries of a home view that read subscriptions for the figures: everything touching
    them except what the page's to-do panel reads for ``user`` (its own selector, run here)."""
    with CaptureQueriesContext(connection) as panel:
        home.todo(user=user)
    theirs = {q["sql"] for q in panel}
    return [
        q["sql"] for q in views if "renewals_subscription" in q["sql"] and q["sql"] not in theirs
    ]


@pytest.fixture
def stored(settings: Any) -> Any:
    """Figures kept 60 s (the tests' settings compute them on every view), in the cache every
    process shares when REDIS_URL is unset: the settings' table in the database (the tests'
    settings keep a memory cache), created here like `dev.py start` does; emptied."""
    settings.KPI_CACHE_SECONDS = 60
    settings.CACHES = {"default": DATABASE_CACHE}
    call_command("createcachetable", verbosity=0)
    assert isinstance(caches["default"], DatabaseCache)
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

    monkeypatch.setattr(kpi_store, "async_task", record)
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


def make_stale(depts: list[int] | None) -> None:
    """The scope's stored figures made older than KPI_CACHE_SECONDS, as any process would find
    them in the shared cache, and no refresh under way."""
    board = cache.get(kpi_store.stored_key(depts))
    assert isinstance(board, kpis.Dashboard)
    old = timezone.now() - dt.timedelta(seconds=django_settings.KPI_CACHE_SECONDS + 30)
    cache.set(
        kpi_store.stored_key(depts),
        dataclasses.replace(board, computed_at=old),
        kpi_store.STORED_SECONDS,
    )
    cache.delete(kpi_store.guard_key(depts))


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
        assert not figure_queries(views, cast.head_a)
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
def test_concurrent_stale_views_queue_one_refresh(
    cast: Cast, stored: Any, queued: list[tuple[str, tuple[Any, ...]]]
) -> None:
    """Views racing on the same stale figures, each on its own database connection (as in
    separate processes): the cache's add() lets exactly one of them queue the refresh."""
    signed_in(cast.head_a).get(reverse("home"))  # stores A's figures
    depts = kpis.scope(cast.head_a)
    make_stale(depts)
    clients = [signed_in(cast.head_a) for _ in range(4)]
    start = threading.Barrier(len(clients))
    pages: list[str] = []

    def view(client: Client) -> None:
        try:
            start.wait()
            response = client.get(reverse("home"))
            assert response.status_code == 200
            pages.append(response.content.decode())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=view, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(pages) == len(clients)
    assert all('data-testid="kpi-refreshing"' in page for page in pages)
    assert queued == [("renewals.tasks.kpi_refresh", (depts,))]
    assert cache.get(kpi_store.guard_key(depts)) is not None  # held until the refresh is done


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
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", [kpi_store.stored_key(None)]
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
        assert kpi_store.refresh(None) is None
        assert cache.get(kpi_store.stored_key(None)) is None
    finally:
        done.set()
        thread.join(30)
    board = kpi_store.refresh(None)
    assert board is not None and cache.get(kpi_store.stored_key(None)) == board


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
        assert isinstance(cache.get(kpi_store.stored_key(kpis.scope(user))), kpis.Dashboard), user
    client = signed_in(cast.head_a)
    with CaptureQueriesContext(connection) as views:
        page = client.get(reverse("home")).content.decode()
    assert not figure_queries(views, cast.head_a)
    assert lapsed_shown(page) == kpis.dashboard(user=cast.head_a).lapsed >= 1
    assert 'data-testid="kpi-refreshing"' not in page


@pytest.mark.django_db
def test_a_view_makes_the_same_number_of_queries_whatever_the_inventory(
    cast: Cast,
    stored: Any,
    queued: list[tuple[str, tuple[Any, ...]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    def counts() -> tuple[int, int, int]:
        cache.clear()
        client = signed_in(cast.it_admin)
        client.get(reverse("home"))  # nothing stored: computed and stored
        with CaptureQueriesContext(connection) as stored_view:
            client.get(reverse("home"))
        make_stale(None)
        with (
            CaptureQueriesContext(connection) as stale_view,
            django_capture_on_commit_callbacks(execute=True),
        ):
            client.get(reverse("home"))
        cache.clear()
        with CaptureQueriesContext(connection) as computing_view:
            client.get(reverse("home"))
        return len(stored_view), len(stale_view), len(computing_view)

    small = counts()
    for i in range(20):
        SubscriptionFactory.create(department=cast.dept_a if i % 2 else cast.dept_b)
    lapse_one(cast)
    assert counts() == small
    assert small[0] < small[1] < small[2]
    assert len(queued) == 2  # one refresh queued by each stale view


def _worker(log: Path) -> subprocess.Popen[bytes]:
    """A django-q2 cluster in a process of its own, as `dev.py start` and production run it:
    the production settings (config.settings) without REDIS_URL, on the test database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL", "DEBUG")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="true",
        DATABASE_URL=helpers.database_url(),
        SECRET_KEY=django_settings.SECRET_KEY,  # tasks are signed with it
        Q_WORKERS="1",
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        # To the cluster's own process only: it stops its sentinel and workers in order (its
        # sentinel dies at once on a SIGTERM of its own, and the cluster then waits for it).
        os.kill(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(worker.pid, signal.SIGKILL)  # anything of its group still there
    except ProcessLookupError:
        pass
    worker.wait()


@pytest.mark.django_db(transaction=True)
def test_figures_a_worker_process_refreshed_are_served_to_the_next_view(
    cast: Cast, stored: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The production path end to end: a stale view queues the refresh on the ORM broker, a
    real django-q2 cluster in another process runs it (and the warm-up) and stores the figures
    in the shared database cache, and the web process serves them to the next view."""
    monkeypatch.setattr(Conf, "SYNC", False)  # queue, as production does (tests run tasks at once)
    stored.KPI_CACHE_SECONDS = 600  # what the worker stores stays fresh however slow it starts
    client = signed_in(cast.head_a)
    before = lapsed_shown(client.get(reverse("home")).content.decode())  # computed, stored
    depts = kpis.scope(cast.head_a)
    lapse_one(cast)
    make_stale(depts)
    page = client.get(reverse("home")).content.decode()
    assert lapsed_shown(page) == before and 'data-testid="kpi-refreshing"' in page
    assert [(q.func(), q.args()) for q in OrmQ.objects.all()] == [
        ("renewals.tasks.kpi_refresh", (depts,))
    ]
    async_task("renewals.tasks.kpi_warm")  # what the kpi-warm schedule queues
    assert cache.get(kpi_store.stored_key(None)) is None  # nobody has seen every department yet

    log = tmp_path / "qcluster.log"
    worker = _worker(log)
    try:
        deadline = time.monotonic() + 120
        while Success.objects.filter(func__startswith="renewals.tasks.kpi_").count() < 2:
            assert worker.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.25)
    finally:
        _stop(worker)
    results = dict(Success.objects.values_list("func", "result"))
    assert str(results["renewals.tasks.kpi_refresh"]).startswith("computed")
    assert results["renewals.tasks.kpi_warm"] == "3 of 3 scopes refreshed"

    fresh = client.get(reverse("home")).content.decode()
    assert lapsed_shown(fresh) == before + 1
    assert 'data-testid="kpi-refreshing"' not in fresh
    assert not OrmQ.objects.exists()  # this view queued nothing: the figures were fresh
    # The warm-up stored the scopes nobody had viewed; their views compute nothing.
    it_client = signed_in(cast.it_admin)
    with CaptureQueriesContext(connection) as views:
        everything = it_client.get(reverse("home")).content.decode()
    assert not figure_queries(views, cast.it_admin)
    assert lapsed_shown(everything) == kpis.dashboard(user=cast.it_admin).lapsed
