"""The person picker (type-ahead by name, e-mail, employee number or pinyin initials) and the
bulk-assign preview of a pasted list or a department (#18)."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from pypinyin import Style, lazy_pinyin

from org.models import Department, Person
from org.scoping import visible_departments
from renewals.inventory.models import Subscription
from renewals.usage.models import Seat

PICKER_LIMIT = 15
# The pinyin initials are computed in Python over at most this many active people (names
# only, one query); a larger directory is searched by name, e-mail and number only.
PINYIN_CANDIDATES = 20_000
_INITIALS = re.compile(r"[a-z]{1,12}")


@functools.lru_cache(maxsize=65_536)
def pinyin_initials(name: str) -> str:
    """王磊 -> "wl"; Latin letters keep their first letter per word, digits and marks drop."""
    parts = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")
    words = [word for part in parts for word in part.split()]
    return "".join(word[:1] for word in words if word[:1].isalpha()).lower()


def _pickable_people(user: Any) -> QuerySet[Person]:
    """Active people of the departments the user may see: never leavers."""
    return Person.objects.filter(
        department__in=visible_departments(user), status=Person.Status.ACTIVE
    )


def people_search(*, user: Any, query: str) -> list[Person]:
    """At most PICKER_LIMIT active people the user may see whose name, e-mail or employee
    number contains ``query``, or whose name's pinyin initials start with it ("wl" -> 王磊)."""
    query = query.replace("\x00", "").strip()[:100]  # PostgreSQL text holds no NUL
    if not query:
        return []
    people = _pickable_people(user)
    found = list(
        people.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(employee_no__icontains=query)
        )
        .select_related("department")
        .order_by("name", "employee_no")[:PICKER_LIMIT]
    )
    lowered = query.lower()
    if len(found) < PICKER_LIMIT and _INITIALS.fullmatch(lowered):
        seen = {p.pk for p in found}
        names = people.values_list("pk", "name").order_by("name", "pk")[:PINYIN_CANDIDATES]
        extra = [
            pk for pk, name in names if pk not in seen and pinyin_initials(name).startswith(lowered)
        ]
        extra = extra[: PICKER_LIMIT - len(found)]
        found += list(
            Person.objects.filter(pk__in=extra).select_related("department").order_by("name", "pk")
        )
    return found


def person_lookup(*, user: Any, text: str) -> Person | None:
    """The active or departed person the user may see with this employee number or e-mail
    (the picker's value without script), or None."""
    text = text.replace("\x00", "").strip()[:254]
    if not text:
        return None
    scoped = Person.objects.filter(department__in=visible_departments(user))
    return (
        scoped.filter(employee_no=text).first()
        or scoped.filter(email__iexact=text).order_by("status", "pk").first()
    )


# A pasted or uploaded list: one entry per line, or separated by commas, semicolons, spaces
# (also the full-width ones a Chinese keyboard types).
_SEPARATORS = re.compile(r"[\s,;，；、]+")
# At most this many different people at once (a large department), in at most this many
# entries (a list pasted from a spreadsheet repeats people): more is refused whole.
BULK_MAX_ENTRIES = 5000
BULK_MAX_LINES = 20000


def split_people_list(text: str) -> list[str]:
    """The entries of a pasted list, in order (duplicates kept: the preview names them)."""
    entries = [e.strip().strip("\"'<>") for e in _SEPARATORS.split(text.replace("\x00", ""))]
    return [e[:254] for e in entries if e]


@dataclass
class BulkPreview:
    """Who of a list gets a seat of the subscription, and why the others do not."""

    subscription: Subscription
    to_assign: list[Person]
    holders: list[Person]  # already hold a seat
    left: list[Person]
    unknown: list[str]
    duplicates: list[str]
    free_seats: int

    @property
    def enough(self) -> bool:
        return len(self.to_assign) <= self.free_seats

    @property
    def key(self) -> str:
        """What was previewed (the ids to assign): a confirmation of another list is refused."""
        ids = ",".join(str(p.pk) for p in sorted(self.to_assign, key=lambda p: p.pk))
        return hashlib.sha256(f"{self.subscription.pk}:{ids}".encode()).hexdigest()[:32]


_SUBTREE = (
    "WITH RECURSIVE t(id) AS (SELECT %s::bigint UNION SELECT d.id FROM org_department d "
    "JOIN t ON d.parent_id = t.id) SELECT id FROM t"
)


def _subtree(department: Department) -> QuerySet[Department]:
    return Department.objects.filter(pk__in=RawSQL(_SUBTREE, (department.pk,)))


def bulk_preview(
    *,
    user: Any,
    subscription: Subscription,
    entries: Sequence[str] = (),
    department: Department | None = None,
) -> BulkPreview:
    """The preview of assigning seats to the listed people (employee numbers or e-mails, as
    typed) or to everyone of ``department`` and its sub-departments, among the people the user
    may see. Entries beyond BULK_MAX_ENTRIES are the caller's to refuse."""
    scoped = Person.objects.filter(department__in=visible_departments(user))
    unknown: list[str] = []
    duplicates: list[str] = []
    people: list[Person] = []
    if department is not None:
        people = list(scoped.filter(department__in=_subtree(department)).order_by("name", "pk"))
    else:
        by_no: dict[str, Any] = {}
        by_mail: dict[str, Any] = {}
        lowered = {e.lower() for e in entries}
        matches = scoped.alias(email_lower=Lower("email")).filter(
            Q(employee_no__in=set(entries)) | Q(email_lower__in=lowered)
        )
        for match in matches:
            by_no[match.employee_no] = match
            if match.email:
                # An e-mail shared by two records: the active one answers.
                key = match.email.lower()
                if key not in by_mail or by_mail[key].has_left:
                    by_mail[key] = match
        seen: set[int] = set()
        for entry in entries:
            person: Person | None = by_no.get(entry) or by_mail.get(entry.lower())
            if person is None:
                unknown.append(entry)
            elif person.pk in seen:
                duplicates.append(entry)
            else:
                seen.add(person.pk)
                people.append(person)
    holding = (
        set(
            Seat.objects.filter(
                subscription=subscription,
                revoked_on__isnull=True,
                person__in=[p.pk for p in people],
            ).values_list("person_id", flat=True)
        )
        if people
        else set()
    )
    used = Seat.objects.filter(subscription=subscription, revoked_on__isnull=True).count()
    return BulkPreview(
        subscription=subscription,
        to_assign=[p for p in people if p.pk not in holding and not p.has_left],
        holders=[p for p in people if p.pk in holding],
        left=[p for p in people if p.pk not in holding and p.has_left],
        unknown=unknown,
        duplicates=duplicates,
        free_seats=max(subscription.seats_purchased - used, 0),
    )
