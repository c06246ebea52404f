"""Imports: upload -> check (preview with row errors) -> commit (all or nothing)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from org.roles import Role, has_role
from org.scoping import managed_departments
from renewals.imports.checks import check_rows, sample_rows
from renewals.imports.engine import apply_rows
from renewals.imports.models import ImportJob
from renewals.imports.reader import FileProblem, load_stage, sniff_format
from renewals.imports.specs import SPECS

logger = logging.getLogger(__name__)

# Who may import what: IT admins everything; department software admins the seat and usage data
# of their own departments (the people directory and the inventory itself are IT's).
KIND_ROLES = {
    ImportJob.Kind.SUBSCRIPTIONS: (Role.IT_ADMIN,),
    ImportJob.Kind.PEOPLE: (Role.IT_ADMIN,),
    ImportJob.Kind.SEATS: (Role.IT_ADMIN, Role.SOFTWARE_ADMIN),
    ImportJob.Kind.USAGE: (Role.IT_ADMIN, Role.SOFTWARE_ADMIN),
    ImportJob.Kind.ACTIVITY: (Role.IT_ADMIN, Role.SOFTWARE_ADMIN),
}


class ImportRefused(Exception):
    """The upload or the action was refused; ``str(exc)`` is a translated message for the user."""


def import_kinds_for(user: Any) -> list[ImportJob.Kind]:
    return [kind for kind, roles in KIND_ROLES.items() if has_role(user, *roles)]


def storage_dir() -> Path:
    # Outside the web root and never served: MEDIA_ROOT has no URL pattern.
    path = Path(settings.MEDIA_ROOT) / "private" / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _path(job: ImportJob) -> Path:
    return storage_dir() / job.stored_name


def _remove_file(job: ImportJob) -> None:
    _path(job).unlink(missing_ok=True)


def import_upload(*, user: Any, kind: str, upload: UploadedFile) -> ImportJob:
    """Store the upload under a generated name and start checking it.

    Small files are checked before this returns; large ones by a worker (the page polls).
    A refused upload leaves no row and no file behind.
    """
    if kind not in KIND_ROLES or not has_role(user, *KIND_ROLES[ImportJob.Kind(kind)]):
        raise PermissionDenied
    size = upload.size or 0
    if size > settings.IMPORT_MAX_BYTES:
        raise ImportRefused(
            _("The file is larger than %(limit)s MB.")
            % {"limit": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
        )
    if size == 0:
        raise ImportRefused(_("The file is empty."))
    head = next(upload.chunks(8192), b"")
    upload.seek(0)
    try:
        file_format = sniff_format(head)
    except FileProblem as problem:
        raise ImportRefused(problem.text()) from None

    job_id = uuid.uuid4()
    stored_name = f"{job_id.hex}.{file_format}"
    target = storage_dir() / stored_name
    digest = hashlib.sha256()
    written = 0
    try:
        with open(target, "xb") as out:
            for chunk in upload.chunks():
                written += len(chunk)
                if written > settings.IMPORT_MAX_BYTES:
                    raise ImportRefused(
                        _("The file is larger than %(limit)s MB.")
                        % {"limit": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
                    )
                digest.update(chunk)
                out.write(chunk)
        with transaction.atomic():
            job = ImportJob.objects.create(
                id=job_id,
                kind=kind,
                created_by=user,
                original_name=(upload.name or "upload")[:255],
                stored_name=stored_name,
                file_format=file_format,
                size=written,
                sha256=digest.hexdigest(),
            )
    except IntegrityError:
        target.unlink(missing_ok=True)
        raise ImportRefused(
            _("Another import of this kind is running; wait for it to finish.")
        ) from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    _dispatch(job, "renewals.tasks.import_check")
    job.refresh_from_db()
    return job


def _dispatch(job: ImportJob, task: str) -> None:
    """Run ``task`` now for a small file, or hand it to the worker cluster for a large one."""
    if job.size <= settings.IMPORT_BACKGROUND_BYTES:
        from importlib import import_module

        module, name = task.rsplit(".", 1)
        getattr(import_module(module), name)(str(job.pk), background=False)
        return
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task(task, str(job.pk), task_name=f"import {job.pk}"))


def _progress_reporter(job: ImportJob, start: int, end: int) -> Callable[[float], None]:
    """Writes progress through a second connection so the polling page sees it mid-transaction.

    Only jobs run by a worker report progress; a small file checked inside the web request is
    done before anyone could poll.
    """
    last = [-1]
    if not getattr(job, "in_background", False):
        return lambda fraction: None

    def report(fraction: float) -> None:
        percent = start + int((end - start) * fraction)
        if percent != last[0]:
            last[0] = percent
            ImportJob.objects.using("progress").filter(pk=job.pk).update(progress=percent)

    return report


def _allowed_departments(user: Any) -> list[int]:
    return list(managed_departments(user).values_list("pk", flat=True))


class _Rollback(Exception):
    """Raised to discard a checking transaction (only the staging table lived in it)."""


def _file_unchanged(job: ImportJob) -> bool:
    """The stored file is byte for byte the one uploaded (whose preview found no errors)."""
    digest = hashlib.sha256()
    with _path(job).open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest() == job.sha256


def _check_in_transaction(
    job: ImportJob, cursor: Any, *, committing: bool = False
) -> tuple[Any, Any]:
    """Stage the file and check it. At commit, the checks that depend only on the file (formats,
    repeated rows) are not repeated when it is still the file whose preview passed them; those
    against the database (references, departments) always run again."""
    spec = SPECS[job.kind]
    # Sorts and hashes over a million staged rows stay in memory instead of spilling to disk.
    cursor.execute("SET LOCAL work_mem = '128MB'")
    content = not (committing and _file_unchanged(job))
    header = load_stage(
        cursor,
        path=_path(job),
        file_format=job.file_format,
        spec_columns=spec.columns,
        progress=_progress_reporter(job, 5, 60),
    )
    result = check_rows(
        cursor,
        spec=spec,
        header=header,
        depts=_allowed_departments(job.created_by),
        base=settings.BASE_CURRENCY,
        content=content,
    )
    if result.total_rows == 0:
        raise FileProblem(gettext_noop("The file has a header but no data rows."))
    return header, result


def import_check(*, job_id: str, background: bool = False) -> ImportJob | None:
    """Check every row of the file; the job ends READY (no errors) or INVALID (with errors)."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status != ImportJob.Status.VALIDATING:
        return job  # gone, or already handled by a retried task
    job.in_background = background  # type: ignore[attr-defined]
    spec = SPECS[job.kind]
    outcome: dict[str, Any] = {}
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                header, result = _check_in_transaction(job, cursor)
                outcome["sample"] = sample_rows(cursor, spec=spec, header=header)
                outcome["columns"] = sorted(header.present)
            outcome["result"] = result
            raise _Rollback  # nothing of the check is kept but its findings
    except _Rollback:
        pass
    except FileProblem as problem:
        return _finish(job, ImportJob.Status.INVALID, failure=problem)
    except Exception as exc:  # noqa: BLE001 - any database error becomes a readable failure
        return _finish(job, ImportJob.Status.INVALID, failure=_describe(exc))
    result = outcome["result"]
    job.total_rows = result.total_rows
    job.error_count = result.error_count
    job.errors = result.errors
    job.summary = {"sample": outcome["sample"], "columns": outcome["columns"]}
    status = ImportJob.Status.READY if result.error_count == 0 else ImportJob.Status.INVALID
    return _finish(job, status, keep_file=status == ImportJob.Status.READY, finished=False)


def import_commit(*, user: Any, job: ImportJob) -> ImportJob:
    """Write a checked file: everything or, if anything is wrong now, nothing."""
    _require_owner(user, job)
    # Only one click wins: the status moves from READY to COMMITTING exactly once.
    try:
        with transaction.atomic():
            won = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READY).update(
                status=ImportJob.Status.COMMITTING, progress=0
            )
    except IntegrityError:
        raise ImportRefused(
            _("Another import of this kind is running; wait for it to finish.")
        ) from None
    if not won:
        raise ImportRefused(
            _("This import is not ready to be imported (already imported, or has errors).")
        )
    job.refresh_from_db()
    _dispatch(job, "renewals.tasks.import_commit")
    job.refresh_from_db()
    return job


def import_run_commit(*, job_id: str, background: bool = False) -> ImportJob | None:
    """The commit itself (inline or in a worker): load, check again, write, in one transaction."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status != ImportJob.Status.COMMITTING:
        return job
    job.in_background = background  # type: ignore[attr-defined]
    spec = SPECS[job.kind]
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                header, result = _check_in_transaction(job, cursor, committing=True)
                if result.error_count:
                    # The data changed since the preview (e.g. a subscription was removed).
                    job.total_rows, job.error_count, job.errors = (
                        result.total_rows,
                        result.error_count,
                        result.errors,
                    )
                    raise _Rollback
                _progress_reporter(job, 60, 100)(0.1)
                counts = apply_rows(
                    cursor,
                    spec=spec,
                    header=header,
                    total=result.total_rows,
                    base=settings.BASE_CURRENCY,
                )
    except _Rollback:
        return _finish(job, ImportJob.Status.INVALID)
    except FileProblem as problem:
        return _finish(job, ImportJob.Status.FAILED, failure=problem)
    except Exception as exc:  # noqa: BLE001 - rolled back; the user sees why
        return _finish(job, ImportJob.Status.FAILED, failure=_describe(exc))
    job.summary = {**job.summary, **counts}
    return _finish(job, ImportJob.Status.DONE)


def import_cancel(*, user: Any, job: ImportJob) -> ImportJob:
    _require_owner(user, job)
    updated = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportJob.Status.READY, ImportJob.Status.INVALID]
    ).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    if not updated:
        raise ImportRefused(_("This import can no longer be cancelled."))
    _remove_file(job)
    job.refresh_from_db()
    return job


def _require_owner(user: Any, job: ImportJob) -> None:
    if job.created_by_id != user.pk and not has_role(user, Role.IT_ADMIN):
        raise PermissionDenied


def _finish(
    job: ImportJob,
    status: str,
    *,
    failure: FileProblem | None = None,
    keep_file: bool = False,
    finished: bool = True,
) -> ImportJob:
    job.status = status
    job.failure = failure.message if failure else ""
    job.failure_params = failure.params if failure else {}
    job.progress = 100
    if finished:
        job.finished_at = timezone.now()
    job.save()
    if not keep_file:
        _remove_file(job)
    return job


# COPY's complaints about the file's shape (SQLSTATE 22P04, bad_copy_file_format), by the start
# of PostgreSQL's message, as our own translated messages with the row they were found on.
COPY_PROBLEMS = {
    "extra data after last expected column": gettext_noop(
        "Row %(row)s has more values than there are column names."
    ),
    "missing data for column": gettext_noop(
        "Row %(row)s has fewer values than there are column names."
    ),
    "unterminated CSV quoted field": gettext_noop(
        "A quoted value that starts near row %(row)s is never closed (a closing quotation mark "
        "is missing)."
    ),
}


def _describe(exc: Exception) -> FileProblem:
    """A database error as our own message: the user never sees PostgreSQL's text (it is in the
    server log). The file's shape problems that COPY finds name their row; anything else is one
    message without a row, and everything was rolled back."""
    diag = getattr(exc, "diag", None) or getattr(getattr(exc, "__cause__", None), "diag", None)
    context = getattr(diag, "context", None) or ""
    primary = getattr(diag, "message_primary", None) or ""
    if diag is not None and "COPY" in context:
        line = context.rsplit("line", 1)[-1].split(":")[0].strip()
        for start, message in COPY_PROBLEMS.items():
            if primary.startswith(start) and line.isdigit():
                return FileProblem(message, row=int(line) + 1)
        logger.warning("COPY of an import file failed", exc_info=exc)
        return FileProblem(
            gettext_noop(
                "The file could not be read. Check that it is a CSV or XLSX file with one row "
                "per record; nothing was imported."
            )
        )
    logger.error("import failed with a database error", exc_info=exc)
    return FileProblem(
        gettext_noop(
            "The import could not be completed because of a database problem; nothing was "
            "changed. Try again, or ask IT to look at the server log."
        )
    )
