"""Monthly usage briefings' PDF: its text in Chinese and English, a failed render that leaves
neither file nor ready row, and what the PDF keeps shorter than the page."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation

from renewals.reports.models import Briefing
from renewals.reports.selectors.briefings import briefing_figures
from renewals.reports.services import briefings as service
from tests.conftest import Cast
from tests.renewals.reports.briefings.conftest import (
    MONTH,
    TODAY,
    pdf_text,
    render,
)

# --- The PDF -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_chinese_pdf_names_the_department_and_shows_the_figures(
    cast: Cast, data: SimpleNamespace
) -> None:
    briefing = render(cast, "zh-hans")
    assert briefing.status == "ready" and briefing.stored_name.startswith("private/briefings/")
    text = pdf_text(briefing)
    assert "软件使用简报" in text and "研发中心 A" in text and "测试部 A-QA" in text
    # Separators; the yearly total in 万 (#15.9).
    for figure in ("66.7%", "1,600.00", "1.92万", "80.00", "220.00", "2,400.00", "36.0%"):
        assert figure in text, figure
    assert "离职员工" in text and "金山办公 WPS 365" in text and "B 专用" not in text
    assert "2026-10" in text
    stored = Path(settings.MEDIA_ROOT) / briefing.stored_name
    assert stored.stat().st_size == briefing.size and len(briefing.sha256) == 64
    assert briefing.figures["totals"]["active_users"] == 20


@pytest.mark.django_db
def test_the_english_pdf_has_the_same_figures_in_english(cast: Cast, data: SimpleNamespace) -> None:
    text = pdf_text(render(cast, "en"))
    assert "Software usage briefing" in text and "研发中心 A" in text
    assert "Cost per active user" in text and "Recommendations" in text
    for figure in ("66.7%", "1,600.00", "19.2K", "80.00", "2,400.00"):
        assert figure in text, figure
    assert "软件使用简报" not in text


@pytest.mark.django_db
def test_a_failed_render_leaves_neither_file_nor_ready_row(
    cast: Cast, data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_save(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    briefing = service.briefing_request(
        user=cast.head_a, department=cast.dept_a, month=MONTH, language="zh-hans", enqueue=False
    )
    monkeypatch.setattr(Briefing, "save", broken_save)  # the file is written, the row fails
    service.briefing_render(briefing_id=briefing.pk, today=TODAY)
    monkeypatch.undo()
    briefing.refresh_from_db()
    assert briefing.status == "failed" and "disk full" in briefing.error
    assert briefing.stored_name == ""
    folder = Path(settings.MEDIA_ROOT) / "private" / "briefings"
    assert not folder.exists() or not list(folder.iterdir())
    # Asked again, it is tried again and succeeds.
    again = render(cast, "zh-hans")
    assert again.pk == briefing.pk and again.status == "ready"


# --- What the PDF keeps shorter -----------------------------------------------------------------


def test_the_pdf_lists_the_least_used_modules_and_largest_savings_the_page_lists_all() -> None:
    figures = {
        "currency": "CNY",
        "subscriptions": [],
        "trend": [],
        "modules": [
            {
                "subscription": "S",
                "module": f"M{i}",
                "seats": 10,
                "active_users": i % 10,
                "utilisation": None if i == 0 else str(Decimal(i % 100)),
            }
            for i in range(45)
        ],  # fmt: skip
        "recommendations": [
            {
                "subscription": "S",
                "kind": "reclaim_idle",
                "text": f"R{i}",
                "yearly_saving": None if i == 0 else f"{i}.00",
            }
            for i in range(40)
        ],  # fmt: skip
    }
    page = service.briefing_context(figures)
    assert len(page["modules"]) == 45 and page["modules_more"] == 0
    assert len(page["recommendations"]) == 40 and page["recommendations_more"] == 0
    pdf_context = service.briefing_context(figures, pdf=True)
    shown = pdf_context["modules"]
    assert len(shown) == service.PDF_ROWS and pdf_context["modules_more"] == 15
    assert [m["module"] for m in shown[:3]] == ["M1", "M2", "M3"]  # least used first
    advice = pdf_context["recommendations"]
    assert [r["text"] for r in advice[:2]] == ["R39", "R38"]  # largest saving first
    assert pdf_context["recommendations_more"] == 10


@pytest.mark.django_db
def test_the_pdf_sets_each_subscription_in_one_three_cell_row_with_every_figure(
    cast: Cast, data: SimpleNamespace
) -> None:
    """WeasyPrint's time grows with the cells (bench/bench_briefing.py): the PDF keeps one row
    per subscription with the page's seven figures in three cells, and charts of PDF_BARS bars."""
    import re

    from django.template.loader import render_to_string

    with translation.override("en"):
        figures = briefing_figures(cast.dept_a, MONTH, today=TODAY)
        html = render_to_string(service.PDF_TEMPLATE, service.briefing_context(figures, pdf=True))
        page = render_to_string(
            "renewals/reports/_briefing_body.html", service.briefing_context(figures)
        )
    table = html.split('data-testid="briefing-subscriptions"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], flags=re.S)
    assert len(rows) == 2 and all(row.count("<td") == 3 for row in rows)
    jira = next(row for row in rows if "Jira" in row)
    # seats assigned/purchased · active (utilisation) · idle / departed · tasks; yearly · per user
    for figure in ("3/10", "5 (50.0%)", "1 / 1", "40", "13,200.00", "220.00"):
        assert figure in jira, figure
    page_table = page.split('data-testid="briefing-subscriptions"', 1)[1].split("</table>", 1)[0]
    assert page_table.split("<tbody>", 1)[1].count("<td") == 2 * 7  # the page keeps its columns
    many = {**figures, "subscriptions": [dict(figures["subscriptions"][0], name=f"S{i}")
                                         for i in range(40)]}  # fmt: skip
    charts = service.briefing_context(many, pdf=True)["charts"]
    assert charts["utilisation"].count("<rect") == 2 * service.PDF_BARS  # track + bar
