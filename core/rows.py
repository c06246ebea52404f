"""Table rows written in Python instead of the template engine (whose per-cell cost was more
than a whole trivial page for 50 rows). Values are escaped and localized as ``{{ value }}``
would do it; tables whose rows come from here use templates/rows_table.html for the rest."""

from __future__ import annotations

import html
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.formats import get_format, localize
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django_tables2.data import TableQuerysetData


def escape(value: Any) -> str:
    # What {{ value }} does to text (django.utils.html.escape is html.escape behind a lazy-string
    # check that cost more than the escaping itself, 800 times a page).
    return html.escape(str(value))


def number_formatter() -> Callable[[Any], str]:
    """A number as {{ value }} shows it: localized, without thousands separators unless the
    settings ask for them (then Django's own localize, value by value)."""
    if settings.USE_THOUSAND_SEPARATOR:
        return lambda value: escape(localize(value))
    separator = escape(get_format("DECIMAL_SEPARATOR"))

    def number(value: Any) -> str:
        if isinstance(value, Decimal):
            return f"{value:f}".replace(".", separator)
        return str(value)

    return number


def url_maker(name: str) -> Callable[[int], str]:
    """reverse(name, args=[pk]) for many pks at the cost of one reverse()."""
    marker = "987654321"
    pattern = escape(reverse(name, args=[int(marker)]))
    return lambda pk: pattern.replace(marker, str(pk))


def empty_row(columns: int, text: Any) -> SafeString:
    return format_html('<tr><td colspan="{}">{}</td></tr>', columns, text or "")


class IdsFirst(TableQuerysetData):
    """A page is read in two steps: the page's ids, sorted and filtered over the bare rows,
    then those rows with everything the page shows (joins and prefetches). PostgreSQL would
    otherwise join all matching rows before sorting them to keep 50."""

    def __getitem__(self, key: Any) -> Any:
        if not isinstance(key, slice):
            return super().__getitem__(key)
        ids = list(self.data.values_list("pk", flat=True)[key])
        rows = self.data.order_by().in_bulk(ids)
        return [rows[pk] for pk in ids]
