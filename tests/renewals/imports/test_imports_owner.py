"""The subscriptions import checks the owner like the form and the API: someone of the row's
department, its head or software admin (or of a department above it), or an IT admin; anyone
else is a row error and nothing is written."""

from __future__ import annotations

import pytest

from renewals.inventory.models import Subscription
from tests.conftest import Cast
from tests.renewals.conftest import Inventory
from tests.renewals.imports.conftest import codes, run, upload

pytestmark = pytest.mark.django_db

HEADER = "编号,供应商,产品,部门,负责人,席位,单价,开始日期,结束日期\n"


def _row(ref: str, department: str, owner: str) -> str:
    return f"{ref},Tower,Tower {ref},{department},{owner},5,100.00,2026-01-01,2026-12-31\n"


def test_owners_the_rule_allows(cast: Cast, inventory: Inventory) -> None:
    content = (
        HEADER
        + _row("O-1", "a", "head_a")  # heads department A
        + _row("O-2", "a-qa", "head_a")  # heads the department above A-QA
        + _row("O-3", "b", "it_admin")  # IT admins own company-wide tools
        + _row("O-4", "a", "swadmin_a")  # administers A's software
    )
    job = run(cast.it_admin, "subscriptions", content)
    assert job.status == "done"
    assert Subscription.objects.filter(ref__startswith="O-").count() == 4


def test_an_owner_from_another_department_is_refused_and_nothing_is_written(
    cast: Cast, inventory: Inventory
) -> None:
    content = HEADER + _row("O-5", "a", "head_b") + _row("O-6", "b", "finance")
    content += _row("O-7", "a", "head_a")
    job = upload(cast.it_admin, "subscriptions", content)
    assert job.status == "invalid"
    assert codes(job) == [(2, "owner", "owner_outside"), (3, "owner", "owner_outside")]
    assert not Subscription.objects.filter(ref__startswith="O-").exists()
