"""Applying what a source says to our departments and people, set-based: a fixed number of
queries per page of entries, whatever the directory's size. Called by ``sync`` inside one
transaction that holds the source's lock; nothing here commits, reads the network or decides
about leavers (it returns them: ``sync`` applies them or holds them at the safety valve).

Rules (issue #19):
- an entry is found again by its link (source, kind, external id), never by name;
- a person not linked yet is matched to an existing person with the same employee number who
  is not linked to another source (an HR import's person becomes the source's); otherwise a new
  person is made. An employee number or an e-mail an active person of another source has is a
  conflict, listed for IT, and the entry is left out;
- a department's name is unique here: a second "销售部" is named "上海分公司 / 销售部"; if that is
  taken too, a conflict;
- a person in a department the source does not list: a conflict; a known person stays in their
  department, a new one is left out;
- an entry the source changed before what we hold (``link.changed_at``, set by a later event)
  is left alone: an old "updated" never brings a leaver back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from django.db import connection
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from integrations.directory.entries import ExternalDepartment, ExternalPerson
from integrations.models import DirectoryConflict, DirectoryLink, DirectorySource
from org import services as org_services
from org.models import Department, Person

PAGE = 1000
PERSON = DirectoryLink.Kind.PERSON
DEPARTMENT = DirectoryLink.Kind.DEPARTMENT
C = DirectoryConflict.Kind

_NAME = Person._meta.get_field("name").max_length or 100
_EMAIL = Person._meta.get_field("email").max_length or 254
_MOBILE = Person._meta.get_field("mobile").max_length or 30
_EMPLOYEE_NO = Person._meta.get_field("employee_no").max_length or 40
_DEPT_NAME = Department._meta.get_field("name").max_length or 100


@dataclass
class Context:
    """One application: the source, when the source said it, and what happened."""

    source: DirectorySource
    occurred_at: dt.datetime
    today: dt.date
    # A full pull that lists every entry: an unchanged entry's link is not written (the
    # source's listed_at, set when the pull is applied, says it was confirmed).
    full: bool = False
    # The source's listed_at when this application started (read under the source's lock).
    listed_at: dt.datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    # (kind, external id) -> detail: the conflicts raised in this application.
    conflicts: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    # external id -> department id of every department link of the source (filled lazily).
    department_ids: dict[str, int] | None = None
    # person id -> left_on: people the source says have left (not applied here).
    leavers: dict[int, dt.date] = field(default_factory=dict)
    touched_people: list[int] = field(default_factory=list)
    # Person links the source no longer lists (a full pull): marked absent when applied.
    missing_links: list[int] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def conflict(self, kind: str, external_id: str, **detail: str) -> None:
        self.conflicts[(kind, external_id)] = {k: v for k, v in detail.items() if v}
        self.add("conflicts")


def generated_employee_no(source: DirectorySource, external_id: str) -> str:
    """A stable employee number for an entry the source gives none (unique per source)."""
    digest = hashlib.sha256(external_id.encode()).hexdigest()[:16]
    return f"{source.kind}{source.pk}-{digest}"[:_EMPLOYEE_NO]


def department_ids(ctx: Context) -> dict[str, int]:
    if ctx.department_ids is None:
        ctx.department_ids = dict(
            DirectoryLink.objects.filter(source=ctx.source, kind=DEPARTMENT).values_list(
                "external_id", "department_id"
            )
        )
    return ctx.department_ids


# --- departments ------------------------------------------------------------------------------


def apply_departments(ctx: Context, entries: Sequence[ExternalDepartment]) -> None:
    """Create or update the departments (a directory has at most a few thousand: one pass)."""
    if not entries:
        return
    links = {
        link.external_id: link
        for link in DirectoryLink.objects.filter(
            source=ctx.source, kind=DEPARTMENT, external_id__in=[e.external_id for e in entries]
        ).select_related("department")
    }
    taken = dict(Department.objects.values_list("name", "pk"))
    by_id = {e.external_id: e for e in entries}
    new: list[tuple[ExternalDepartment, Department]] = []
    changed: dict[int, Department] = {}
    fresh = [e for e in entries if not _stale(links.get(e.external_id), ctx)]
    ctx.add("skipped_stale", len(entries) - len(fresh))
    for entry in fresh:
        link = links.get(entry.external_id)
        department = link.department if link else None
        name = _department_name(entry, by_id, taken, department.pk if department else None)
        if name is None:
            ctx.conflict(C.DEPARTMENT_NAME_TAKEN, entry.external_id, name=entry.name)
            continue
        if department is None:
            department = Department(name=name, code=_department_code(ctx.source, entry))
            new.append((entry, department))
        elif department.name != name or not department.is_active:
            taken.pop(department.name, None)
            department.name, department.is_active = name, True
            changed[department.pk] = department
        taken[name] = department.pk or -1
    org_services.departments_save_from_directory(new=[d for _, d in new], changed=[])
    ctx.add("departments_created", len(new))
    DirectoryLink.objects.bulk_create(
        [
            DirectoryLink(
                source=ctx.source,
                kind=DEPARTMENT,
                external_id=e.external_id,
                department=d,
                changed_at=ctx.occurred_at,
            )  # fmt: skip
            for e, d in new
        ]
    )
    ids = department_ids(ctx)
    ids.update({e.external_id: d.pk for e, d in new})
    made = {d.pk for _, d in new}
    placed: dict[str, Department | None] = {e.external_id: d for e, d in new}
    placed.update({x: link.department for x, link in links.items()})
    tree: dict[int, int | None] = dict(Department.objects.values_list("pk", "parent_id"))
    for entry in fresh:
        department = placed.get(entry.external_id)
        if department is None:
            continue
        parent_id = ids.get(entry.parent_id) if entry.parent_id else None
        if _would_loop(department.pk, parent_id, tree):
            parent_id = department.parent_id
        if department.parent_id != parent_id:
            department.parent_id = parent_id
            tree[department.pk] = parent_id
            changed[department.pk] = department
    org_services.departments_save_from_directory(new=[], changed=list(changed.values()))
    ctx.add("departments_updated", len([pk for pk in changed if pk not in made]))
    DirectoryLink.objects.filter(
        source=ctx.source, kind=DEPARTMENT, external_id__in=[e.external_id for e in fresh]
    ).update(changed_at=ctx.occurred_at, present=True)


def _stale(link: DirectoryLink | None, ctx: Context) -> bool:
    return link is not None and held_after(ctx, link.changed_at, present=link.present)


def held_after(ctx: Context, changed_at: dt.datetime, *, present: bool) -> bool:
    """Is what we hold newer than the change being applied? A link is as new as its own
    change, or as the last full pull applied when the source still lists it."""
    held = changed_at
    if present and ctx.listed_at is not None and ctx.listed_at > held:
        held = ctx.listed_at
    return held > ctx.occurred_at


def _department_name(
    entry: ExternalDepartment,
    by_id: dict[str, ExternalDepartment],
    taken: dict[str, int],
    own_pk: int | None,
) -> str | None:
    name = " ".join(entry.name.split())[:_DEPT_NAME] or entry.external_id[:_DEPT_NAME]
    if taken.get(name, own_pk) == own_pk:
        return name
    parent = by_id.get(entry.parent_id or "")
    if parent is not None:
        longer = f"{' '.join(parent.name.split())} / {name}"[:_DEPT_NAME]
        if taken.get(longer, own_pk) == own_pk:
            return longer
    return None


def _department_code(source: DirectorySource, entry: ExternalDepartment) -> str:
    digest = hashlib.sha256(entry.external_id.encode()).hexdigest()[:10]
    return f"{source.kind[:4]}{source.pk}-{digest}"


def _would_loop(pk: int, parent_id: int | None, tree: dict[int, int | None]) -> bool:
    """Would putting department ``pk`` under ``parent_id`` make a loop (``tree``: pk -> parent)?"""
    seen: set[int] = set()
    current = parent_id
    while current is not None and current not in seen:
        if current == pk:
            return True
        seen.add(current)
        current = tree.get(current)
    return False


# --- people -----------------------------------------------------------------------------------


def apply_people(ctx: Context, entries: Sequence[ExternalPerson]) -> None:
    """Create or update the people, a page at a time; leavers are collected in ``ctx.leavers``."""
    for start in range(0, len(entries), PAGE):
        _apply_page(ctx, entries[start : start + PAGE])


@dataclass(frozen=True)
class _Held:
    """A linked entry as we hold it: its link and the person's compared fields."""

    link_id: int
    changed_at: dt.datetime
    present: bool
    attributes: dict[str, object]
    person_id: int
    values: tuple[object, ...]  # _COMPARED


def _held(ctx: Context, page: Sequence[ExternalPerson]) -> dict[str, _Held]:
    """The page's linked entries, as values (no model instances: at 50,000 unchanged people
    building them was a third of a sync's applying)."""
    rows = DirectoryLink.objects.filter(
        source=ctx.source, kind=PERSON, external_id__in=[e.external_id for e in page]
    ).values_list(
        "external_id", "pk", "changed_at", "present", "attributes", "person_id",
        *(f"person__{f}" for f in _COMPARED),
    )  # fmt: skip
    return {r[0]: _Held(r[1], r[2], r[3], r[4], r[5], values=tuple(r[6:])) for r in rows}


def _apply_page(ctx: Context, page: Sequence[ExternalPerson]) -> None:
    held = _held(ctx, page)
    fresh = [
        e
        for e in page
        if not ((h := held.get(e.external_id)) and held_after(ctx, h.changed_at, present=h.present))
    ]
    ctx.add("skipped_stale", len(page) - len(fresh))
    unlinked = [e for e in fresh if e.external_id not in held]
    numbers = {e.external_id: _employee_no(ctx, e) for e in unlinked}
    existing, linked, stale_links = _people_by_employee_no(ctx, list(numbers.values()))
    other_emails = _emails_of_other_sources(ctx, [e.email for e in unlinked if e.email])
    depts = department_ids(ctx)
    new: list[tuple[ExternalPerson, Person]] = []
    adopted: list[tuple[ExternalPerson, Person]] = []
    changed: list[Person] = []
    updates: dict[int, tuple[object, ...]] = {}  # linked people whose fields change
    refresh: list[tuple[ExternalPerson, int]] = []  # (entry, link id) whose link is written
    for entry in fresh:
        h = held.get(entry.external_id)
        person = None if h else existing.get(numbers[entry.external_id])
        if h is None and person is not None and person.pk in linked:
            ctx.conflict(C.EMPLOYEE_NO_TAKEN, entry.external_id, name=entry.name,
                         employee_no=person.employee_no)  # fmt: skip
            continue
        department_id = depts.get(entry.department_id or "")
        if department_id is None:
            ctx.conflict(C.UNKNOWN_DEPARTMENT, entry.external_id, name=entry.name,
                         department=entry.department_id or "")  # fmt: skip
            if h is not None:  # a known person stays in their department
                department_id = cast(int, h.values[_COMPARED.index("department_id")])
            elif person is not None:
                department_id = person.department_id
            else:
                continue
        if h is not None:
            values, leaving = _wanted(ctx, entry, h.values, department_id, new=False)
            if leaving:
                ctx.leavers[h.person_id] = leaving
            if values != h.values:
                updates[h.person_id] = values
            same = values == h.values and h.attributes == dict(entry.attributes)
            if not (ctx.full and same and h.present):
                refresh.append((entry, h.link_id))
            continue
        if person is None:
            if entry.email and entry.email.lower() in other_emails:
                ctx.conflict(C.EMAIL_TAKEN, entry.external_id, name=entry.name, email=entry.email)
                continue
            person = Person(employee_no=numbers[entry.external_id])
            _fill(ctx, person, entry, department_id, new=True)
            new.append((entry, person))
            continue
        adopted.append((entry, person))
        if _fill(ctx, person, entry, department_id, new=False):
            changed.append(person)
    for person in Person.objects.filter(pk__in=list(updates)):
        for name, value in zip(_COMPARED, updates[person.pk], strict=True):
            setattr(person, name, value)
        changed.append(person)
    org_services.people_save_from_directory(new=[p for _, p in new], changed=changed)
    ctx.add("people_created", len(new))
    ctx.add("people_updated", len(changed))
    ctx.add("people_unchanged", len(fresh) - len(new) - len(changed))
    relinked = [(e, stale_links[p.pk]) for e, p in adopted if p.pk in stale_links]
    for entry, link in relinked:
        link.external_id, link.present, link.changed_at = entry.external_id, True, ctx.occurred_at
        link.attributes = dict(entry.attributes)
    DirectoryLink.objects.bulk_update(
        [link for _, link in relinked], ["external_id", "present", "changed_at", "attributes"]
    )
    _link_people(ctx, [(e, p.pk) for e, p in [*new, *adopted] if p.pk not in stale_links])
    _refresh_links(ctx, refresh)
    ctx.touched_people.extend(p.pk for _, p in new)
    ctx.touched_people.extend(p.pk for p in changed)


def _employee_no(ctx: Context, entry: ExternalPerson) -> str:
    number = " ".join(entry.employee_no.split())[:_EMPLOYEE_NO]
    return number or generated_employee_no(ctx.source, entry.external_id)


def _people_by_employee_no(
    ctx: Context, numbers: list[str]
) -> tuple[dict[str, Person], set[int], dict[int, DirectoryLink]]:
    """People with these employee numbers; the ids of those another source links, or this
    source by another id it still lists; and this source's links it no longer lists (a person
    deleted and made again, e.g. a rehire over SCIM: the link moves to the new id)."""
    if not numbers:
        return {}, set(), {}
    people = {p.employee_no: p for p in Person.objects.filter(employee_no__in=numbers)}
    linked: set[int] = set()
    stale: dict[int, DirectoryLink] = {}
    for link in DirectoryLink.objects.filter(
        kind=PERSON, person__in=[p.pk for p in people.values()]
    ):
        if link.source_id == ctx.source.pk and not link.present and link.person_id:
            stale[link.person_id] = link
        elif link.person_id:
            linked.add(link.person_id)
    return people, linked, stale


def _emails_of_other_sources(ctx: Context, emails: list[str]) -> set[str]:
    """Of these e-mails, those an active person linked to another source has."""
    if not emails:
        return set()
    lowered = {e.lower() for e in emails}
    return set(
        Person.objects.annotate(mail=Lower("email"))
        .filter(mail__in=lowered, status=Person.Status.ACTIVE)
        .filter(Q(directory_links__isnull=False) & ~Q(directory_links__source=ctx.source))
        .values_list("mail", flat=True)
    )


def _fill(
    ctx: Context, person: Person, entry: ExternalPerson, department_id: int, *, new: bool
) -> bool:
    """Set the person's fields from the entry; True if anything changed."""
    before = tuple(getattr(person, f) for f in _COMPARED)
    values, leaving = _wanted(ctx, entry, before, department_id, new=new)
    for name, value in zip(_COMPARED, values, strict=True):
        setattr(person, name, value)
    if leaving:
        ctx.leavers[person.pk] = leaving
    return values != before


def _wanted(
    ctx: Context,
    entry: ExternalPerson,
    current: tuple[object, ...],
    department_id: int,
    *,
    new: bool,
) -> tuple[tuple[object, ...], dt.date | None]:
    """(the person's _COMPARED fields as the entry says, the leaving date if they have left).
    A leaver is returned, not applied (a new person who has left is made as left: nothing to
    act on)."""
    employee_no, _name, _email, _mobile, _dept, status, left_on = current
    name = " ".join(entry.name.split())[:_NAME] or employee_no
    email = entry.email[:_EMAIL] if "@" in entry.email else ""
    if entry.employee_no and not new:
        employee_no = _employee_no(ctx, entry)
    leaving = None
    if entry.active:
        status, left_on = Person.Status.ACTIVE, None
    elif new:
        status, left_on = Person.Status.LEFT, entry.left_on or ctx.today
    elif status == Person.Status.ACTIVE:
        leaving = entry.left_on or ctx.today
    values = (employee_no, name, email, entry.mobile[:_MOBILE], department_id, status, left_on)
    return values, leaving


_COMPARED = ("employee_no", "name", "email", "mobile", "department_id", "status", "left_on")


def _link_people(ctx: Context, entries: list[tuple[ExternalPerson, int]]) -> None:
    """Link each (entry, person id), in one statement per page (bulk_create built a model per
    link: a third of a first sync's applying at 50,000 people)."""
    if not entries:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO integrations_directorylink (source_id, kind, external_id, person_id, "
            "changed_at, present, attributes) SELECT %s, %s, w.external_id, w.person_id, %s, "
            "true, w.attributes FROM unnest(%s::text[], %s::bigint[], %s::jsonb[]) "
            "AS w(external_id, person_id, attributes)",
            [
                ctx.source.pk,
                PERSON,
                ctx.occurred_at,
                [e.external_id for e, _id in entries],
                [person_id for _e, person_id in entries],
                [json.dumps(dict(e.attributes)) for e, _id in entries],
            ],
        )


def _refresh_links(ctx: Context, entries: list[tuple[ExternalPerson, int]]) -> None:
    """Mark the links (entry, link id) as said now, in one statement per page (Django's
    bulk_update builds a CASE per row and field: 85-90% of an unchanged sync's time at 50,000
    people, bench/bench_directory_sync.py). A full pull leaves out the unchanged ones."""
    if not entries:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE integrations_directorylink l SET changed_at = %s, present = true, "
            "attributes = w.attributes FROM unnest(%s::bigint[], %s::jsonb[]) AS w(id, attributes) "
            "WHERE l.id = w.id",
            [
                ctx.occurred_at,
                [link_id for _e, link_id in entries],
                [json.dumps(dict(e.attributes)) for e, _id in entries],
            ],
        )


def apply_managers(ctx: Context, entries: Sequence[ExternalPerson]) -> None:
    """Point each person at their manager (after every person of the pull exists)."""
    wanted = {e.external_id: e.manager_id for e in entries}
    if not wanted:
        return
    links = DirectoryLink.objects.filter(source=ctx.source, kind=PERSON)
    if len(wanted) <= PAGE:  # an event: only the entry and its manager
        links = links.filter(external_id__in={*wanted, *(m for m in wanted.values() if m)})
    people = dict(links.values_list("external_id", "person_id"))
    pairs = []
    for external_id, manager_external_id in wanted.items():
        person_id = people.get(external_id)
        if person_id is None:
            continue
        manager_id = people.get(manager_external_id or "")
        pairs.append((person_id, manager_id if manager_id != person_id else None))
    ctx.add("managers_changed", org_services.people_set_managers(pairs=pairs))


def missing_people(ctx: Context, present: set[str]) -> None:
    """A full pull: every linked person the source no longer lists has left (collected)."""
    listed = (
        DirectoryLink.objects.filter(source=ctx.source, kind=PERSON, present=True)
        .filter(changed_at__lte=ctx.occurred_at)
        .values_list("external_id", "pk", "person_id", "person__status")
    )
    for external_id, link_id, person_id, status in listed.iterator(chunk_size=5000):
        if external_id in present:
            continue
        ctx.missing_links.append(link_id)
        if status == Person.Status.ACTIVE:
            ctx.leavers.setdefault(person_id, ctx.today)


def missing_departments(ctx: Context, present: set[str]) -> list[int]:
    """Department links the source no longer lists: their department ids."""
    listed = DirectoryLink.objects.filter(
        source=ctx.source, kind=DEPARTMENT, present=True, changed_at__lte=ctx.occurred_at
    ).values_list("external_id", "pk", "department_id")
    gone = [(pk, dept) for external_id, pk, dept in listed if external_id not in present]
    DirectoryLink.objects.filter(pk__in=[pk for pk, _ in gone]).update(
        present=False, changed_at=ctx.occurred_at
    )
    ctx.add("departments_gone", len(gone))
    return [dept for _, dept in gone]


def now_local() -> tuple[dt.datetime, dt.date]:
    now = timezone.now()
    return now, timezone.localdate(now)
