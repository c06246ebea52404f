"""``manage.py contract_terms FILE [--json]``: what would be read from a file, nothing stored."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from contracts.models import TermSuggestion
from tests.contracts.helpers import make_pdf
from tests.contracts.terms.samples import CHINESE, ENGLISH

pytestmark = pytest.mark.django_db


def paragraphs(text: str) -> str:
    return "</p><p>".join(text.splitlines())


def test_json_lists_the_terms_of_a_text_pdf(tmp_path: Path) -> None:
    path = tmp_path / "agreement.pdf"
    path.write_bytes(make_pdf(paragraphs(ENGLISH)))
    out = io.StringIO()
    call_command("contract_terms", str(path), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["text"]["status"] == "done" and data["text"]["source"] == "layer"
    assert data["answers"]["notice_days"] == 90
    assert data["answers"]["amount"] == {
        "amount": "48000.00",
        "currency": "USD",
        "tax_included": False,
    }
    notice = next(term for term in data["terms"] if term["field"] == "notice_days")
    assert notice["as_written"] == "ninety (90) days" and notice["page"] == 1
    assert TermSuggestion.objects.count() == 0


def test_the_listing_and_refusals(tmp_path: Path) -> None:
    path = tmp_path / "合同.pdf"
    path.write_bytes(make_pdf(paragraphs(CHINESE)))
    out = io.StringIO()
    call_command("contract_terms", str(path), stdout=out)
    assert "notice_days    60" in out.getvalue() and "[六十日]" in out.getvalue()
    with pytest.raises(CommandError, match="no such file"):
        call_command("contract_terms", str(tmp_path / "missing.pdf"))
    script = tmp_path / "fake.pdf"
    script.write_text("<html><script>alert(1)</script></html>")
    with pytest.raises(CommandError):
        call_command("contract_terms", str(script))
