"""Demo: last month's usage briefings, rendered as PDFs in both languages for every department
with a head, so the briefing list has stored files to download from the start. Runs in the
seed_demo command (not a web request); idempotent: stored briefings are left as they are."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from org.models import Department
from renewals.reports.models import Briefing
from renewals.reports.services.briefings import briefing_render, briefing_request
from renewals.usage.selectors import add_months, month_start


def render_last_month(*, today: dt.date | None = None) -> str:
    """Render the briefings of the month before ``today``; returns a one-line summary."""
    today = today or timezone.localdate()
    month = add_months(month_start(today), -1)
    made = failed = 0
    departments = Department.objects.filter(is_active=True, heads__isnull=False).distinct()
    for department in departments.order_by("code"):
        for language, _name in settings.LANGUAGES:
            briefing = briefing_request(
                user=None, department=department, month=month, language=language, enqueue=False
            )
            if briefing.status == Briefing.Status.READY:
                continue
            rendered = briefing_render(briefing_id=briefing.pk, today=today)
            if rendered is not None and rendered.status == Briefing.Status.READY:
                made += 1
            else:
                failed += 1
    return f"{made} rendered for {month:%Y-%m}, {failed} failed"
