"""Writes to the organisation data. Views, commands, imports and the API all come through here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from org.models import Department, Person, User
from org.roles import Role
from org.selectors import department_matches


def roles_ensure() -> None:
    """Create the role groups if they are missing (idempotent)."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@transaction.atomic
def department_upsert(
    *, code: str, name: str, parent: Department | None = None, is_active: bool = True
) -> Department:
    """Create or update the department with this code."""
    department = Department.objects.select_for_update().filter(code=code).first()
    if department is None:
        department = Department(code=code)
    department.name = name
    department.parent = parent
    department.is_active = is_active
    department.full_clean()
    department.save()
    return department


_PERSON_FIELDS = ("name", "email", "department_id", "status", "left_on", "user_id")


def _person_fields(person: Person) -> tuple[object, ...]:
    return tuple(getattr(person, field) for field in _PERSON_FIELDS)


@transaction.atomic
def person_upsert(
    *,
    employee_no: str,
    name: str,
    department: Department,
    email: str = "",
    status: str = Person.Status.ACTIVE,
    left_on: dt.date | None = None,
    user: User | None = None,
) -> tuple[Person, bool]:
    """Create or update the person with this employee number; returns (person, changed)."""
    person = Person.objects.select_for_update().filter(employee_no=employee_no).first()
    created = person is None
    if person is None:
        person = Person(employee_no=employee_no)
    before = _person_fields(person)
    person.name = name
    person.email = email
    person.department = department
    person.status = status
    person.left_on = left_on if status == Person.Status.LEFT else None
    if user is not None:
        person.user = user
    if created or before != _person_fields(person):
        person.full_clean()
        person.save()
        return person, True
    return person, False


# The columns a bulk upsert sets; a person whose values are all the same is left untouched.
_BULK_PERSON_COLUMNS = ("name", "email", "department_id", "status", "left_on")


def people_upsert_rows(
    cursor: Any,
    *,
    rows: str,
    employee_no: str,
    name: str,
    department: str,
    email: str | None = None,
    status: str | None = None,
    left_on: str | None = None,
    params: Mapping[str, object] | None = None,
) -> tuple[int, int]:
    """Create or update, in one set-based statement, a person per row of ``rows``, keyed by
    employee number; returns how many were (created, updated). Unchanged people are not written.

    Runs on ``cursor`` inside the caller's transaction (the people import's, for the rows it
    staged and checked). ``rows`` is a FROM item (``import_stage s``); the other arguments are
    SQL expressions over it (they may use ``params``, and must not use the aliases ``d``, ``p``
    or ``target``): ``department`` names the department by its code or name. An expression left
    out keeps what is stored (a new person gets no e-mail and is active), except that rows with a
    leaving date and no status have left; a leaving date is kept only for people who left.
    """
    if status is None:
        if left_on is not None:  # an HR export without a status column: a leaving date means left
            status = f"CASE WHEN {left_on} IS NOT NULL THEN 'left' ELSE 'active' END"
        else:
            status = "coalesce(p.status, 'active')"
    left = f"CASE WHEN ({status}) = 'left' THEN {'p.left_on' if left_on is None else left_on} END"
    sets = ", ".join(f"{col} = EXCLUDED.{col}" for col in _BULK_PERSON_COLUMNS)
    old = ", ".join(f"target.{col}" for col in _BULK_PERSON_COLUMNS)
    new = ", ".join(f"EXCLUDED.{col}" for col in _BULK_PERSON_COLUMNS)
    cursor.execute(
        "WITH w AS (INSERT INTO org_person AS target (employee_no, name, email, department_id, "
        "status, left_on, created_at, updated_at) "
        f"SELECT {employee_no}, {name}, coalesce({'p.email' if email is None else email}, ''), d.id, "
        f"{status}, {left}, now(), now() FROM {rows} "
        f"JOIN org_department d ON {department_matches('d', department)} "
        f"LEFT JOIN org_person p ON p.employee_no = {employee_no} "
        f"ON CONFLICT (employee_no) DO UPDATE SET updated_at = now(), {sets} "
        f"WHERE ({old}) IS DISTINCT FROM ({new}) RETURNING (xmax = 0) AS created) "
        "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM w",
        params,
    )
    created, updated = cursor.fetchone()
    return created, updated


# What a directory sync writes of a person (integrations/directory/sync.py).
DIRECTORY_PERSON_FIELDS = (
    "employee_no", "name", "email", "mobile", "department", "manager", "status", "left_on",
)  # fmt: skip


def people_save_from_directory(*, new: list[Person], changed: list[Person]) -> None:
    """Write the people a directory sync built or changed, set-based (one INSERT and one UPDATE
    per batch; the caller checked the values and keeps ``left_on`` with ``status``). Runs in the
    caller's transaction; the audit triggers record every row."""
    if new:
        Person.objects.bulk_create(new, batch_size=1000)
    if changed:
        now = timezone.now()
        for person in changed:
            person.updated_at = now
        Person.objects.bulk_update(
            changed, [*DIRECTORY_PERSON_FIELDS, "updated_at"], batch_size=1000
        )


def departments_save_from_directory(*, new: list[Department], changed: list[Department]) -> None:
    """Write the departments a directory sync built or changed (caller's transaction)."""
    if new:
        Department.objects.bulk_create(new, batch_size=1000)
    if changed:
        Department.objects.bulk_update(changed, ["name", "parent", "is_active"], batch_size=1000)


def people_set_managers(*, pairs: list[tuple[int, int | None]]) -> int:
    """Set each person's manager (person id, manager id or None) where it differs, in one
    statement; returns how many changed (caller's transaction)."""
    if not pairs:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE org_person p SET manager_id = w.manager_id, updated_at = now() "
            "FROM unnest(%s::bigint[], %s::bigint[]) AS w(person_id, manager_id) "
            "WHERE p.id = w.person_id AND p.manager_id IS DISTINCT FROM w.manager_id",
            [[a for a, _ in pairs], [b for _, b in pairs]],
        )
        return cursor.rowcount


def people_mark_left_bulk(*, leavers: Mapping[int, dt.date]) -> list[int]:
    """Mark these people (id -> leaving date) as left, those still active; returns the ids
    that changed (caller's transaction). Their seats then count as a leaver's."""
    if not leavers:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE org_person p SET status = 'left', left_on = w.left_on, updated_at = now() "
            "FROM unnest(%s::bigint[], %s::date[]) AS w(person_id, left_on) "
            "WHERE p.id = w.person_id AND p.status = 'active' RETURNING p.id",
            [list(leavers), list(leavers.values())],
        )
        return [row[0] for row in cursor.fetchall()]


def person_candidates(user: User) -> list[int]:
    """The active people without a user whom ``user`` may be: same employee number as user
    name, or same e-mail (case-insensitive)."""
    match = Q(employee_no=user.username)
    if user.email:
        match |= Q(email__iexact=user.email)
    return list(
        Person.objects.filter(match, user__isnull=True, status=Person.Status.ACTIVE).values_list(
            "pk", flat=True
        )
    )


def people_link_users(*, person_ids: Iterable[int]) -> int:
    """Link sign-in users to these people where it is unambiguous: the person has no user, is
    active, and exactly one user without a person has the person's employee number as user name
    or the person's e-mail (case-insensitive) — and that user matches no other of these people.
    Returns how many were linked. (Also for users made by an OIDC sign-in, see org/oidc.py.)"""
    ids = list(person_ids)
    if not ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH m AS (
                SELECT p.id AS person_id, u.id AS user_id
                FROM org_person p JOIN org_user u
                  ON u.is_active AND (u.username = p.employee_no
                      OR (p.email <> '' AND lower(u.email) = lower(p.email)))
                WHERE p.id = ANY(%s) AND p.user_id IS NULL AND p.status = 'active'
                  AND NOT EXISTS (SELECT 1 FROM org_person q WHERE q.user_id = u.id)
            ), one AS (
                SELECT person_id, min(user_id) AS user_id FROM m GROUP BY person_id
                HAVING count(DISTINCT user_id) = 1
            ), unique_users AS (
                SELECT one.* FROM one
                WHERE (SELECT count(DISTINCT m.person_id) FROM m WHERE m.user_id = one.user_id) = 1
            )
            UPDATE org_person p SET user_id = uu.user_id, updated_at = now()
            FROM unique_users uu WHERE p.id = uu.person_id
            """,
            [ids],
        )
        return cursor.rowcount


@transaction.atomic
def person_mark_left(*, person: Person, left_on: dt.date) -> Person:
    """Record that a person left the company; their seats then show up as a security finding."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    person.status = Person.Status.LEFT
    person.left_on = left_on
    person.full_clean()
    person.save(update_fields=["status", "left_on", "updated_at"])
    return person


@transaction.atomic
def user_upsert(
    *,
    username: str,
    display_name: str,
    email: str = "",
    roles: Iterable[str] = (),
    password: str | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
    language: str = "",
) -> tuple[User, bool]:
    """Create the user if missing (setting ``password`` only then) and make their roles exactly ``roles``."""
    user, created = User.objects.select_for_update().get_or_create(
        username=username,
        defaults={"display_name": display_name, "email": email, "language": language},
    )
    if created and password:
        user.set_password(password)
    user.display_name = display_name
    user.email = email
    user.is_staff = is_staff or is_superuser
    user.is_superuser = is_superuser
    user.full_clean(exclude=["password"])
    user.save()
    user_set_roles(user=user, roles=roles)
    return user, created


def user_set_roles(*, user: User, roles: Iterable[str]) -> None:
    """Make the user's role groups exactly ``roles`` (other groups are left alone)."""
    wanted = set(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    roles_ensure()
    role_groups = Group.objects.filter(name__in=Role.values)
    user.groups.remove(*[g for g in role_groups if g.name not in wanted])
    user.groups.add(*[g for g in role_groups if g.name in wanted])
    if hasattr(user, "_role_cache"):
        del user._role_cache


def user_set_language(*, user: User, language: str) -> None:
    """Remember the user's interface language (also used for the e-mails they receive)."""
    user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["language"])


# --- API tokens ------------------------------------------------------------------------------


def api_token_create(*, user: User) -> str:
    """A new API token for ``user``; returns the secret, which is stored only as a hash and
    shown once."""
    from knox.models import AuthToken

    _instance, secret = AuthToken.objects.create(user=user, expiry=settings.REST_KNOX["TOKEN_TTL"])
    return secret


def api_token_revoke(*, user: User, token_key: str) -> bool:
    """Revoke one of the user's own tokens (IT admins revoke anyone's in the admin)."""
    from knox.models import AuthToken

    deleted, _ = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    return bool(deleted)
