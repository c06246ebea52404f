"""Bulk assign: a pasted list, an uploaded file (UTF-8 or GBK) or a department; the preview
names who gets a seat, who holds one, who is unknown, who left, the repeats and whether the
free seats suffice; confirming assigns everyone or nobody. 10,000 lines: a clear answer."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from renewals.inventory.models import Subscription
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import ModuleFactory, PersonFactory, SeatFactory
from tests.renewals.usage.conftest import client_for, taken

pytestmark = pytest.mark.django_db


def _url(sub: Subscription) -> str:
    return reverse("renewals:seats-bulk-assign", args=[sub.pk])


def _active(sub: Subscription) -> int:
    return Seat.objects.filter(subscription=sub, revoked_on__isnull=True).count()


def _key(page: str) -> str:
    match = re.search(r'name="confirm" value="([0-9a-f]+)"', page)
    assert match, "no confirm button"
    return match.group(1)


def _preview(client: Client, sub: Subscription, data: dict[str, object]) -> str:
    response = client.post(_url(sub), data)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def test_preview_sorts_the_list_and_confirm_assigns_everyone(cast: Cast) -> None:
    sub = taken(cast, 10, 0)
    gantt = ModuleFactory.create(subscription=sub, name="Gantt")
    people = [
        PersonFactory.create(department=cast.dept_a, email=f"p{i}@example.cn") for i in range(5)
    ]
    holder = PersonFactory.create(department=cast.dept_a)
    SeatFactory.create(subscription=sub, person=holder)
    leaver = PersonFactory.create(
        department=cast.dept_a, status="left", left_on=dt.date(2026, 2, 1)
    )
    pasted = (
        f"{people[0].email}\n{people[1].employee_no}, {people[2].email.upper()};{people[3].email} "
        f"{people[4].employee_no}\n{people[0].employee_no}\n{holder.employee_no}\n"
        f"{leaver.employee_no}\nnobody@example.cn\n"
    )
    client = client_for(cast.software_admin)
    page = _preview(client, sub, {"entries": pasted, "modules": [gantt.pk]})
    assert "5 people get a seat" in page
    assert "1 already holds a seat" in page and "1 has left the company" in page
    assert "1 entry matches nobody" in page and "1 entry is a repeat" in page
    assert "nobody@example.cn" in page
    assert _active(sub) == 1  # a preview writes nothing
    response = client.post(
        _url(sub), {"entries": pasted, "modules": [gantt.pk], "confirm": _key(page)}
    )
    assert response.status_code == 302
    assert _active(sub) == 6
    assert Seat.objects.filter(subscription=sub, modules=gantt).count() == 5
    # The same confirmation replayed: everyone holds a seat now, nobody is assigned twice.
    again = client.post(
        _url(sub), {"entries": pasted, "modules": [gantt.pk], "confirm": _key(page)}
    )
    assert again.status_code == 409 and _active(sub) == 6


def test_not_enough_free_seats_assigns_nobody(cast: Cast) -> None:
    sub = taken(cast, 3, 1)
    people = [PersonFactory.create(department=cast.dept_a) for _ in range(3)]
    pasted = "\n".join(p.employee_no for p in people)
    client = client_for(cast.software_admin)
    page = _preview(client, sub, {"entries": pasted})
    assert "not enough: only 2 free seats" in page
    assert 'name="confirm"' not in page
    # A forged confirmation with the right key still meets the database's limit.
    from renewals.usage.selectors import bulk_preview

    key = bulk_preview(user=cast.software_admin, subscription=sub, entries=pasted.split()).key
    response = client.post(_url(sub), {"entries": pasted, "confirm": key})
    assert response.status_code == 409
    assert "is full" in response.content.decode()
    assert _active(sub) == 1


def test_a_list_that_changed_since_the_preview_is_shown_again(cast: Cast) -> None:
    sub = taken(cast, 5, 0)
    a, b = (PersonFactory.create(department=cast.dept_a) for _ in range(2))
    client = client_for(cast.software_admin)
    page = _preview(client, sub, {"entries": a.employee_no})
    response = client.post(
        _url(sub), {"entries": f"{a.employee_no} {b.employee_no}", "confirm": _key(page)}
    )
    assert response.status_code == 409
    assert "changed since the preview" in response.content.decode()
    assert _active(sub) == 0


def test_a_department_with_its_sub_departments(cast: Cast) -> None:
    sub = taken(cast, 10, 0)
    top = PersonFactory.create(department=cast.dept_a)
    child = PersonFactory.create(department=cast.dept_a_child)
    PersonFactory.create(department=cast.dept_b)
    client = client_for(cast.software_admin)
    page = _preview(client, sub, {"department": cast.dept_a.pk})
    assert "people get a seat" in page and top.name in page and child.name in page
    response = client.post(_url(sub), {"department": cast.dept_a.pk, "confirm": _key(page)})
    assert response.status_code == 302
    # cast.person_a is in department A too.
    assert set(
        Seat.objects.filter(subscription=sub).values_list("person__department", flat=True)
    ) == {
        cast.dept_a.pk,
        cast.dept_a_child.pk,
    }
    # Department B is not one the admin may choose.
    response = client.post(_url(sub), {"department": cast.dept_b.pk})
    assert response.status_code == 400


def test_a_gbk_file_and_ten_thousand_lines(cast: Cast) -> None:
    sub = taken(cast, 10, 0)
    people = [PersonFactory.create(department=cast.dept_a, name=f"王{i}") for i in range(3)]
    gbk = ("工号\n" + "\n".join(p.employee_no for p in people) + "\n未知员工\n").encode("gbk")
    client = client_for(cast.software_admin)
    page = _preview(client, sub, {"upload": SimpleUploadedFile("名单.txt", gbk, "text/plain")})
    assert "3 people get a seat" in page and "未知员工" in page and "2 entries match nobody" in page
    # The confirmation carries the decoded list (the file is not sent again).
    assert (
        client.post(
            _url(sub),
            {
                "entries": "\n".join(["工号", *[p.employee_no for p in people], "未知员工"]),
                "confirm": _key(page),
            },
        ).status_code
        == 302
    )
    assert _active(sub) == 3
    # 10,000 lines naming 5,001 different people: refused whole with the cap named.
    lines = "\n".join([people[0].employee_no] * 5000 + [f"nobody{i}@x.cn" for i in range(5000)])
    response = client.post(_url(sub), {"entries": lines})
    assert response.status_code == 400
    assert "At most 5000 different people at once; the list names 5001." in (
        response.content.decode()
    )
    response = client.post(
        _url(sub), {"upload": SimpleUploadedFile("big.csv", lines.encode("gbk"))}
    )
    assert response.status_code == 400
    # 10,000 lines of a spreadsheet that repeats people (GBK, 1,001 different entries): a preview
    # (every line matching nobody is counted; the holder's 4,999 repeats are named).
    repeated = "\n".join([f"{people[0].employee_no}\n未知{i % 1000}" for i in range(5000)])
    page = _preview(
        client, sub, {"upload": SimpleUploadedFile("repeats.csv", repeated.encode("gbk"))}
    )
    assert "5000 entries match nobody" in page and "4999 entries are repeats" in page
    assert "1 already holds a seat" in page
    # More than 20,000 entries: refused before anything is looked up.
    response = client.post(_url(sub), {"entries": "a\n" * 20001})
    assert response.status_code == 400
    assert "At most 20000 entries at once; the list has 20001." in response.content.decode()
    # 5,000 lines are previewed (repeats and unknown people counted), quickly and in full.
    page = _preview(client, sub, {"entries": "\n".join(lines.splitlines()[2500:7500])})
    assert "2500 entries match nobody" in page and "2499 entries are repeats" in page
    assert _active(sub) == 3


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"entries": "   ,;  "},
        {"entries": "<script>alert(1)</script>"},
        {"entries": "a\x00b"},
        {"department": "1" * 25},
        {"department": "-1"},
        {"department": "<b>"},
        {"entries": "x", "department": "1"},
        {"entries": "x", "modules": ["1" * 25]},
        {"entries": "x", "confirm": "<script>"},
    ],
)
def test_broken_input_is_a_clear_error(cast: Cast, data: dict[str, object]) -> None:
    sub = taken(cast, 3, 0)
    response = client_for(cast.software_admin).post(_url(sub), data)
    assert response.status_code in (200, 400, 409)
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert _active(sub) == 0


def test_a_binary_file_is_refused(cast: Cast) -> None:
    sub = taken(cast, 3, 0)
    blob = SimpleUploadedFile("x.txt", bytes(range(256)) * 10)
    response = client_for(cast.software_admin).post(_url(sub), {"upload": blob})
    assert response.status_code in (200, 400)
    big = SimpleUploadedFile("x.txt", b"a\n" * 600_000)
    response = client_for(cast.software_admin).post(_url(sub), {"upload": big})
    assert response.status_code == 400 and "larger than 1 MB" in response.content.decode()
