"""Overlapping tools (renewals.inventory.overlap): the groups, the saving worked out by hand
with Decimals, the fixed number of queries, and the risks the nightly refresh raises and closes."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from renewals.inventory.models import Subscription
from renewals.inventory.overlap import (
    Kind,
    Overlap,
    find_overlaps,
    overlaps_for,
    product_key,
    total_saving,
)
from renewals.risks.models import Risk
from renewals.risks.rules import Rule
from renewals.risks.selectors import risk_text, visible_risks
from renewals.risks.services import risks_refresh
from tests.conftest import Cast
from tests.renewals.risks.overlap_data import TODAY, TOTAL, build, more_tools

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(cast: Cast) -> SimpleNamespace:
    return build(cast)


def by_key(groups: list[Overlap]) -> dict[tuple[str, str], Overlap]:
    return {(g.kind, g.key): g for g in groups}


def test_the_category_overlap_moves_the_smaller_tools_users_onto_the_most_used(
    data: SimpleNamespace,
) -> None:
    groups = by_key(find_overlaps(today=TODAY))
    project = groups[(Kind.CATEGORY, "project")]
    assert [t.name for t in project.tools] == [
        "Atlassian Jira", "Asana", "ClickUp", "阿里巴巴 Teambition",
    ]  # fmt: skip
    # Jira A and B together; the expired Monday and the archived Zoho are not live.
    assert project.target.active_users == 12 and project.target.main == data.jira_a
    assert project.target.yearly_cost == Decimal("9000.00")
    assert project.seat_price == Decimal("600.00")
    assert project.moved_users == 7  # Asana 5 + Teambition's 2 assigned seats (no usage report)
    assert project.saving == Decimal("6000.00") + Decimal("1440.00") - 7 * Decimal("600.00")
    assert project.saving == Decimal("3240.00")
    assert [t.name for t in project.unpriced] == ["ClickUp"]  # GBP: no recorded rate
    with translation.override("en"):
        assert project.assumptions == (
            "Moves 7 active users of Asana, 阿里巴巴 Teambition onto Atlassian Jira at 600.00 CNY "
            "per seat a year; ignores migration and training cost. Left out (no recorded "
            "exchange rate): ClickUp."
        )
    # Design has one product (Figma, in two departments): a duplicate, not a category overlap.
    assert (Kind.CATEGORY, "design") not in groups


def test_duplicate_purchases_compare_the_same_product_case_insensitively(
    data: SimpleNamespace,
) -> None:
    groups = by_key(find_overlaps(today=TODAY))
    jira = groups[(Kind.DUPLICATE, product_key(data.jira_a.vendor_id, "JIRA"))]
    assert [s.pk for s in jira.subscriptions] == [data.jira_a.pk, data.jira_b.pk]
    assert jira.saving == Decimal("3000.00") - 4 * Decimal("600.00") == Decimal("600.00")
    assert jira.counted  # Jira is the tool the category moves onto, not one moved away
    figma = groups[(Kind.DUPLICATE, product_key(data.figma_a.vendor_id, "Figma"))]
    assert figma.saving == Decimal("500.00")
    assert len(groups) == 3
    assert total_saving(groups.values()) == TOTAL


def test_a_duplicate_of_a_tool_the_category_moves_away_is_not_counted_twice(
    cast: Cast, data: SimpleNamespace
) -> None:
    # Asana bought by A too: its users already move onto Jira in the category's saving.
    Subscription.objects.filter(pk=data.asana.pk).update(status="active")
    Subscription.objects.create(
        ref="ASANA-A", vendor=data.asana.vendor, product="Asana", department=cast.dept_a,
        seats_purchased=1, unit_price=Decimal("1000"), term_start=data.asana.term_start,
        term_end=data.asana.term_end, category="project",
    )  # fmt: skip
    groups = by_key(find_overlaps(today=TODAY))
    asana = groups[(Kind.DUPLICATE, product_key(data.asana.vendor_id, "Asana"))]
    assert not asana.counted and asana.saving == Decimal("1000.00")
    assert total_saving(groups.values()) == total_saving(
        [g for g in groups.values() if g is not asana]
    )


def test_the_saving_is_never_negative_and_unknown_without_the_targets_rate(
    data: SimpleNamespace,
) -> None:
    # Jira A's seat at 5,000 a year: moving 7 users costs more than Asana and Teambition do.
    Subscription.objects.filter(vendor=data.jira_a.vendor).update(unit_price=Decimal("5000"))
    project = by_key(find_overlaps(today=TODAY))[(Kind.CATEGORY, "project")]
    assert project.saving == Decimal("0.00")
    # The most used tool priced in a currency without a rate: no saving is worked out.
    Subscription.objects.filter(vendor=data.jira_a.vendor).update(currency="GBP")
    project = by_key(find_overlaps(today=TODAY))[(Kind.CATEGORY, "project")]
    assert project.saving is None
    with translation.override("en"):
        assert "no recorded exchange rate" in project.assumptions


def test_a_fixed_number_of_queries_whatever_the_number_of_tools(
    cast: Cast, data: SimpleNamespace
) -> None:
    def count() -> int:
        for user in (cast.it_admin, cast.head_b):
            user = type(user).objects.get(pk=user.pk)  # no cached roles
            overlaps_for(user=user, today=TODAY)
        with CaptureQueriesContext(connection) as queries:
            find_overlaps(today=TODAY)
            overlaps_for(user=type(cast.head_b).objects.get(pk=cast.head_b.pk), today=TODAY)
        return len(queries)

    small = count()
    more_tools(cast, 12)
    assert count() == small <= 5
    assert len(by_key(find_overlaps(today=TODAY))[(Kind.CATEGORY, "project")].tools) == 16


def test_heads_see_the_overlaps_of_their_departments_and_may_open_only_their_tools(
    cast: Cast, data: SimpleNamespace
) -> None:
    groups = by_key(overlaps_for(user=cast.head_a, today=TODAY))
    project = groups[(Kind.CATEGORY, "project")]
    openable = {row.subscription.pk for row in project.rows if row.may_open}
    assert openable == {data.jira_a.pk, data.teambition.pk}  # A and its sub-department A-QA
    assert overlaps_for(user=data.head_c, today=TODAY) == []
    assert all(row.may_open for g in overlaps_for(user=cast.auditor) for row in g.rows)


# --- The risk register ------------------------------------------------------------------------


def overlap_risks() -> dict[tuple[str, str], Risk]:
    rows = Risk.objects.filter(rule__in=(Rule.OVERLAP, Rule.DUPLICATE)).exclude(status="closed")
    return {(r.rule, r.key): r for r in rows}


def test_the_refresh_raises_one_risk_per_category_and_product_and_closes_them_when_gone(
    cast: Cast, data: SimpleNamespace
) -> None:
    risks_refresh(today=TODAY)
    jira_key = product_key(data.jira_a.vendor_id, "Jira")
    figma_key = product_key(data.figma_a.vendor_id, "Figma")
    risks = overlap_risks()
    assert set(risks) == {
        (Rule.OVERLAP, "project"), (Rule.DUPLICATE, jira_key), (Rule.DUPLICATE, figma_key),
    }  # fmt: skip
    project = risks[(Rule.OVERLAP, "project")]
    # Across departments: no department, IT owns it; anchored on the tool to keep.
    assert project.department is None and project.owner == cast.it_admin
    assert project.subscription == data.jira_a
    with translation.override("en"):
        title, description = risk_text(project)
    assert title == "Several tools of one category are paid for: Project and task management"
    assert "Atlassian Jira" in description
    # Running again raises nothing new.
    assert risks_refresh(today=TODAY).raised == 0
    # Asana, ClickUp and Teambition are archived: Jira is the only project tool left.
    Subscription.objects.filter(pk__in=[data.asana.pk, data.clickup.pk, data.teambition.pk]).update(
        archived_at=timezone.now()
    )
    Subscription.objects.filter(pk=data.figma_b.pk).update(status="cancelled")
    risks_refresh(today=TODAY)
    assert set(overlap_risks()) == {(Rule.DUPLICATE, jira_key)}
    closed = Risk.objects.get(rule=Rule.OVERLAP, key="project")
    assert closed.status == "closed" and closed.reviews.get().outcome == "auto_closed"


def test_a_category_overlap_inside_one_department_belongs_to_it(
    cast: Cast, data: SimpleNamespace
) -> None:
    # Only B's project tools stay live: B's head owns the risk.
    Subscription.objects.filter(pk__in=[data.jira_a.pk, data.teambition.pk]).update(
        status="cancelled"
    )
    risks_refresh(today=TODAY)
    project = overlap_risks()[(Rule.OVERLAP, "project")]
    assert project.department == cast.dept_b and project.owner == cast.head_b


def test_heads_see_the_overlap_risks_involving_their_departments(
    cast: Cast, data: SimpleNamespace
) -> None:
    risks_refresh(today=TODAY)

    def seen(user: object) -> set[str]:
        return set(
            visible_risks(user=user)
            .filter(rule__in=(Rule.OVERLAP, Rule.DUPLICATE))
            .values_list("key", flat=True)
        )

    everything = seen(cast.it_admin)
    assert len(everything) == 3
    assert seen(cast.head_b) == everything  # B holds a tool of every group
    assert seen(data.head_c) == set()
    # The software admin of A: the project overlap (Jira A) and both duplicates (Jira, Figma).
    assert seen(cast.software_admin) == everything
    Subscription.objects.filter(pk=data.figma_a.pk).update(status="cancelled")
    Subscription.objects.filter(pk=data.jira_a.pk).update(category="development")
    risks_refresh(today=TODAY)
    # A still buys Jira (now "development") and Teambition (project, in A-QA), not Figma.
    assert "project" in seen(cast.software_admin)
