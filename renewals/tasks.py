"""django-q2 entry points of the renewals app: take ids, call a service, exit if the row is gone.

(django-q2 closes the task's database connections, including the "progress" one, afterwards.)
"""

from __future__ import annotations

from renewals.services import imports


def import_check(job_id: str, *, background: bool = True) -> str | None:
    job = imports.import_check(job_id=job_id, background=background)
    return job.status if job else None


def import_commit(job_id: str, *, background: bool = True) -> str | None:
    job = imports.import_run_commit(job_id=job_id, background=background)
    return job.status if job else None
