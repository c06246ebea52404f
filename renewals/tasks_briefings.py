"""django-q2 entry points of the monthly usage briefings: take ids, call a service, exit if the
row is gone."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_q.tasks import async_task

from org.models import Department
from renewals.selectors.usage import add_months, month_start
from renewals.services import briefings


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
            "renewals.tasks_briefings.department_briefing", pk, month.isoformat(),
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
