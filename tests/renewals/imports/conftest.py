"""What the import tests share: messages in English, uploading and committing a file, the error
codes of a job, the files left behind, and a small usage file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from org.models import User
from renewals.imports import services as imports
from renewals.imports.models import ImportJob
from renewals.usage.models import MonthlyUsage


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are checked in English here (test_errors_are_shown_in_the_users_language covers
    Chinese)."""
    with translation.override("en"):
        yield


def upload(user: User, kind: str, content: bytes | str, name: str = "f.csv") -> ImportJob:
    data = content.encode() if isinstance(content, str) else content
    return imports.import_upload(user=user, kind=kind, upload=SimpleUploadedFile(name, data))


def run(user: User, kind: str, content: bytes | str, name: str = "f.csv") -> ImportJob:
    job = upload(user, kind, content, name)
    assert job.status == "ready", (job.failure_text, job.errors)
    return imports.import_commit(user=user, job=job)


def codes(job: ImportJob) -> list[tuple[int, str, str]]:
    return [(e["line"], e["column"], e["code"]) for e in job.errors]


def stored_files() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "private" / "imports"
    return list(folder.glob("*")) if folder.exists() else []


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


USAGE = "subscription,module,month,active_users,tasks_created,tasks_completed\nJIRA-A,,2026-09,7,100,80\nJIRA-A,Gantt,2026-09,2,,\n"


def assert_nothing_written(before: int) -> None:
    assert MonthlyUsage.objects.count() == before
    assert stored_files() == []
