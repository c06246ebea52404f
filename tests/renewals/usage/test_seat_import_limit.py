"""The seat import reports, at check time, the rows that would give a subscription more active
seats than it has purchased ("only N free seats"), instead of failing at commit on the
database's seat-limit trigger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.utils import translation

from renewals.imports import services as imports
from renewals.imports.views import _errors
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import PersonFactory, SeatFactory
from tests.renewals.conftest import Inventory
from tests.renewals.imports.conftest import codes, run, upload

pytestmark = pytest.mark.django_db
HEADER = "subscription,employee_no,assigned_on,revoked_on\n"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _people(cast: Cast, n: int) -> list[str]:
    return [  # fresh numbers each call: the factory's sequence
        PersonFactory.create(department=cast.dept_a).employee_no for _ in range(n)
    ]


def test_rows_beyond_the_free_seats_are_reported_with_the_free_count(
    cast: Cast, inventory: Inventory
) -> None:
    inventory.jira.seats_purchased = 3
    inventory.jira.save()
    SeatFactory.create(
        subscription=inventory.jira, person=PersonFactory.create(department=cast.dept_a)
    )
    numbers = _people(cast, 4)
    rows = "".join(f"JIRA-A,{no},2026-03-01,\n" for no in numbers)
    job = upload(cast.it_admin, "seats", HEADER + rows)
    assert job.status == "invalid"
    # 1 of 3 taken: the first two rows fit, the third and fourth do not.
    assert codes(job) == [(4, "employee_no", "seat_limit"), (5, "employee_no", "seat_limit")]
    message = _errors(job)[0]["message"]
    assert "only 2 free seats" in message
    assert Seat.objects.filter(subscription=inventory.jira).count() == 1


def test_seats_the_file_revokes_make_room(cast: Cast, inventory: Inventory) -> None:
    inventory.jira.seats_purchased = 1
    inventory.jira.save()
    old = PersonFactory.create(employee_no="OLD", department=cast.dept_a)
    SeatFactory.create(subscription=inventory.jira, person=old, assigned_on=dt.date(2026, 3, 1))
    (new,) = _people(cast, 1)
    content = HEADER + f"JIRA-A,OLD,2026-03-01,2026-06-30\nJIRA-A,{new},2026-07-01,\n"
    job = run(cast.it_admin, "seats", content)
    assert job.status == "done", job.errors
    assert (
        Seat.objects.get(subscription=inventory.jira, revoked_on__isnull=True).person.employee_no
        == new
    )


def test_un_revoking_counts_and_a_file_without_revoked_on_keeps_revoked_seats(
    cast: Cast, inventory: Inventory
) -> None:
    inventory.jira.seats_purchased = 1
    inventory.jira.save()
    a, b = _people(cast, 2)
    SeatFactory.create(
        subscription=inventory.jira, person=PersonFactory.create(department=cast.dept_a)
    )
    SeatFactory.create(
        subscription=inventory.jira,
        person=cast.person_a.__class__.objects.get(employee_no=a),
        assigned_on=dt.date(2026, 3, 1),
        revoked_on=dt.date(2026, 4, 1),
    )
    # The revoked seat listed again with an empty revoked_on would become active: refused.
    job = upload(cast.it_admin, "seats", HEADER + f"JIRA-A,{a},2026-03-01,\n")
    assert codes(job) == [(2, "employee_no", "seat_limit")]
    # Without the revoked_on column it stays revoked: nothing to refuse.
    job = run(
        cast.it_admin, "seats", f"subscription,employee_no,assigned_on\nJIRA-A,{a},2026-03-01\n"
    )
    assert job.status == "done", job.errors
    # A new seat on the full subscription is refused at check time, not at commit.
    job = upload(
        cast.it_admin, "seats", f"subscription,employee_no,assigned_on\nJIRA-A,{b},2026-03-01\n"
    )
    assert codes(job) == [(2, "employee_no", "seat_limit")]


def test_a_seat_taken_between_preview_and_commit_is_caught_at_commit(
    cast: Cast, inventory: Inventory
) -> None:
    inventory.jira.seats_purchased = 1
    inventory.jira.save()
    (a,) = _people(cast, 1)
    job = upload(cast.it_admin, "seats", HEADER + f"JIRA-A,{a},2026-03-01,\n")
    assert job.status == "ready"
    SeatFactory.create(
        subscription=inventory.jira, person=PersonFactory.create(department=cast.dept_a)
    )
    job = imports.import_commit(user=cast.it_admin, job=job)
    assert job.status == "invalid" and codes(job) == [(2, "employee_no", "seat_limit")]
