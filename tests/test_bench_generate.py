"""The shared benchmark generator is deterministic: the same seed gives the same rows."""

from __future__ import annotations

import pytest

from bench.generate import generate_org
from org.models import Department, Person

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple[object, ...]]:
    return list(
        Person.objects.order_by("employee_no").values_list(
            "employee_no", "name", "department__code", "status", "left_on"
        )
    )


def test_same_seed_same_rows_and_a_rerun_replaces_them() -> None:
    generate_org(departments=6, people=300, seed=7)
    first = snapshot()
    assert len(first) == 300 and Department.objects.count() == 6
    assert Department.objects.filter(parent__isnull=False).count() == 2
    generate_org(departments=6, people=300, seed=7)
    assert snapshot() == first
    generate_org(departments=6, people=300, seed=8)
    assert snapshot() != first
