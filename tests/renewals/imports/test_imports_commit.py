"""Imports: from preview to commit (data or file changed in between, who may import, one import
of a kind at a time, once however often clicked), through the pages, and in the worker."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from renewals.imports import checks
from renewals.imports import services as imports
from renewals.imports.models import ImportJob
from renewals.usage.models import MonthlyUsage
from tests.conftest import Cast
from tests.renewals.conftest import Inventory
from tests.renewals.imports.conftest import (
    USAGE,
    assert_nothing_written,
    codes,
    run,
    stored_files,
    upload,
)

pytestmark = pytest.mark.django_db


def test_data_changed_after_the_preview_is_caught_at_commit(
    cast: Cast, inventory: Inventory
) -> None:
    job = upload(cast.it_admin, "usage", USAGE)
    assert job.status == "ready"
    inventory.gantt.delete()  # someone removes the module between preview and commit
    job = imports.import_commit(user=cast.it_admin, job=job)
    assert job.status == "invalid" and codes(job) == [(3, "module", "unknown_module")]
    assert_nothing_written(0)


def test_a_file_changed_after_the_preview_is_checked_in_full_at_commit(
    cast: Cast, inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    content_checked = []

    def check_rows(*args: object, content: bool, **kwargs: object) -> object:
        content_checked.append(content)
        return checks.check_rows(*args, content=content, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(imports, "check_rows", check_rows)
    assert run(cast.it_admin, "usage", USAGE).status == "done"
    assert content_checked == [True, False]  # the commit of the previewed file: references only
    job = upload(cast.it_admin, "usage", USAGE)
    assert job.status == "ready"
    # The commit repeats the format checks only when the stored file is not the one previewed.
    (imports.storage_dir() / job.stored_name).write_text(USAGE.replace(",7,", ",seven,"))
    job = imports.import_commit(user=cast.it_admin, job=job)
    assert job.status == "invalid" and codes(job) == [(2, "active_users", "not_a_number")]
    assert content_checked[-1] is True
    assert_nothing_written(2)


def test_software_admin_cannot_import_for_another_department(
    cast: Cast, inventory: Inventory
) -> None:
    job = upload(
        cast.software_admin,
        "usage",
        "subscription,month,active_users\nFEISHU-B,2026-09,1\nJIRA-A,2026-09,1\n",
    )
    assert codes(job) == [(2, "subscription", "department_not_allowed")]
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        upload(cast.software_admin, "people", "employee_no,name,department\nX,Y,a\n")
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        upload(cast.head_a, "usage", USAGE)


def test_a_second_import_of_the_same_kind_waits_for_the_first(
    cast: Cast, inventory: Inventory
) -> None:
    ImportJob.objects.filter(pk=cast.import_job.pk).update(status="committing")
    with pytest.raises(imports.ImportRefused, match="Another import"):
        upload(cast.it_admin, "usage", USAGE)
    assert stored_files() == []
    assert run(cast.it_admin, "people", "employee_no,name,department\nQ1,Q,a\n").status == "done"


def test_commit_happens_once_however_often_it_is_clicked(cast: Cast, inventory: Inventory) -> None:
    job = upload(cast.it_admin, "usage", USAGE)
    imports.import_commit(user=cast.it_admin, job=job)
    with pytest.raises(imports.ImportRefused):
        imports.import_commit(user=cast.it_admin, job=job)
    assert MonthlyUsage.objects.count() == 2


def test_upload_and_commit_through_the_pages(cast: Cast, inventory: Inventory) -> None:
    client = Client()
    client.force_login(cast.software_admin)
    response = client.post(
        reverse("renewals:import-list"),
        {"kind": "usage", "file": SimpleUploadedFile("u.csv", USAGE.encode())},
    )
    job = ImportJob.objects.exclude(pk=cast.import_job.pk).get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    html = client.get(job.get_absolute_url()).content.decode()
    assert 'data-status="ready"' in html and "JIRA-A" in html
    assert client.get(reverse("renewals:import-commit", args=[job.pk])).status_code == 405
    client.post(reverse("renewals:import-commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done" and MonthlyUsage.objects.count() == 2
    other = Client()
    other.force_login(cast.head_a)
    assert other.get(job.get_absolute_url()).status_code == 403


def test_template_csv_lists_the_columns(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.it_admin)
    body = client.get(reverse("renewals:import-template", args=["usage"])).content.decode(
        "utf-8-sig"
    )
    assert (
        body.splitlines()[0]
        == "subscription,month,active_users,module,tasks_created,tasks_completed"
    )
    assert client.get(reverse("renewals:import-template", args=["nope"])).status_code == 404


@pytest.mark.django_db(databases=["default", "progress"])
def test_large_files_run_in_the_worker(
    cast: Cast, inventory: Inventory, settings: object, django_capture_on_commit_callbacks: object
) -> None:
    settings.IMPORT_BACKGROUND_BYTES = 10  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        job = upload(cast.it_admin, "usage", USAGE)
    job.refresh_from_db()
    assert job.status == "ready", job.failure_text  # checked by the task (sync cluster in tests)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        imports.import_commit(user=cast.it_admin, job=job)
    job.refresh_from_db()
    assert job.status == "done" and job.progress == 100
    from django_q.models import Success

    assert Success.objects.filter(func="renewals.tasks.import_check").exists()
