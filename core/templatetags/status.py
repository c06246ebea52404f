"""``{% load status %}{% status_badge object %}``: the object's status as a coloured badge
with its text (core/status.py). ``{% status_badge object "extra classes" testid="x" %}`` adds
classes and a data-testid."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from core.status import badge_class

register = template.Library()


@register.simple_tag
def status_badge(obj: Any, extra: str = "", testid: str = "") -> str:
    value = str(getattr(obj, "status", ""))
    label = obj.get_status_display() if hasattr(obj, "get_status_display") else value
    classes = f"badge {badge_class(obj._meta.model_name, value)} {extra}".strip()
    return format_html(
        '<span class="{}" data-status="{}" data-testid="{}">{}</span>',
        classes,
        value,
        testid,
        label,
    )
