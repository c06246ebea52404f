"""The REST API (/api/v1/): people added, changed and leaving, in managed departments only."""

from __future__ import annotations

from datetime import date

from django.urls import reverse

from org.models import Person
from tests.api.helpers import api, patch, post
from tests.conftest import Cast


def test_people_are_added_changed_and_leave_in_managed_departments_only(cast: Cast) -> None:
    client = api(cast.software_admin)
    created = post(
        client,
        reverse("api:person-list"),
        {
            "employee_no": "E-900",
            "name": "新同事",
            "email": "x@example.cn",
            "department": cast.dept_a.pk,
            "status": "left",
        },
    )
    assert created.status_code == 201, created.content
    person = Person.objects.get(employee_no="E-900")
    assert person.status == "active"  # leaving goes through leave/
    refused = post(
        client,
        reverse("api:person-list"),
        {"employee_no": "E-901", "name": "别部门", "department": cast.dept_b.pk},
    )
    assert refused.status_code == 400
    assert not Person.objects.filter(employee_no="E-901").exists()
    duplicate = post(
        client,
        reverse("api:person-list"),
        {"employee_no": "E-900", "name": "重复", "department": cast.dept_a.pk},
    )
    assert duplicate.status_code == 400
    renamed = patch(client, reverse("api:person-detail", args=[person.pk]), {"employee_no": "E-1"})
    assert renamed.status_code == 400
    moved = patch(
        client, reverse("api:person-detail", args=[person.pk]), {"department": cast.dept_b.pk}
    )
    assert moved.status_code == 400
    person.refresh_from_db()
    assert person.department_id == cast.dept_a.pk and person.employee_no == "E-900"
    left = post(client, reverse("api:person-leave", args=[person.pk]), {"left_on": "2026-11-30"})
    assert left.status_code == 200 and left.json()["status"] == "left"
    assert (
        post(client, reverse("api:person-leave", args=[person.pk]), {"left_on": "soon"}).status_code
        == 400
    )
    person.refresh_from_db()
    assert (person.status, person.left_on) == ("left", date(2026, 11, 30))
