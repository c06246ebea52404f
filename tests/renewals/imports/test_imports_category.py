"""The subscriptions import takes a category by its code or its Chinese or English name; an
empty cell keeps what is stored; an unknown word is a row error and nothing is written."""

from __future__ import annotations

import pytest

from renewals.inventory.models import Subscription
from tests.conftest import Cast
from tests.renewals.conftest import Inventory
from tests.renewals.imports.conftest import codes, run, upload

pytestmark = pytest.mark.django_db

HEADER = "编号,供应商,产品,类别,部门,席位,单价,开始日期,结束日期\n"


def _row(ref: str, product: str, category: str) -> str:
    return f"{ref},Tower,{product},{category},A,5,100.00,2026-01-01,2026-12-31\n"


def test_category_by_code_or_name_and_kept_when_empty(cast: Cast, inventory: Inventory) -> None:
    content = (
        HEADER + _row("C-1", "Tower", "项目与任务管理") + _row("C-2", "Tower Docs", "documents")
    )
    job = run(cast.it_admin, "subscriptions", content)
    assert job.status == "done", job.summary
    assert dict(
        Subscription.objects.filter(ref__startswith="C-").values_list("ref", "category")
    ) == {
        "C-1": "project",
        "C-2": "documents",
    }
    again = run(cast.it_admin, "subscriptions", HEADER + _row("C-1", "Tower", ""))
    assert again.status == "done"
    assert Subscription.objects.get(ref="C-1").category == "project"


def test_an_unknown_category_is_a_row_error_and_nothing_is_written(
    cast: Cast, inventory: Inventory
) -> None:
    content = HEADER + _row("C-3", "Tower", "games") + _row("C-4", "Tower Docs", "design")
    job = upload(cast.it_admin, "subscriptions", content)
    assert job.status == "invalid"
    assert codes(job) == [(2, "category", "unknown_choice")]
    assert not Subscription.objects.filter(ref__in=["C-3", "C-4"]).exists()
