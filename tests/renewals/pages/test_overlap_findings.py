"""The findings page's overlapping tools, per role, and the KPI dashboard's overlap saving
(the figures are worked out in tests/renewals/risks/overlap_data.py)."""

from __future__ import annotations

import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from renewals.inventory.models import Subscription
from renewals.reports.selectors import kpis
from renewals.reports.services import kpi_store
from renewals.reports.views.kpis import dashboard_context
from tests.conftest import Cast
from tests.renewals.risks.overlap_data import TODAY, TOTAL, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(cast: Cast) -> SimpleNamespace:
    return build(cast)


def findings(user: object, language: str = "en") -> str:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    response = client.get(reverse("renewals:findings"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def section(html: str) -> str:
    return html[html.index('id="overlaps"') :]


def test_it_sees_both_kinds_with_links_the_saving_and_its_assumptions(
    cast: Cast, data: SimpleNamespace
) -> None:
    html = section(findings(cast.it_admin))
    assert "Overlapping tools" in html and "up to 4,340.00 CNY / year" in html
    assert html.count('data-testid="overlap-group"') == 3
    assert 'data-kind="category" data-key="project"' in html
    for sub in (data.jira_a, data.jira_b, data.asana, data.clickup, data.teambition):
        assert f'href="{sub.get_absolute_url()}"' in html
    assert "3,240.00 CNY / year" in html and "600.00 CNY / year" in html
    assert (
        "Moves 7 active users of Asana, 阿里巴巴 Teambition onto Atlassian Jira at 600.00 CNY per "
        "seat a year; ignores migration and training cost." in html
    )
    # The archived and expired tools are not listed.
    assert "Zoho Projects" not in html and "Monday" not in html


def test_a_head_sees_other_departments_tools_named_not_linked_nor_figured(
    cast: Cast, data: SimpleNamespace
) -> None:
    html = section(findings(cast.head_a))
    assert f'href="{data.jira_a.get_absolute_url()}"' in html
    assert f'href="{data.teambition.get_absolute_url()}"' in html  # A's sub-department
    for sub in (data.jira_b, data.asana, data.clickup, data.figma_b):
        assert f'href="{sub.get_absolute_url()}"' not in html
    assert "Asana" in html and "市场部 B" in html
    # B's rows (Jira B, Asana and ClickUp in the category; Jira B and Figma B as duplicates)
    # show no seats, users or cost to A's head.
    assert html.count("figures not shown.") == 5
    asana_row = re.search(r"<tr><td>Asana.*?</tr>", html, re.S)
    assert asana_row and "1,000" not in asana_row.group(0) and "6,000" not in asana_row.group(0)


def test_a_head_whose_departments_overlap_with_nothing_sees_nothing(
    cast: Cast, data: SimpleNamespace
) -> None:
    html = section(findings(data.head_c))
    assert 'data-testid="overlap-group"' not in html
    assert "No category has more than one tool." in html
    assert "No product is bought by more than one department." in html


def test_the_section_is_in_chinese_by_default(cast: Cast, data: SimpleNamespace) -> None:
    html = section(findings(cast.finance, "zh-hans"))
    assert "重叠" in html and "4,340.00" in html
    assert "Overlapping tools" not in html and "ignores migration" not in html


def test_names_are_text_not_markup(cast: Cast, data: SimpleNamespace) -> None:
    Subscription.objects.filter(pk=data.asana.pk).update(product="<script>alert(1)</script>")
    html = section(findings(cast.it_admin))
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- The KPI dashboard ------------------------------------------------------------------------


def test_the_dashboard_projects_the_overlap_saving_of_the_scope(
    cast: Cast, data: SimpleNamespace
) -> None:
    assert kpis.dashboard_for(None, TODAY).projected_overlap == TOTAL
    # B holds a tool of every group; A-QA only Teambition (project): 3,240.
    assert kpis.dashboard_for([cast.dept_b.pk], TODAY).projected_overlap == TOTAL
    qa = kpis.dashboard_for([cast.dept_a_child.pk], TODAY)
    assert qa.projected_overlap == Decimal("3240.00")
    assert qa.projected == (
        qa.projected_modules + qa.projected_idle + qa.projected_suggestions + Decimal("3240.00")
    )
    assert kpis.dashboard_for([data.dept_c.pk], TODAY).projected_overlap == 0


def test_the_dashboard_shows_the_line_with_its_assumptions_under_a_new_cache_key(
    cast: Cast, data: SimpleNamespace
) -> None:
    # The stored figures' shape changed (Dashboard.projected_overlap): a new key version.
    assert kpi_store.stored_key(None).startswith("kpi:figures:5:")
    board = kpis.dashboard_for(None, TODAY)
    with translation.override("en"):
        html = render_to_string(
            "renewals/reports/_kpi_dashboard.html", dashboard_context(cast.finance, board=board)
        )
    line = re.search(r'data-testid="kpi-projected-overlap">(.*?)</li>', html, re.S)
    assert line, "the overlap line"
    assert "¥4,340.00 from consolidating overlapping tools" in line.group(1)
    assert "migration and training not counted" in line.group(1)
    assert f'href="{reverse("renewals:findings")}#overlaps"' in line.group(1)
