"""CSV/XLSX exports from django-tables2 tables, safe to open in Excel/WPS."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django_tables2.export import TableExport

# A cell starting with one of these is run as a formula by spreadsheet programs
# (=HYPERLINK(...), +cmd|..., -2+3, @SUM(...)); tab and CR start DDE tricks.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\x00")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would execute is prefixed with ' (shown, never run). Numbers,
    dates and None stay typed."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeTableExport(TableExport):
    """TableExport whose every text cell goes through ``neutralise``; CSV gets a UTF-8 BOM so
    Excel on Chinese Windows reads the characters right."""

    def table_to_dataset(self, table: Any, exclude_columns: Any, dataset_kwargs: Any = None) -> Any:
        dataset = super().table_to_dataset(table, exclude_columns, dataset_kwargs)
        for index, row in enumerate(list(dataset)):
            dataset[index] = tuple(neutralise(v) for v in row)
        dataset.headers = [neutralise(str(h)) for h in dataset.headers]
        return dataset

    def export(self) -> Any:
        data = super().export()
        if self.format == self.CSV:
            return "\ufeff" + data
        return data

    def response(self, filename: str | None = None) -> HttpResponse:
        from django.utils.http import content_disposition_header

        response = HttpResponse(content_type=self.content_type())
        if filename is not None:
            response["Content-Disposition"] = content_disposition_header(True, filename)
        response.write(self.export())
        return response
