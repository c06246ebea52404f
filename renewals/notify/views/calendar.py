"""The renewal calendar (month grid or list) and each user's secret, revocable iCal feed."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.filtersets import NOT_AVAILABLE
from org.models import Department
from org.permissions import role_required, signed_in_user
from org.roles import DIRECTORY_ROLES
from org.scoping import managed_departments, visible_departments
from renewals.notify import calendar as cal
from renewals.notify.models import CalendarFeed
from renewals.notify.services import notifications as notification_service
from renewals.usage.selectors import add_months


def _month(value: str | None) -> dt.date:
    try:
        return dt.datetime.strptime(value or "", "%Y-%m").date()  # noqa: DTZ007 - a month, no time
    except ValueError:
        return timezone.localdate().replace(day=1)


def _department(
    request: HttpRequest, departments: list[Department]
) -> tuple[int | None, list[str]]:
    """?department=: one of the user's departments, or all of them with the list pages' error
    (another department's id is refused exactly like one that does not exist)."""
    field = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", ""), *((d.pk, d.name) for d in departments)],
        error_messages=NOT_AVAILABLE,
    )
    try:
        return field.clean(request.GET.get("department", "")), []
    except ValidationError as error:
        return None, list(error.messages)


@require_GET
@role_required(*DIRECTORY_ROLES)
def calendar_month(request: HttpRequest) -> HttpResponse:
    month = _month(request.GET.get("month"))
    departments = list(visible_departments(request.user).order_by("code"))
    department_id, department_errors = _department(request, departments)
    # The grid, or the list (?view=list, kept by every link of the page).
    view = "list" if request.GET.get("view") == "list" else "grid"
    today = timezone.localdate()
    first, end = cal.grid_range(month)
    # One query for the whole grid (the neighbouring months' days of the first and last week).
    shown = cal.events(user=request.user, start=first, end=end, department_id=department_id)
    events = [e for e in shown if month <= e.day < add_months(month, 1)]
    feed = CalendarFeed.objects.filter(user=signed_in_user(request)).first()
    feed_url = (
        request.build_absolute_uri(reverse("renewals:calendar-feed", args=[feed.token]))
        if feed
        else ""
    )
    return render(
        request,
        "renewals/notify/calendar.html",
        {
            "month": month,
            "previous": add_months(month, -1),
            "next": add_months(month, 1),
            "events": events,
            "view": view,
            "weeks": cal.month_grid(month, shown, today=today) if view == "grid" else [],
            "weekdays": cal.weekday_names(),
            "today": today,
            "departments": departments,
            "department_id": department_id,
            "department_errors": department_errors,
            "feed_url": feed_url,
            # "Renewal request ›" only where the user may start one (no link to a 403).
            "may_renew": set(managed_departments(request.user).values_list("pk", flat=True)),
        },
    )


@require_POST
@role_required(*DIRECTORY_ROLES)
def calendar_feed_reset(request: HttpRequest) -> HttpResponse:
    """Create the user's feed address, or replace it (the old address stops working at once)."""
    notification_service.calendar_feed_reset(user=signed_in_user(request))
    return redirect("renewals:calendar")


@require_POST
@role_required(*DIRECTORY_ROLES)
def calendar_feed_revoke(request: HttpRequest) -> HttpResponse:
    notification_service.calendar_feed_revoke(user=signed_in_user(request))
    return redirect("renewals:calendar")


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """iCal for calendar apps: no session, the secret token is the credential; shows what its
    owner may see, from a month ago to 13 months ahead."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404
    today = timezone.localdate()
    events = cal.events(
        user=feed.user, start=today - dt.timedelta(days=31), end=add_months(today, 13)
    )
    response = HttpResponse(
        cal.ical(events, name="Renewal Desk"), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="renewals.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response
