"""Every django-q2 entry point of the renewals app, in one stable module (stored schedules and
queued tasks name these functions): take ids, call a feature's service, exit if the row is gone.

(django-q2 closes the task's database connections, including the "progress" one, afterwards.)
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_q.tasks import async_task

from org.models import Department
from renewals.imports import services as imports
from renewals.reports.services import briefings
from renewals.usage.selectors import add_months, month_start


def import_check(job_id: str, *, background: bool = True) -> str | None:
    job = imports.import_check(job_id=job_id, background=background)
    return job.status if job else None


def import_commit(job_id: str, *, background: bool = True) -> str | None:
    job = imports.import_run_commit(job_id=job_id, background=background)
    return job.status if job else None


def sweep_alerts() -> str:
    """Daily: record the alerts due today, then send them."""
    from renewals.alerts import services as alerts
    from renewals.execution.services import subscriptions_expire_ended

    expired = subscriptions_expire_ended()
    result = alerts.alerts_sweep()
    sent = alerts.alerts_deliver_on_time()
    return f"{expired} expired, {result.pending} due, {result.skipped} skipped, {sent} sent"


def deliver_alerts() -> str:
    """Every minute, and woken just before a retry is due: what is due (retries on time, claims
    of workers that died taken over)."""
    from renewals.alerts import services as alerts

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
    from renewals.requests.services import notices

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
    from renewals.execution.services import seat_holders_notify

    return f"{seat_holders_notify(request_id=request_id)} told"


def kpi_refresh(depts: list[int] | None) -> str:
    """Queued by a dashboard view that served stale figures: compute and store that scope's."""
    from renewals.reports.services import kpi_store

    board = kpi_store.refresh(depts)
    return "another refresh was running" if board is None else f"computed {board.computed_at}"


def kpi_warm() -> str:
    """Scheduled: compute and store the dashboard figures of every scope in use, so that views
    are served from the cache (see renewals.reports.services.kpi_store)."""
    from renewals.reports.services import kpi_store

    # (the cache is shared by the workers and the web processes: config/settings.py, "Cache")
    scopes = kpi_store.warm_scopes()
    done = sum(1 for depts in scopes if kpi_store.refresh(depts) is not None)
    return f"{done} of {len(scopes)} scopes refreshed"


# --- Monthly usage briefings


def monthly_briefings(today: str | None = None) -> str:
    """Scheduled on the 1st: one task per department with heads, for the month that just ended,
    each with its own time limit (a slow department cannot hold the others up)."""
    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    month = add_months(month_start(day), -1)
    departments = list(
        Department.objects.filter(is_active=True, heads__is_active=True)
        .distinct()
        .order_by("code")
        .values_list("pk", flat=True)
    )
    for pk in departments:
        async_task(
            "renewals.tasks.department_briefing", pk, month.isoformat(),
            timeout=briefings.TIME_LIMIT, task_name=f"briefing-{pk}-{month:%Y-%m}",
        )  # fmt: skip
    return f"{len(departments)} departments queued for {month:%Y-%m}"


def department_briefing(department_id: int, month: str) -> str:
    """Render one department's briefing in its heads' languages and send it to them once."""
    return briefings.briefing_send(department_id=department_id, month=dt.date.fromisoformat(month))


def render_briefing(briefing_id: int) -> str:
    """Render one requested briefing (the "PDF" button of the page)."""
    briefing = briefings.briefing_render(briefing_id=briefing_id)
    return briefing.status if briefing else "gone"


# --- Risk register
def refresh_risks() -> str:
    """Daily: raise the risks whose condition holds, close those whose condition is gone."""
    from renewals.risks.services import risks_refresh

    result = risks_refresh()
    return f"{result.raised} raised, {result.closed} closed, {result.open} conditions hold"


def remind_risk_reviews() -> str:
    """Quarterly: tell each owner, once, that risks of theirs are due for review."""
    from renewals.risks.services import risks_remind_owners

    return f"{risks_remind_owners()} owners reminded"


def seat_request_notify(seat_request_id: int, event: str) -> str:
    """After a seat request was made or decided: tell its deciders or its requester."""
    from renewals.seats.services import seat_request_notify as notify

    return f"{notify(seat_request_id=seat_request_id, event=event)} told"


def reopen_seat_requests() -> str:
    """Every hour: seat requests whose "more seats" renewal request ended without seats are
    open again (their requesters and deciders told)."""
    from renewals.seats.services import seat_requests_reopen

    return f"{seat_requests_reopen()} reopened"


# --- Leavers (issue #19)
def leavers_act(person_ids: list[int], source: str = "") -> str:
    """Queued by the directory sync (integrations) after it committed people as left: flag
    their seats, tell the software admins and owners, raise the risk, add the seats to an open
    clean-up campaign; once however often it runs. Ids no longer of leavers are skipped."""
    from renewals.cleanup.leavers import leavers_act as act

    return str(act(person_ids=list(person_ids or []), source=source or ""))
