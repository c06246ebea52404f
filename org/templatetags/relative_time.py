"""Relative times for templates: "刚刚" / "just now" under a minute, never "0 分钟 前"."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

register = template.Library()

JUST_NOW = dt.timedelta(minutes=1)


@register.filter
def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago `value` was, in the current language: "just now" under a minute (and for a
    moment slightly in the future, a clock skew between processes), else "5 minutes ago"."""
    if not value:
        return ""
    now = now or timezone.now()
    if now - value < JUST_NOW:
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(value, now)}
