"""django-q2 entry points of the integrations app (stored schedules and queued tasks name
these): take ids, call a service, exit if the row is gone."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max
from django.utils import timezone
from django_q.tasks import async_task

from integrations.connectors import playbooks, revoking
from integrations.connectors import sync as connector_sync_module
from integrations.directory import sync
from integrations.models import Connector, ConnectorRun, DirectorySource, SyncRun


def sync_source(
    source_id: int, trigger: str = SyncRun.Trigger.SCHEDULE, full: bool | None = None
) -> str:
    source = DirectorySource.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return "gone or disabled"
    run = sync.sync_source(source, trigger=trigger, full=full)
    return f"{run.status} {run.counts}"


def connector_sync(connector_id: int, trigger: str = ConnectorRun.Trigger.SCHEDULE) -> str:
    connector = Connector.objects.filter(pk=connector_id, enabled=True).first()
    if connector is None:
        return "gone or disabled"
    run = connector_sync_module.sync_connector(connector, trigger=trigger)
    return f"{run.status} {run.counts}" if run is not None else "removed while it ran"


def revocations_run(connector_id: int) -> str:
    return str(revoking.revocations_run(connector_id))


def sync_due() -> str:
    """Every minute: queue a sync of each enabled directory source and usage connector whose
    interval has passed since its last run (a run still going counts: no second one is queued
    behind it)."""
    now = timezone.now()
    due = []
    sources = (
        DirectorySource.objects.filter(enabled=True, sync_every_minutes__gt=0)
        .exclude(kind=DirectorySource.Kind.SCIM)
        .annotate(last=Max("runs__started_at"))
    )
    for source in sources:
        if source.last is None or source.last <= now - dt.timedelta(
            minutes=source.sync_every_minutes
        ):
            async_task("integrations.tasks.sync_source", source.pk, SyncRun.Trigger.SCHEDULE)
            due.append(source.pk)
    connectors = Connector.objects.filter(enabled=True, sync_every_minutes__gt=0).annotate(
        last=Max("runs__started_at")
    )
    for connector in connectors:
        every = dt.timedelta(minutes=connector.sync_every_minutes)
        if connector.last is None or connector.last <= now - every:
            async_task(
                "integrations.tasks.connector_sync", connector.pk, ConnectorRun.Trigger.SCHEDULE
            )
            due.append(connector.pk)
    for connector_id in revoking.revocations_due():  # retries whose back-off has passed
        async_task("integrations.tasks.revocations_run", connector_id)
    leavers = playbooks.leavers_run()  # the leaver playbooks: at once, i.e. within a minute
    return f"{len(due)} queued, leavers {leavers}"


def chat_deliver() -> str:
    """The chat apps' due calls (cards, updates, to-dos): queued when they are made, and every
    minute for retries whose back-off has passed."""
    from integrations.chat import outbox

    outcome = outbox.deliver()
    return f"{outcome.done} done, {outcome.waiting} waiting, {outcome.failed} failed"


def idle_playbooks(today: str | None = None) -> str:
    """Daily: the idle-seat playbooks (``today``: an ISO date, for ``manage.py playbooks``)."""
    day = dt.date.fromisoformat(today) if today else None
    return str(playbooks.idle_run(day))
