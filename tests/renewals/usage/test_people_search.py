"""The person picker's search: name, e-mail, employee number, pinyin initials ("wl" finds
王磊); only active people the user may see; at most 15; hostile queries answered, not 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from org.models import User
from tests.conftest import Cast
from tests.factories import PersonFactory
from tests.renewals.usage.conftest import client_for

pytestmark = pytest.mark.django_db
URL = "renewals:people-search"


def _found(cast: Cast, q: str, user: User | None = None) -> list[str]:
    response = client_for(user or cast.software_admin).get(reverse(URL), {"q": q})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return [r["name"] for r in response.json()["results"]]


def test_finds_by_name_email_number_and_pinyin_initials(cast: Cast) -> None:
    PersonFactory.create(
        name="王磊", employee_no="E1001", email="lei.wang@example.cn", department=cast.dept_a
    )
    PersonFactory.create(
        name="李娜", employee_no="E1002", email="na.li@example.cn", department=cast.dept_a_child
    )
    assert _found(cast, "王") == ["王磊"]
    assert _found(cast, "lei.wang") == ["王磊"]
    assert _found(cast, "E1002") == ["李娜"]
    assert _found(cast, "wl") == ["王磊"]
    assert _found(cast, "WL") == ["王磊"]
    assert _found(cast, "ln") == ["李娜"]  # a sub-department's person


def test_never_leavers_nor_other_departments(cast: Cast) -> None:
    PersonFactory.create(name="王离", status="left", left_on="2026-01-01", department=cast.dept_a)
    PersonFactory.create(name="王乙", department=cast.dept_b)
    assert _found(cast, "王") == []
    assert _found(cast, "王", cast.head_b) == ["王乙"]
    assert _found(cast, "王", cast.it_admin) == ["王乙"]


def test_at_most_fifteen(cast: Cast) -> None:
    for i in range(20):
        PersonFactory.create(name=f"张{i:02d}", department=cast.dept_a)
    assert len(_found(cast, "张")) == 15
    assert len(_found(cast, "z")) == 15


@pytest.mark.parametrize(
    "q",
    [
        "",
        "   ",
        "<script>alert(1)</script>",
        "%",
        "_",
        "'; DROP TABLE x;--",
        "\x00",
        "9" * 25,
        "x" * 5000,
    ],
)
def test_hostile_queries_are_answered(cast: Cast, q: str) -> None:
    response = client_for(cast.software_admin).get(reverse(URL), {"q": q})
    assert response.status_code == 200
    assert isinstance(response.json()["results"], list)
