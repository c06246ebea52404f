"""django-tables2 columns shared by every app's tables."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.safestring import mark_safe

from core.money import format_money
from core.status import badge_html

RIGHT = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}


class MoneyColumn(tables.Column):
    """An amount: right-aligned (header too), with thousands separators on the page
    ("35,545.00", "—" for nothing); exports keep the plain Decimal (typed in XLSX)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", RIGHT)
        super().__init__(*args, **kwargs)

    def render(self, value: Any) -> str:
        return format_money(value)

    def value(self, value: Any) -> Any:
        return value


class NumberColumn(tables.Column):
    """A count or percentage: right-aligned, header too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", RIGHT)
        super().__init__(*args, **kwargs)


class StatusColumn(tables.Column):
    """A status as a coloured badge with its text (core/status.py); exports get the text."""

    def render(self, record: Any, value: Any) -> str:
        kind = record._meta.model_name
        return mark_safe(badge_html(kind, record.status, record.get_status_display()))  # noqa: S308 - escaped by badge_html

    def value(self, record: Any, value: Any) -> Any:
        return str(record.get_status_display())
