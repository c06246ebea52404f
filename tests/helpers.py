"""Small helpers shared by tests that start other processes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.conf import settings

from tests.contracts.pdf_samples import plain as plain_pdf

if TYPE_CHECKING:
    from contracts.models import ContractDocument


def database_url(name: str | None = None, *, user: str = "", password: str = "") -> str:
    """A DATABASE_URL for the server the tests use (a socket directory or a TCP host), as the
    tests' own role or as ``user``."""
    db = settings.DATABASES["default"]
    name = name or str(db["NAME"])
    if not user:
        user, password = str(db["USER"] or ""), str(db["PASSWORD"] or "")
    auth = quote(user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    host = str(db["HOST"] or "")
    if host.startswith("/"):
        return f"postgres://{auth}@/{host}/{name}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{name}"


# A small file the contract upload accepts as a PDF: parseable, one page, nothing active.
TINY_PDF = plain_pdf()


def contract_with_document(
    user: Any, subscription: Any, *, number: str, name: str = "m.pdf"
) -> ContractDocument:
    """A contract of the subscription with one stored PDF, made through the services."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from contracts.services import contract_save, document_upload

    contract = contract_save(
        user=user, subscription=subscription,
        data={"number": number, "counterparty": "某公司", "valid_from": date(2027, 1, 1),
              "valid_to": date(2027, 12, 31), "total_value": Decimal("1")},
    )  # fmt: skip
    return document_upload(
        contract=contract, user=user, kind="main",
        upload=SimpleUploadedFile(name, TINY_PDF, "application/pdf"),
    )  # fmt: skip


def in_threads(count: int, work: Any) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together (each with its own database
    connection, closed afterwards); their results, or the exceptions they raised."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        try:
            barrier.wait()
            return work(i)
        except Exception as exc:  # noqa: BLE001 - returned to the test to assert on
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))
