"""Department and people pages: content, scoping, filters and a fixed number of queries."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from org.models import Person
from tests.conftest import Cast
from tests.factories import DepartmentFactory, PersonFactory

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_head_sees_only_own_people(cast: Cast) -> None:
    mine = PersonFactory.create(name="甲乙", department=cast.dept_a_child)
    theirs = PersonFactory.create(name="丙丁", department=cast.dept_b)
    html = signed_in(cast.head_a).get(reverse("org:person-list")).content.decode()
    assert mine.name in html and theirs.name not in html


def test_head_cannot_filter_their_way_into_another_department(cast: Cast) -> None:
    theirs = PersonFactory.create(name="丙丁", department=cast.dept_b)
    response = signed_in(cast.head_a).get(
        reverse("org:person-list"), {"department": cast.dept_b.pk}
    )
    assert response.status_code == 200
    assert theirs.name not in response.content.decode()


def test_person_filters(cast: Cast) -> None:
    PersonFactory.create(name="留下的人", department=cast.dept_a)
    PersonFactory.create(
        name="离开的人", department=cast.dept_a, status="left", left_on="2026-05-01"
    )
    client = signed_in(cast.it_admin)
    html = client.get(reverse("org:person-list"), {"status": "left"}).content.decode()
    assert "离开的人" in html and "留下的人" not in html
    html = client.get(reverse("org:person-list"), {"q": "留下"}).content.decode()
    assert "留下的人" in html and "离开的人" not in html


@pytest.mark.parametrize(
    "params", [{"department": "abc"}, {"status": "<script>"}, {"page": "999999"}, {"q": "x" * 5000}]
)
def test_bad_filters_do_not_break_the_page(cast: Cast, params: dict[str, str]) -> None:
    response = signed_in(cast.it_admin).get(reverse("org:person-list"), params)
    assert response.status_code == 200


def test_department_list_shows_counts_and_heads(cast: Cast) -> None:
    PersonFactory.create_batch(3, department=cast.dept_a)
    PersonFactory.create(department=cast.dept_a, status=Person.Status.LEFT, left_on="2026-01-01")
    response = signed_in(cast.finance).get(reverse("org:department-list"))
    rows = {d.code: d for d in response.context["departments"]}
    assert rows["a"].active_people == 4 and rows["a"].left_people == 1  # 3 + the cast's person_a
    assert list(rows["a"].heads.all()) == [cast.head_a]


def _populate(n_departments: int, people_each: int) -> None:
    for _ in range(n_departments):
        dept = DepartmentFactory.create()
        PersonFactory.create_batch(people_each, department=dept)


@pytest.mark.parametrize("url_name", ["org:department-list", "org:person-list", "home"])
def test_query_count_does_not_grow_with_data(
    cast: Cast, url_name: str, django_assert_max_num_queries: object
) -> None:
    client = signed_in(cast.it_admin)
    _populate(2, 2)
    client.get(reverse(url_name))  # warm the session and the content-type cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(url_name)).status_code == 200
    _populate(30, 10)
    with django_assert_max_num_queries(len(small.captured_queries)):  # type: ignore[operator]
        assert client.get(reverse(url_name)).status_code == 200


def test_htmx_filter_requests_get_only_the_table(cast: Cast) -> None:
    PersonFactory.create(name="局部刷新", department=cast.dept_a)
    client = signed_in(cast.it_admin)
    response = client.get(reverse("org:person-list"), {"q": "局部"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "局部刷新" in html and "<html" not in html and 'data-testid="person-table"' in html
    assert "HX-Request" in response["Vary"]
    full = client.get(reverse("org:person-list"), {"q": "局部"}).content.decode()
    assert "<html" in full and "局部刷新" in full
