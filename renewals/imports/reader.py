"""Reading an uploaded file: what it is, how it is encoded, which columns it has, and streaming
its rows into a staging table with COPY. Nothing here trusts the file: type by content, sizes
and zip expansion bounded, every problem a FileProblem with a translatable message."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

from renewals.imports.columns import Column, normalise_header

# An XLSX is a zip of XML; a real one expands maybe 5-30 times. These bounds stop zip bombs
# before openpyxl inflates anything.
XLSX_MAX_EXPANDED_BYTES = 400 * 1024 * 1024
XLSX_MAX_RATIO = 200
COPY_CHUNK = 1024 * 1024


class FileProblem(Exception):
    """The file as a whole cannot be imported. ``message`` is the untranslated text (stored as
    is, so that each reader sees it in their own language); ``text()`` translates it now."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def text(self) -> str:
        return translate(self.message, self.params)


def translate(message: str, params: dict[str, Any]) -> str:
    """A stored untranslated message, in the current language."""
    text = gettext(message)
    return text % params if params else text


@dataclass(frozen=True)
class Header:
    """The file's columns mapped onto a spec: position -> Column (None for ignored columns)."""

    columns: list[Column | None]

    @property
    def present(self) -> set[str]:
        return {c.name for c in self.columns if c is not None}

    def stage_columns(self) -> list[str]:
        return [c.stage if c else f"ignored_{i}" for i, c in enumerate(self.columns)]


def sniff_format(head: bytes) -> str:
    """'xlsx' or 'csv' from the first bytes; anything else is refused."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(_("This is an old Excel 97-2003 file (.xls). Save it as .xlsx or CSV."))
    if b"\x00" in head or head.startswith(
        (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b")
    ):
        raise FileProblem(_("This is not a CSV or XLSX file."))
    if not head.strip():
        raise FileProblem(_("The file is empty."))
    return "csv"


def decode_csv(raw: bytes) -> str:
    """UTF-8 (with or without BOM) or GBK/GB18030 (what Chinese Excel saves as CSV)."""
    if b"\x00" in raw:
        raise FileProblem(_("This is not a CSV or XLSX file."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem(_("The file's text encoding is not recognised; save it as UTF-8 CSV."))


def map_header(cells: list[str], spec_columns: list[Column]) -> Header:
    """Match the file's header to the spec, whatever the order and case; refuse duplicates and
    missing required columns."""
    lookup: dict[str, Column] = {}
    for column in spec_columns:
        for name in (column.name, *column.aliases):
            lookup[normalise_header(name)] = column
    mapped: list[Column | None] = []
    seen: dict[str, str] = {}
    for raw in cells:
        found = lookup.get(normalise_header(raw or ""))
        if found is not None:
            if found.name in seen:
                raise FileProblem(
                    _("The column “%(column)s” appears twice (as “%(first)s” and “%(second)s”)."),
                    column=found.name,
                    first=seen[found.name],
                    second=raw,
                )
            seen[found.name] = raw
        mapped.append(found)
    missing = [c.name for c in spec_columns if c.required and c.name not in seen]
    if missing:
        raise FileProblem(
            _(
                "Required columns are missing: %(columns)s. The first row must hold the column names."
            ),
            columns=", ".join(missing),
        )
    return Header(mapped)


def csv_header(text: str) -> list[str]:
    import csv

    first = next(csv.reader(io.StringIO(text[: 64 * 1024])), None)
    if not first:
        raise FileProblem(_("The file is empty."))
    return first


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                raise FileProblem(_("This is not a CSV or XLSX file."))
            expanded = sum(i.file_size for i in infos)
            if expanded > XLSX_MAX_EXPANDED_BYTES:
                raise FileProblem(_("The workbook expands to more data than allowed."))
            for info in infos:
                if info.compress_size and info.file_size / info.compress_size > XLSX_MAX_RATIO:
                    raise FileProblem(
                        _("The workbook is compressed suspiciously well (a zip bomb?).")
                    )
    except zipfile.BadZipFile as exc:
        raise FileProblem(_("The XLSX file is damaged.")) from exc


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # Excel stores every number as a float; 12.0 is the whole number 12, 12.34 stays exact
        # (repr gives the shortest decimal that round-trips).
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    return str(value)


def xlsx_rows(path: Path) -> Iterator[list[str | None]]:
    """Rows of the first worksheet as text, formulas kept as their "=..." text (then refused)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    _check_zip(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, KeyError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise FileProblem(_("The XLSX file is damaged.")) from exc
    try:
        sheet = workbook.worksheets[0]
        started = False
        for row in sheet.iter_rows(values_only=True):
            cells = [_cell_text(v) for v in row]
            # Blank rows before the header are skipped; later ones are kept (their numbers are
            # the spreadsheet's row numbers) and dropped from the staging table.
            started = started or any(c not in (None, "") for c in cells)
            if started:
                yield cells
    finally:
        workbook.close()


def load_stage(
    cursor: Any,
    *,
    path: Path,
    file_format: str,
    spec_columns: list[Column],
    progress: Callable[[float], None] | None = None,
) -> Header:
    """Create the temporary staging table and COPY every data row of the file into it."""
    if file_format == "csv":
        text = decode_csv(path.read_bytes())
        header = map_header(csv_header(text), spec_columns)
        body_start = _after_first_record(text)
        _create_stage(cursor, header)
        columns = ", ".join(header.stage_columns())
        body = _blank_records_emptied(text[body_start:], len(header.columns))
        with cursor.copy(f"COPY import_stage ({columns}) FROM STDIN (FORMAT csv)") as copy:
            for start in range(0, len(body), COPY_CHUNK):
                copy.write(body[start : start + COPY_CHUNK])
                if progress:
                    progress(min(1.0, (start + COPY_CHUNK) / max(len(body), 1)))
        _drop_blank_rows(cursor, header)
        cursor.execute("ANALYZE import_stage")  # the checks' join plans need the row count
        return header
    rows = xlsx_rows(path)
    first = next(rows, None)
    if first is None:
        raise FileProblem(_("The file is empty."))
    header = map_header([c or "" for c in first], spec_columns)
    _create_stage(cursor, header)
    width = len(header.columns)
    columns = ", ".join(header.stage_columns())
    with cursor.copy(f"COPY import_stage ({columns}) FROM STDIN") as copy:
        for cells in rows:
            if len(cells) > width:
                if any(c not in (None, "") for c in cells[width:]):
                    raise FileProblem(_("A row has more values than there are column names."))
                cells = cells[:width]
            copy.write_row(cells + [None] * (width - len(cells)))
    _drop_blank_rows(cursor, header)
    cursor.execute("ANALYZE import_stage")
    return header


# A line holding nothing but spaces or tabs (outside quotes): COPY refuses it in a file of more
# than one column ("missing data for column").
_BLANK_LINE = re.compile(r"(?:\A|\n)[ \t\u3000]*\r?(?:\n|\Z)")


def _blank_records_emptied(body: str, width: int) -> str:
    """The CSV body with every blank line outside quoted values replaced by a row of empty cells
    (dropped after COPY by _drop_blank_rows, so later rows keep their numbers). Files without
    blank lines, the usual case, are returned as they are without a pass in Python."""
    if not _BLANK_LINE.search(body.removesuffix("\n").removesuffix("\r")):
        return body
    lines = body.split("\n")
    last = len(lines) - 1  # after the final newline: nothing, not a row
    in_quotes = False
    empty = "," * (width - 1)
    for i, line in enumerate(lines):
        if not in_quotes and i < last and not line.strip(" \t\u3000\r"):
            lines[i] = empty
        elif line.count('"') % 2:  # "" inside a quoted value counts twice: parity is enough
            in_quotes = not in_quotes
    if not in_quotes and lines[last].strip(" \t\u3000\r") == "":
        lines[last] = ""
    return "\n".join(lines)


def _drop_blank_rows(cursor: Any, header: Header) -> None:
    """Rows whose every cell is empty or white space are no data: a blank line or a row of
    empty cells, anywhere in the file (the numbers of the other rows are kept)."""
    # btrim with a set of characters, not a regular expression: one cheap test per ordinary row
    # (AND stops at its first non-blank cell). Spaces, tab, newlines, no-break and ideographic space.
    spaces = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(160) || chr(12288)"
    blank = " AND ".join(
        f"coalesce(btrim({name}, {spaces}), '') = ''" for name in header.stage_columns()
    )
    cursor.execute(f"DELETE FROM import_stage WHERE {blank}")


def _after_first_record(text: str) -> int:
    """Offset just past the header record (which may itself contain quoted newlines)."""
    in_quotes = False
    for i, ch in enumerate(text):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == "\n" and not in_quotes:
            return i + 1
    return len(text)


def _create_stage(cursor: Any, header: Header) -> None:
    columns = ", ".join(f"{name} text" for name in header.stage_columns())
    # Normally gone with the previous transaction; not when that was a savepoint of a longer one.
    cursor.execute("DROP TABLE IF EXISTS import_stage")
    cursor.execute(
        "CREATE TEMPORARY TABLE import_stage "
        f"(line bigint GENERATED ALWAYS AS IDENTITY, {columns}) ON COMMIT DROP"
    )
