"""Renewal dates as a calendar: term ends and cancellation deadlines, on a page and as iCal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from org.scoping import visible_departments
from renewals.models import Subscription


@dataclass(frozen=True)
class Event:
    day: dt.date
    kind: str  # "term_end" or "cancel_by"
    subscription: Subscription

    @property
    def title(self) -> str:
        name = f"{self.subscription.vendor.name} {self.subscription.product}"
        if self.kind == "cancel_by":
            return _("Cancel by: %(name)s (auto-renews)") % {"name": name}
        return _("Term ends: %(name)s") % {"name": name}


def events(
    *, user: Any, start: dt.date, end: dt.date, department_id: int | None = None
) -> list[Event]:
    """Term ends and (auto-renewing) cancellation deadlines in [start, end), by date. One query."""
    subs = Subscription.objects.filter(department__in=visible_departments(user)).exclude(
        status=Subscription.Status.CANCELLED
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
