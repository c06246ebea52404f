"""Issue #16.2 through the upload: a refused PDF says why and leaves nothing stored, whoever calls
the service; a checker that dies refuses the file; every place that stores a file is known."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from contracts import services
from contracts.files import sniff
from contracts.models import Contract, ContractDocument
from tests.conftest import Cast
from tests.contracts import pdf_samples as s
from tests.contracts.helpers import client_for, stored_files, upload
from tests.contracts.pdf_cases import ACTIVE, PLAIN, STUBS, writer_pdf

# pypdf warns about the damaged files on purpose; the messages are compared in English.
pytestmark = pytest.mark.usefixtures("quiet_pypdf", "english")


# --- through the upload ------------------------------------------------------------------------

THROUGH_UPLOAD = {
    "script in an object stream": (
        ACTIVE["script inside a compressed object stream"][0],
        "active content (JavaScript)",
    ),
    "incremental update": (ACTIVE["open action added by an incremental update"][0], "JavaScript"),
    "encoded name": (ACTIVE["open action, name written with #xx escapes"][0], "JavaScript"),
    "embedded file": (ACTIVE["embedded file (pypdf writer)"][0], "embedded files"),
    "no pages": (STUBS["no pages"][0], "This PDF has no pages."),
    "encrypted": (
        writer_pdf(lambda w: w.encrypt("secret", algorithm="RC4-128")),
        "encrypted or password-protected",
    ),
}


@pytest.mark.parametrize("case", sorted(THROUGH_UPLOAD))
def test_a_refused_pdf_says_why_and_leaves_nothing_stored(
    cast: Cast, contract: Contract, case: str
) -> None:
    content, message = THROUGH_UPLOAD[case]
    client = client_for(cast.it_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the messages below are the English ones
    response = upload(client, contract, "合同.pdf", content)
    assert response.status_code == 302
    page = client.get(contract.get_absolute_url()).content.decode()
    assert "alert-danger" in page and message in page
    assert not ContractDocument.objects.exists() and stored_files() == []


def test_the_service_refuses_whoever_calls_it(cast: Cast, contract: Contract) -> None:
    # Pages, the demo seeding and commands all store files through document_upload.
    upload_file = SimpleUploadedFile("x.pdf", ACTIVE["open action JavaScript"][0])
    with translation.override("en"), pytest.raises(ValidationError, match="JavaScript"):
        services.document_upload(
            contract=contract, user=cast.it_admin, upload=upload_file, kind="main"
        )
    assert not ContractDocument.objects.exists() and stored_files() == []


def test_a_plain_pdf_is_stored(cast: Cast, contract: Contract) -> None:
    client = client_for(cast.it_admin)
    upload(client, contract, "合同.pdf", PLAIN["web, mail and relative links, page links"])
    assert ContractDocument.objects.get().content_type == "application/pdf"
    assert len(stored_files()) == 1


def test_a_pdf_over_the_time_budget_is_refused(
    cast: Cast, contract: Contract, settings: Any
) -> None:
    settings.CONTRACT_CHECK_TIMEOUT = 0
    many = {n: b"[" + b"1 " * 500 + b"]" for n in range(5, 400)}
    client = client_for(cast.it_admin)
    upload(client, contract, "big.pdf", s.build({**s.plain_objects(), **many}))
    page = client.get(contract.get_absolute_url()).content.decode()
    assert "too complex to check" in page
    assert not ContractDocument.objects.exists() and stored_files() == []


def test_a_checker_that_dies_refuses_the_file(monkeypatch: Any) -> None:
    # A crash (or the memory limit) leaves no verdict: the file is refused, never let through.
    monkeypatch.setattr(sys, "executable", "/bin/false")
    with pytest.raises(ValidationError, match="too complex"):
        sniff(io.BytesIO(s.plain()))


# --- every way a file gets stored --------------------------------------------------------------

# Each place the apps write a file to storage, and why a PDF stored there is safe.
STORING = {
    "contracts/services.py": "document_upload: sniff() runs the PDF check before the file is saved",
    "renewals/reports/services/briefings.py": "briefings: PDFs we render from our templates, no user file",
}


def test_every_place_that_stores_a_file_is_known() -> None:
    # A new upload path (API, import, e-mail) must go through contracts.files.sniff; this lists
    # the call sites so a new one cannot be added without deciding that.
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = set()
    for app in ("org", "budgets", "renewals", "contracts", "config"):
        for path in (root / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "save"
                    and "storage" in ast.unparse(node.func.value)
                ):
                    found.add(str(path.relative_to(root)))
    assert found == set(STORING)


def test_the_import_upload_refuses_a_pdf(cast: Cast) -> None:
    from renewals.imports.services import ImportRefused, import_upload

    with pytest.raises(ImportRefused):
        import_upload(user=cast.it_admin, kind="usage",
                      upload=SimpleUploadedFile("usage.csv", s.plain()))  # fmt: skip
