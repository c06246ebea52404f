"""The needs-assessment PDF keeps a table's header with its first row and a heading with what
follows it (#15: the approval table's header was left alone at the bottom of a page)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from budgets import services as budget_services
from renewals.requests import services
from tests.conftest import Cast


def _pages(client: Client, pk: int) -> list[list[str]]:
    response: Any = client.get(reverse("renewals:request-pdf", args=[pk]))
    content = b"".join(response.streaming_content) if response.streaming else response.content
    reader = PdfReader(io.BytesIO(content))
    return [[line.strip() for line in page.extract_text().splitlines()] for page in reader.pages]


def _page_of(pages: list[list[str]], wanted: str) -> int:
    return next(n for n, lines in enumerate(pages) if any(wanted in line for line in lines))


def test_the_approval_table_header_never_ends_a_page_alone(cast: Cast) -> None:
    budget_services.budget_allocate(
        budget=cast.budget_a, amount=Decimal("1000000"), user=cast.finance, memo="年度预算"
    )
    draft = services.request_create(
        subscription=cast.subscription_a, user=cast.software_admin, justification="继续使用"
    )
    client = Client()
    client.force_login(cast.it_admin)
    client.post(reverse("set-language"), {"language": "en", "next": "/"})
    assessment = services.assessment_add(
        request=draft, user=cast.it_admin, perspective="it", recommendation="renew", comment="ok"
    )

    def layout(lines: int) -> list[list[str]]:
        # A longer comment pushes the approval section down, line by line.
        assessment.comment = "\n".join(f"line {n}" for n in range(lines))
        assessment.save(update_fields=["comment"])
        return _pages(client, draft.pk)

    # Find where the approval section moves to the next page, then check every line around it.
    step, lines = 6, 0
    first = _page_of(layout(0), "Approver role")
    while _page_of(layout(lines), "Approver role") == first:
        lines += step
        assert lines < 200, "the approval table never reached the next page"
    checked = 0
    for n in range(max(0, lines - step - 1), lines + 2):
        pages = layout(n)
        header = _page_of(pages, "Approver role")
        assert _page_of(pages, "Not submitted yet") == header, f"{n} lines: header alone"
        heading = next(p for p, page in enumerate(pages) if "Approval" in page)
        assert heading == header, f"{n} lines: heading alone at the bottom of page {heading + 1}"
        checked += 1
    assert checked >= step
