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


def sweep_alerts() -> str:
    """Daily: record the alerts due today, then send them."""
    from renewals.services import alerts
    from renewals.services.requests import subscriptions_expire_ended

    expired = subscriptions_expire_ended()
    result = alerts.alerts_sweep()
    sent = alerts.alerts_deliver_on_time()
    return f"{expired} expired, {result.pending} due, {result.skipped} skipped, {sent} sent"


def deliver_alerts() -> str:
    """Every minute, and woken just before a retry is due: what is due (retries on time, claims
    of workers that died taken over)."""
    from renewals.services import alerts

    return f"{alerts.alerts_deliver_on_time()} sent"


def request_notify(
    request_id: int,
    event: str,
    actor_id: int | None,
    round_no: int | None = None,
    step_id: int | None = None,
    awaiting_id: int | None = None,
) -> str:
    """After a request changed: tell the requester, the approvers of the step the event opened
    and the chat channels, once each (tasks queued before they carried the round and steps
    have none: see notices.request_notify)."""
    from renewals.services import notices

    return notices.request_notify(
        request_id=request_id,
        event=event,
        actor_id=actor_id,
        round_no=round_no,
        step_id=step_id,
        awaiting_id=awaiting_id,
    )


def notify_seat_holders(request_id: int) -> str:
    """After a renewal was executed: tell every seat holder that the service continues."""
    from renewals.services.requests import seat_holders_notify

    return f"{seat_holders_notify(request_id=request_id)} told"


def kpi_refresh(depts: list[int] | None) -> str:
    """Queued by a dashboard view that served stale figures: compute and store that scope's."""
    from renewals.selectors import kpis

    board = kpis.refresh(depts)
    return "another refresh was running" if board is None else f"computed {board.computed_at}"


def kpi_warm() -> str:
    """Scheduled: compute and store the dashboard figures of every scope in use, so that views
    are served from the cache (see renewals.selectors.kpis, "Stored figures")."""
    from renewals.selectors import kpis

    # (the cache is shared by the workers and the web processes: config/settings.py, "Cache")
    scopes = kpis.warm_scopes()
    done = sum(1 for depts in scopes if kpis.refresh(depts) is not None)
    return f"{done} of {len(scopes)} scopes refreshed"
