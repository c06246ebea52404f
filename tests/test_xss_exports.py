"""Stored XSS in spreadsheets: every CSV/XLSX export neutralises cells a spreadsheet would run
as a formula (the pages' checks: tests/test_xss.py)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from budgets.models import LedgerEntry
from contracts.services import contract_save
from org.models import Person
from renewals.cleanup import services as cleanup_services
from renewals.cleanup.models import CleanupItem
from renewals.risks import services as risk_services
from renewals.suggestions import services as suggestion_services
from renewals.suggestions.models import Suggestion
from renewals.usage.models import Seat
from tests.conftest import Cast
from tests.factories import SubscriptionFactory
from tests.xss_helpers import client_for

# --- exports --------------------------------------------------------------------------------

STARTS = ["=1+1", "+1+1", "-1+1", "@SUM(1)", "\tcmd", "\rcmd"]


def _cells(response: Any, kind: str) -> list[str]:
    assert response.status_code == 200
    if kind == "csv":
        text = response.content.decode("utf-8-sig")
        return [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    # (openpyxl reads a cell's CR as a line feed)
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]


def test_every_export_neutralises_formula_cells(cast: Cast) -> None:
    """One hostile start per object: every export shows each as text starting with '."""
    subs = []
    for i, start in enumerate(STARTS):
        sub = SubscriptionFactory.create(
            department=cast.dept_a, product=f"{start} p{i}", ref=f"X-{i}", notes=start
        )
        subs.append(sub)
        contract_save(
            user=cast.it_admin,
            subscription=sub,
            data={"number": f"{start} n{i}", "counterparty": f"{start} c{i}",
                  "valid_from": date(2026, 1, 1), "valid_to": date(2027, 12, 31),
                  "total_value": 1},
        )  # fmt: skip
        LedgerEntry.objects.create(budget=cast.budget_a, kind="adjustment", amount=1, memo=f"{start} m{i}")  # fmt: skip
        risk_services.risk_create(
            user=cast.it_admin,
            data={"category": "other", "title": f"{start} r{i}", "likelihood": 1, "impact": 1,
                  "department": cast.dept_a},
        )  # fmt: skip
        suggestion = suggestion_services.suggestion_submit(user=cast.head_a, subscription=sub, title="s")  # fmt: skip
        # The form strips the title; a stored one may still start with a control character.
        Suggestion.objects.filter(pk=suggestion.pk).update(title=f"{start} s{i}")
        Seat.objects.create(
            subscription=sub, person=cast.person_a, assigned_on=date(2026, 1, 1),
            account=f"{start} a{i}",
        )  # fmt: skip
    Person.objects.filter(pk=cast.person_a.pk).update(left_on=date(2026, 2, 1), status="left")
    campaign = cleanup_services.campaign_open(
        user=cast.finance, name="清理", due_on=timezone.localdate() + timedelta(days=30)
    )
    for i, item in enumerate(CleanupItem.objects.filter(campaign=campaign).order_by("pk")):
        CleanupItem.objects.filter(pk=item.pk).update(keep_reason=f"{STARTS[i % 6]} k{i}")
    client = client_for(cast.it_admin)
    client.post(reverse("renewals:cleanup-close", args=[campaign.pk]))
    exports = {
        "subscriptions": (reverse("renewals:subscription-list"), "p"),
        "contracts": (reverse("contracts:contract-list"), "c"),
        "ledger": (reverse("budgets:budget-detail", args=[cast.budget_a.pk]), "m"),
        "risks": (reverse("renewals:risk-list"), "r"),
        "suggestions": (reverse("renewals:suggestion-list"), "s"),
        "cleanup": (reverse("renewals:cleanup-report", args=[campaign.pk]), "k"),
    }
    for name, (url, tag) in exports.items():
        for kind in ("csv", "xlsx"):
            cells = _cells(client.get(url, {"_export": kind}), kind)
            ours = [c for c in cells if re.search(rf" {tag}\d$", c)]
            assert len(ours) >= 6, (name, kind, ours)
            for cell in ours:
                assert cell.startswith("'") and cell[1:].startswith(("\n", *(s[0] for s in STARTS))), (name, kind, cell)  # fmt: skip
            assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells), (name, kind)  # fmt: skip
