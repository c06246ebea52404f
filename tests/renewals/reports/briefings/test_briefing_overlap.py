"""The briefing's overlapping tools: a line of their own with the saving and its assumptions,
in the figures and in the PDF (Chinese and English)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import translation

from renewals.inventory.models import Subscription
from renewals.reports.selectors.briefings import briefing_figures
from tests.conftest import Cast
from tests.factories import SubscriptionFactory
from tests.renewals.reports.briefings.conftest import MONTH, TODAY, pdf_text, render

pytestmark = pytest.mark.django_db


@pytest.fixture
def overlap(cast: Cast, data: SimpleNamespace) -> SimpleNamespace:
    """Department B buys A's Jira too: 3 seats × 1,200 = 3,600 a year, nobody active. Moving
    its 0 users onto A's Jira (5 active in October) saves all of it: 3,600.00. A's WPS (in
    A-QA) and Jira are both "project"-less, so that is the only group."""
    Subscription.objects.filter(pk=data.jira.pk).update(category="project")
    jira_b = SubscriptionFactory.create(
        ref="JIRA-B", department=cast.dept_b, vendor=data.jira.vendor, product="Jira",
        seats_purchased=3, unit_price=Decimal("1200.00"), category="project",
        term_start=data.jira.term_start, term_end=data.jira.term_end,
    )  # fmt: skip
    return SimpleNamespace(jira_b=jira_b)


def test_the_figures_carry_the_overlap_with_its_saving_and_assumptions(
    cast: Cast, data: SimpleNamespace, overlap: SimpleNamespace
) -> None:
    with translation.override("en"):
        figures = briefing_figures(cast.dept_a, MONTH, today=TODAY)
    [group] = figures["overlaps"]
    assert group["kind"] == "duplicate" and group["saving"] == "3600.00" and group["counted"]
    assert [t["name"] for t in group["tools"]] == [
        "Atlassian Jira · 研发中心 A", "Atlassian Jira · 市场部 B",
    ]  # fmt: skip
    assert group["assumptions"].startswith(
        "Moves 0 active users of Atlassian Jira · 市场部 B onto Atlassian Jira · 研发中心 A at "
        "1,200.00 CNY per seat a year"
    )
    assert figures["overlap_saving"] == "3600.00"
    # A line of its own: the recommendations' saving is what it was.
    assert figures["totals"]["yearly_saving"] == "2400.00"


def test_the_pdf_shows_the_overlap_in_english_and_chinese(
    cast: Cast, data: SimpleNamespace, overlap: SimpleNamespace
) -> None:
    english = " ".join(pdf_text(render(cast, "en")).split())
    assert "Overlapping tools" in english and "3,600.00" in english
    assert "ignores migration and training cost" in english
    chinese = " ".join(pdf_text(render(cast, "zh-hans")).split())
    assert "重叠" in chinese and "3,600.00" in chinese
    assert "ignores migration" not in chinese


def test_a_briefing_without_overlaps_says_so(cast: Cast, data: SimpleNamespace) -> None:
    figures = briefing_figures(cast.dept_a, MONTH, today=TODAY)
    assert figures["overlaps"] == [] and figures["overlap_saving"] == "0.00"
    text = " ".join(pdf_text(render(cast, "en")).split())
    assert "No overlapping tools." in text
