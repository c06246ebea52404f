"""Renewal dates as a calendar: term ends and cancellation deadlines, as a month grid or list on
a page, and as iCal."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from org.scoping import visible_departments
from renewals.inventory.models import Subscription


@dataclass(frozen=True)
class Event:
    day: dt.date
    kind: str  # "term_end" or "cancel_by"
    subscription: Subscription

    @property
    def title(self) -> str:
        name = self.subscription.display_name
        if self.kind == "cancel_by":
            return _("Cancel by: %(name)s (auto-renews)") % {"name": name}
        return _("Term ends: %(name)s") % {"name": name}


def events(
    *, user: Any, start: dt.date, end: dt.date, department_id: int | None = None
) -> list[Event]:
    """Term ends and (auto-renewing) cancellation deadlines in [start, end), by date. One query."""
    subs = Subscription.objects.filter(department__in=visible_departments(user)).exclude(
        status__in=[Subscription.Status.CANCELLED, Subscription.Status.PROPOSED]
    )
    if department_id:
        subs = subs.filter(department_id=department_id)
    subs = subs.filter(
        Q(term_end__gte=start, term_end__lt=end)
        | Q(auto_renew=True, cancellation_deadline__gte=start, cancellation_deadline__lt=end)
    ).select_related("vendor", "department")
    found = []
    for sub in subs:
        if start <= sub.term_end < end:
            found.append(Event(sub.term_end, "term_end", sub))
        if sub.auto_renew and start <= sub.cancellation_deadline < end:
            found.append(Event(sub.cancellation_deadline, "cancel_by", sub))
    return sorted(found, key=lambda e: (e.day, e.kind, e.subscription.ref))


@dataclass
class Day:
    """One cell of the month grid."""

    date: dt.date
    in_month: bool
    is_today: bool
    events: list[Event] = field(default_factory=list)


def grid_range(month: dt.date) -> tuple[dt.date, dt.date]:
    """[first, end) of the weeks (Monday to Sunday, as usual in China) that show ``month``."""
    weeks = pycalendar.Calendar(firstweekday=pycalendar.MONDAY).monthdatescalendar(
        month.year, month.month
    )
    return weeks[0][0], weeks[-1][-1] + dt.timedelta(days=1)


def month_grid(month: dt.date, items: Iterable[Event], *, today: dt.date) -> list[list[Day]]:
    """The weeks showing ``month``, Monday first, each day with its events (those of the days of
    the neighbouring months in the first and last week too)."""
    weeks = pycalendar.Calendar(firstweekday=pycalendar.MONDAY).monthdatescalendar(
        month.year, month.month
    )
    days = {day: Day(day, day.month == month.month, day == today) for week in weeks for day in week}
    for event in items:
        if event.day in days:
            days[event.day].events.append(event)
    return [[days[day] for day in week] for week in weeks]


def weekday_names() -> list[tuple[str, str]]:
    """(short, shortest) names of the days, Monday first, in the current language."""
    return [
        (pgettext("weekday", "Mon"), pgettext("weekday, two letters", "Mo")),
        (pgettext("weekday", "Tue"), pgettext("weekday, two letters", "Tu")),
        (pgettext("weekday", "Wed"), pgettext("weekday, two letters", "We")),
        (pgettext("weekday", "Thu"), pgettext("weekday, two letters", "Th")),
        (pgettext("weekday", "Fri"), pgettext("weekday, two letters", "Fr")),
        (pgettext("weekday", "Sat"), pgettext("weekday, two letters", "Sa")),
        (pgettext("weekday", "Sun"), pgettext("weekday, two letters", "Su")),
    ]


def _escape(text: str) -> str:
    """RFC 5545 TEXT escaping."""
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """RFC 5545 line folding: at most 75 octets a line, continuation lines start with a space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def ical(items: Iterable[Event], *, name: str) -> str:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Renewal Desk//Renewals//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
        f"X-WR-TIMEZONE:{settings.TIME_ZONE}",
    ]
    for event in items:
        sub = event.subscription
        lines += [
            "BEGIN:VEVENT",
            f"UID:{sub.pk}-{event.kind}-{event.day:%Y%m%d}@renewal-desk",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{event.day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{event.day + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(event.title)}",
            f"DESCRIPTION:{_escape(f'{sub.ref} · {sub.department.name}')}",
            f"URL:{settings.SITE_URL}{sub.get_absolute_url()}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
