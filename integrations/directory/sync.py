"""The directory sync: read a source, apply what it says, act on leavers at once.

- ``sync_source``: a scheduled, manual or command pull. The reader runs first, outside any
  transaction; a source that fails or times out halfway raises ``SourceError`` and nothing is
  applied. The application is one transaction holding the source's lock, so two workers syncing
  one source (or a sync and an event) take turns, and the second finds nothing to change.
- ``apply_person`` / ``remove_person`` / ``apply_department`` / ``remove_department``: one
  change (a Feishu/DingTalk/WeCom event, a SCIM write). An event id already seen changes
  nothing ("replayed"); an event older than what we hold changes nothing ("stale").
- **Safety valve**: a pull that would mark more than ``DIRECTORY_MAX_LEAVERS_PERCENT`` of the
  source's active people as leavers (more than one), or leave a department of two or more
  active people with nobody, applies everything but the leavers and is *held*: an IT admin sees
  the list and confirms (``confirm_held``) or discards it. One event is never held.
- Leavers: marked left with the date; after the commit the worker task
  ``renewals.tasks.leavers_act`` flags their seats, tells the software admins and owners, raises
  the risk and adds them to an open clean-up campaign (within seconds: a queued task).
Nothing is ever deleted: a person the source drops has left, a department it drops is made
inactive once nobody active is in it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from integrations.directory import apply
from integrations.directory.entries import (
    ExternalDepartment,
    ExternalPerson,
    Snapshot,
    SourceError,
)
from integrations.models import (
    DirectoryConflict,
    DirectoryLink,
    DirectorySource,
    SyncRun,
)
from org import services as org_services
from org.models import Department, Person, User

logger = logging.getLogger(__name__)

# The module whose ``read(source, *, full)`` pulls each kind of source (SCIM is pushed to us).
READERS = {
    DirectorySource.Kind.LDAP: "integrations.directory.ldap",
    DirectorySource.Kind.FEISHU: "integrations.directory.feishu",
    DirectorySource.Kind.DINGTALK: "integrations.directory.dingtalk",
    DirectorySource.Kind.WECOM: "integrations.directory.wecom",
}
_LOCK_SPACE = 0x5D1  # advisory lock space of directory sources (the second key is the source id)


@dataclass
class Outcome:
    """What one change did: applied, unchanged, replayed, stale or conflict."""

    status: str
    person: Person | None = None
    department: Department | None = None
    message: str = ""


def _lock(source: DirectorySource) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, source.pk])


def _remember(source: DirectorySource, event_id: str, event_type: str, at: dt.datetime) -> bool:
    """Record the event id; False if it was seen before (a replay)."""
    if not event_id:
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO integrations_directoryevent (source_id, event_id, event_type, "
            "occurred_at, received_at) VALUES (%s, %s, %s, %s, now()) "
            "ON CONFLICT (source_id, event_id) DO NOTHING",
            [source.pk, event_id[:200], event_type[:80], at],
        )
        return cursor.rowcount == 1


# --- pulls ------------------------------------------------------------------------------------


def reader_for(source: DirectorySource) -> Callable[..., Snapshot]:
    module = READERS.get(DirectorySource.Kind(source.kind))
    if module is None:
        raise SourceError(_("A %(kind)s source is not pulled: it pushes its changes.") % {
            "kind": source.get_kind_display()})  # fmt: skip
    return importlib.import_module(module).read


def sync_source(
    source: DirectorySource, *, trigger: str = SyncRun.Trigger.MANUAL, full: bool | None = None
) -> SyncRun:
    """Pull the source and apply it; returns the run (succeeded, held or failed)."""
    if full is None:
        full = not source.cursor or _full_due(source)
    run = SyncRun.objects.create(source=source, trigger=trigger, full=full)
    started, _today = apply.now_local()
    try:
        snapshot = reader_for(source)(source, full=full)
    except SourceError as exc:
        return _finish(run, SyncRun.Status.FAILED, error=str(exc))
    except Exception:  # a reader bug: logged (never with credentials), shown plainly
        logger.exception("directory source %s: the read failed", source.pk)
        return _finish(run, SyncRun.Status.FAILED, error=_("Reading the source failed."))
    try:
        return apply_snapshot(source, snapshot, run=run, occurred_at=started)
    except Exception:
        logger.exception("directory source %s: applying the read failed", source.pk)
        return _finish(run, SyncRun.Status.FAILED, error=_("Applying the source's data failed."))


def _full_due(source: DirectorySource) -> bool:
    """Once a day a pull reads everything again (even when the reader can pull changes)."""
    last_full = source.runs.filter(full=True, status=SyncRun.Status.SUCCEEDED).first()
    return last_full is None or last_full.started_at < timezone.now() - dt.timedelta(days=1)


def _finish(run: SyncRun, status: str, *, error: str = "") -> SyncRun:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.save(update_fields=["status", "error", "finished_at", "counts", "held_leavers",
                            "held_departments"])  # fmt: skip
    return run


@transaction.atomic
def apply_snapshot(
    source: DirectorySource, snapshot: Snapshot, *, run: SyncRun, occurred_at: dt.datetime
) -> SyncRun:
    _lock(source)
    # Foreign keys checked at each statement instead of queued to the commit: the audit
    # triggers' sub-transactions walk that queue on every row, so a 50,000-person sync slowed
    # down with every row it wrote (175 s -> 27 s, bench/bench_directory_sync.py). This
    # transaction writes parents first (departments, people, links, managers), so nothing waits
    # for a row written later.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    source.refresh_from_db(fields=["cursor", "listed_at"])
    full = run.full and snapshot.present_people is not None
    ctx = apply.Context(source=source, occurred_at=occurred_at, today=timezone.localdate(),
                        full=full, listed_at=source.listed_at)  # fmt: skip
    active_before = _active_people(source)
    apply.apply_departments(ctx, snapshot.departments)
    apply.apply_people(ctx, snapshot.people)
    apply.apply_managers(ctx, snapshot.people)
    if snapshot.present_people is not None:
        apply.missing_people(ctx, snapshot.present_people)
    held_departments = _emptied_departments(ctx.leavers)
    too_many = len(ctx.leavers) > 1 and (
        len(ctx.leavers) * 100 > settings.DIRECTORY_MAX_LEAVERS_PERCENT * active_before
    )
    if too_many or held_departments:
        run.held_leavers = sorted(ctx.leavers)
        run.held_departments = held_departments
        # Why, as figures: the page says it in the reader's language (views._run_note).
        run.counts = {
            **ctx.counts, "held_leavers": len(ctx.leavers), "active_before": active_before,
            "held_reason": "too_many" if too_many else "emptied",
        }  # fmt: skip
        for older in SyncRun.objects.filter(source=source, status=SyncRun.Status.HELD).exclude(
            pk=run.pk
        ):
            older.status, older.counts = SyncRun.Status.DISCARDED, {**older.counts, "superseded": 1}
            older.save(update_fields=["status", "counts"])
        if full:  # what it listed is confirmed; what it did not list is not (not applied yet)
            _confirm_listed(ctx, snapshot.present_people or set())
        reason, status = "", SyncRun.Status.HELD
    else:
        _mark_leavers(ctx)
        _mark_absent(link_ids=ctx.missing_links)
        if full:
            DirectorySource.objects.filter(
                Q(listed_at__isnull=True) | Q(listed_at__lt=occurred_at), pk=source.pk
            ).update(listed_at=occurred_at)
        run.counts = ctx.counts
        reason, status = "", SyncRun.Status.SUCCEEDED
    if snapshot.present_departments is not None and status != SyncRun.Status.HELD:
        _deactivate_empty(apply.missing_departments(ctx, snapshot.present_departments))
        run.counts = {**run.counts, **{k: v for k, v in ctx.counts.items() if k.startswith("dep")}}
    _record_conflicts(ctx, full=run.full)
    org_services.people_link_users(person_ids=ctx.touched_people)
    if snapshot.cursor:
        DirectorySource.objects.filter(pk=source.pk).update(cursor=snapshot.cursor)
    return _finish(run, status, error=reason)


def _active_people(source: DirectorySource) -> int:
    return DirectoryLink.objects.filter(
        source=source, kind=DirectoryLink.Kind.PERSON, person__status=Person.Status.ACTIVE
    ).count()


def _confirm_listed(ctx: apply.Context, listed: set[str]) -> None:
    """A held full pull: the people links it listed are as of its start (the source's
    listed_at would also cover the links it did not list, which wait for the decision)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE integrations_directorylink SET changed_at = %s WHERE source_id = %s AND "
            "kind = 'person' AND present AND changed_at < %s AND external_id = ANY(%s)",
            [ctx.occurred_at, ctx.source.pk, ctx.occurred_at, list(listed)],
        )


def _emptied_departments(leavers: dict[int, dt.date]) -> list[int]:
    """Departments of two or more active people all of whom would leave."""
    if len(leavers) < 2:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT department_id FROM org_person WHERE status = 'active' AND department_id IN "
            "(SELECT department_id FROM org_person WHERE id = ANY(%s)) GROUP BY department_id "
            "HAVING count(*) >= 2 AND bool_and(id = ANY(%s)) ORDER BY department_id",
            [list(leavers), list(leavers)],
        )
        return [row[0] for row in cursor.fetchall()]


def _mark_absent(*, link_ids: list[int] | None = None, people: list[int] | None = None,
                 source: DirectorySource | None = None) -> None:  # fmt: skip
    """Person links the source no longer lists (by link id, or by person for a source)."""
    with connection.cursor() as cursor:
        if link_ids:
            cursor.execute(
                "UPDATE integrations_directorylink SET present = false WHERE id = ANY(%s)",
                [link_ids],
            )
        if people and source is not None:
            cursor.execute(
                "UPDATE integrations_directorylink SET present = false WHERE source_id = %s "
                "AND kind = 'person' AND person_id = ANY(%s)",
                [source.pk, people],
            )


def _mark_leavers(ctx: apply.Context) -> list[int]:
    marked = org_services.people_mark_left_bulk(leavers=ctx.leavers)
    ctx.add("leavers", len(marked))
    if marked:
        name = ctx.source.name
        transaction.on_commit(lambda: async_task("renewals.tasks.leavers_act", marked, name))
    return marked


def _deactivate_empty(department_ids: list[int]) -> None:
    empty = list(
        Department.objects.filter(pk__in=department_ids, is_active=True)
        .exclude(people__status=Person.Status.ACTIVE)
        .exclude(children__is_active=True)
    )
    for department in empty:
        department.is_active = False
    org_services.departments_save_from_directory(new=[], changed=empty)


def _record_conflicts(ctx: apply.Context, *, full: bool) -> None:
    """Open (or refresh) a conflict per problem seen; a full pull resolves the ones it no
    longer sees."""
    now = timezone.now()
    for (kind, external_id), detail in ctx.conflicts.items():
        DirectoryConflict.objects.update_or_create(
            source=ctx.source, kind=kind, external_id=external_id, resolved_at=None,
            defaults={"detail": detail},
        )  # fmt: skip
    if full:
        seen = Q()
        for kind, external_id in ctx.conflicts:
            seen |= Q(kind=kind, external_id=external_id)
        still = DirectoryConflict.objects.filter(source=ctx.source, resolved_at__isnull=True)
        (still.exclude(seen) if ctx.conflicts else still).update(resolved_at=now)


# --- held runs --------------------------------------------------------------------------------


@transaction.atomic
def confirm_held(run: SyncRun, *, user: User) -> SyncRun:
    """Apply a held run's leavers (those still active and still missing or disabled)."""
    run = SyncRun.objects.select_for_update().get(pk=run.pk)
    if run.status != SyncRun.Status.HELD:
        raise SourceError(_("This sync is no longer waiting for a confirmation."))
    _lock(run.source)
    ctx = apply.Context(source=run.source, occurred_at=timezone.now(), today=timezone.localdate())
    ctx.leavers = {pk: ctx.today for pk in run.held_leavers}
    _mark_leavers(ctx)
    _mark_absent(people=list(run.held_leavers), source=run.source)
    run.status, run.decided_by, run.decided_at = SyncRun.Status.CONFIRMED, user, timezone.now()
    run.counts = {**run.counts, "leavers": ctx.counts.get("leavers", 0)}
    run.save(update_fields=["status", "decided_by", "decided_at", "counts"])
    return run


@transaction.atomic
def discard_held(run: SyncRun, *, user: User) -> SyncRun:
    run = SyncRun.objects.select_for_update().get(pk=run.pk)
    if run.status != SyncRun.Status.HELD:
        raise SourceError(_("This sync is no longer waiting for a confirmation."))
    run.status, run.decided_by, run.decided_at = SyncRun.Status.DISCARDED, user, timezone.now()
    run.save(update_fields=["status", "decided_by", "decided_at"])
    return run


# --- single changes (events, SCIM) ------------------------------------------------------------


def _one(
    source: DirectorySource, occurred_at: dt.datetime, event_id: str, event_type: str
) -> apply.Context | None:
    _lock(source)
    if not _remember(source, event_id, event_type, occurred_at):
        return None
    source.refresh_from_db(fields=["listed_at"])
    return apply.Context(
        source=source,
        occurred_at=occurred_at,
        today=timezone.localdate(occurred_at),
        listed_at=source.listed_at,
    )


def _outcome(ctx: apply.Context, kind: str, external_id: str) -> Outcome:
    link = (
        DirectoryLink.objects.filter(source=ctx.source, kind=kind, external_id=external_id)
        .select_related("person", "department")
        .first()
    )
    person = link.person if link else None
    department = link.department if link else None
    if ctx.counts.get("skipped_stale"):
        return Outcome("stale", person, department, _("An older change than the one we hold."))
    if ctx.conflicts:
        kind_, _id = next(iter(ctx.conflicts))
        return Outcome("conflict", person, department, str(DirectoryConflict.Kind(kind_).label))
    changed = sum(v for k, v in ctx.counts.items() if k != "people_unchanged")
    return Outcome("applied" if changed else "unchanged", person, department)


@transaction.atomic
def apply_person(
    source: DirectorySource,
    entry: ExternalPerson,
    *,
    occurred_at: dt.datetime,
    event_id: str = "",
    event_type: str = "",
) -> Outcome:
    ctx = _one(source, occurred_at, event_id, event_type)
    if ctx is None:
        return Outcome("replayed", message=_("This event was received before."))
    apply.apply_people(ctx, [entry])
    if not ctx.counts.get("skipped_stale") and not ctx.conflicts:
        apply.apply_managers(ctx, [entry])
    _mark_leavers(ctx)
    _record_conflicts(ctx, full=False)
    org_services.people_link_users(person_ids=ctx.touched_people)
    return _outcome(ctx, DirectoryLink.Kind.PERSON, entry.external_id)


@transaction.atomic
def rename_person(
    source: DirectorySource, old_id: str, new_id: str, *, occurred_at: dt.datetime
) -> bool:
    """The source changed a person's id (WeCom allows a userid change once): their link follows,
    so the next change or pull finds the same person instead of a leaver and a newcomer. False
    if there is nothing to rename (unknown old id, or the new id is linked already)."""
    _lock(source)
    links = DirectoryLink.objects.filter(source=source, kind=DirectoryLink.Kind.PERSON)
    if not old_id or not new_id or old_id == new_id or links.filter(external_id=new_id).exists():
        return False
    return bool(links.filter(external_id=old_id).update(external_id=new_id, changed_at=occurred_at))


@transaction.atomic
def remove_person(
    source: DirectorySource,
    external_id: str,
    *,
    occurred_at: dt.datetime,
    event_id: str = "",
    event_type: str = "",
) -> Outcome:
    """The source deleted (or finally disabled) the person: they have left."""
    ctx = _one(source, occurred_at, event_id, event_type)
    if ctx is None:
        return Outcome("replayed", message=_("This event was received before."))
    link = (  # the source's lock is held: no row lock needed
        DirectoryLink.objects.filter(
            source=source, kind=DirectoryLink.Kind.PERSON, external_id=external_id
        )
        .select_related("person")
        .first()
    )
    if link is None or link.person is None:
        return Outcome("unchanged", message=_("Nobody of this source has that id."))
    if apply.held_after(ctx, link.changed_at, present=link.present):
        return Outcome("stale", link.person, message=_("An older change than the one we hold."))
    if link.person.status == Person.Status.ACTIVE:
        ctx.leavers[link.person.pk] = ctx.today
    _mark_leavers(ctx)
    link.present, link.changed_at = False, occurred_at
    link.save(update_fields=["present", "changed_at"])
    link.person.refresh_from_db()
    return Outcome("applied" if ctx.counts.get("leavers") else "unchanged", link.person)


@transaction.atomic
def apply_department(
    source: DirectorySource,
    entry: ExternalDepartment,
    *,
    occurred_at: dt.datetime,
    event_id: str = "",
    event_type: str = "",
) -> Outcome:
    ctx = _one(source, occurred_at, event_id, event_type)
    if ctx is None:
        return Outcome("replayed", message=_("This event was received before."))
    apply.apply_departments(ctx, [entry])
    _record_conflicts(ctx, full=False)
    return _outcome(ctx, DirectoryLink.Kind.DEPARTMENT, entry.external_id)


@transaction.atomic
def remove_department(
    source: DirectorySource,
    external_id: str,
    *,
    occurred_at: dt.datetime,
    event_id: str = "",
    event_type: str = "",
) -> Outcome:
    """The source deleted the department: inactive once nobody active is in it (never deleted)."""
    ctx = _one(source, occurred_at, event_id, event_type)
    if ctx is None:
        return Outcome("replayed", message=_("This event was received before."))
    link = DirectoryLink.objects.filter(
        source=source, kind=DirectoryLink.Kind.DEPARTMENT, external_id=external_id
    ).first()
    if link is None or link.department_id is None:
        return Outcome("unchanged", message=_("No department of this source has that id."))
    if apply.held_after(ctx, link.changed_at, present=link.present):
        return Outcome("stale", message=_("An older change than the one we hold."))
    link.present, link.changed_at = False, occurred_at
    link.save(update_fields=["present", "changed_at"])
    _deactivate_empty([link.department_id])
    department = Department.objects.get(pk=link.department_id)
    return Outcome("applied" if not department.is_active else "unchanged", department=department)
