from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from org import services
from org.models import Department, Person
from tests.factories import DepartmentFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_database_refuses_a_leaver_without_a_date() -> None:
    person = PersonFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(status=Person.Status.LEFT)


def test_database_refuses_an_active_person_with_a_leaving_date() -> None:
    person = PersonFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(left_on=dt.date(2026, 1, 1))


def test_model_validation_explains_the_leaving_date_rule() -> None:
    person = PersonFactory.build(status=Person.Status.LEFT, department=DepartmentFactory.create())
    from django.utils import translation

    with pytest.raises(ValidationError) as excinfo:
        person.full_clean()
    assert "已离职人员必须填写离职日期" in str(excinfo.value)
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        person.full_clean()
    assert "needs a leaving date" in str(excinfo.value)


def test_department_cannot_be_its_own_parent() -> None:
    dept = DepartmentFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Department.objects.filter(pk=dept.pk).update(parent=dept)


def test_department_loops_are_refused() -> None:
    top = DepartmentFactory.create()
    child = DepartmentFactory.create(parent=top)
    grandchild = DepartmentFactory.create(parent=child)
    top.parent = grandchild
    with pytest.raises(ValidationError) as excinfo:
        top.full_clean()
    assert "parent" in excinfo.value.message_dict


def test_department_codes_and_employee_numbers_are_unique() -> None:
    DepartmentFactory.create(code="rd")
    with pytest.raises(IntegrityError), transaction.atomic():
        DepartmentFactory.create(code="rd")
    PersonFactory.create(employee_no="E1")
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory.create(employee_no="E1")


def test_person_mark_left_records_the_date() -> None:
    person = PersonFactory.create()
    services.person_mark_left(person=person, left_on=dt.date(2026, 10, 31))
    person.refresh_from_db()
    assert person.has_left and person.left_on == dt.date(2026, 10, 31)


def test_person_upsert_is_idempotent_and_clears_left_on_on_return() -> None:
    dept = DepartmentFactory.create()

    def upsert(status: str) -> tuple[Person, bool]:
        return services.person_upsert(
            employee_no="E9",
            name="张三",
            department=dept,
            status=status,
            left_on=dt.date(2026, 1, 2),
        )

    assert upsert("left")[1]
    assert not upsert("left")[1]
    person, changed = upsert("active")
    assert changed and person.left_on is None


def test_person_upsert_refuses_bad_data_and_writes_nothing() -> None:
    dept = DepartmentFactory.create()
    with pytest.raises(ValidationError):
        services.person_upsert(employee_no="E10", name="", department=dept, email="not-an-email")
    assert not Person.objects.filter(employee_no="E10").exists()


def test_user_set_roles_refuses_unknown_roles() -> None:
    from tests.conftest import make_user

    user = make_user("someone")
    with pytest.raises(ValueError):
        services.user_set_roles(user=user, roles=["superhero"])


def test_names_are_stored_as_text_and_escaped_in_pages(client: object, db: None) -> None:
    from tests.conftest import make_user

    dept = DepartmentFactory.create(name="<script>alert(1)</script>")
    PersonFactory.create(name="<img src=x onerror=alert(1)>", department=dept)
    auditor = make_user("aud", "auditor")
    client.force_login(auditor)  # type: ignore[attr-defined]
    html = client.get("/org/people/").content.decode()  # type: ignore[attr-defined]
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    html = client.get("/org/departments/").content.decode()  # type: ignore[attr-defined]
    assert "<script>alert(1)</script>" not in html
