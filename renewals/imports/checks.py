"""Checking staged rows in SQL, and the typed sample rows of the preview.

All functions take a DB-API cursor inside the caller's transaction; the staging table
``import_stage`` (see reader.load_stage) disappears when that transaction ends. The checked rows
are written by engine.apply_rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from renewals.imports.reader import Header
from renewals.imports.specs import ImportSpec, render

MAX_ERRORS_KEPT = 500


@dataclass(frozen=True)
class CheckResult:
    total_rows: int
    error_count: int
    errors: list[dict[str, Any]]  # {"line", "column", "code", "value"}; line = spreadsheet row


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def check_rows(
    cursor: Any,
    *,
    spec: ImportSpec,
    header: Header,
    depts: list[int],
    base: str,
    content: bool = True,
) -> CheckResult:
    """Every error of every row, in one pass per kind of check (no per-row round trips).

    ``content=False`` leaves out what depends only on the file (cell formats, repeated keys) and
    runs only the checks against the database: for a commit of the very file whose preview
    already passed those, they could only find the same nothing again.
    """
    parts = _content_checks(spec, header) if content else []
    for check in spec.checks:
        if check.column not in header.present or any(n not in header.present for n in check.needs):
            continue
        if check.query:
            parts.append(
                f"SELECT q.line, {_sql_text(check.column)}, {_sql_text(check.code)}, q.val, 1 "
                f"FROM ({render(spec, check.query, header)}) q(line, val)"
            )
            continue
        cell = spec.cell(check.column)
        where = render(spec, check.where, header)
        parts.append(
            f"SELECT s.line, {_sql_text(check.column)}, {_sql_text(check.code)}, left({cell}, 100), 1 "
            f"FROM import_stage s WHERE {cell} IS NOT NULL AND ({where})"
        )
    if not parts:
        parts.append("SELECT NULL::bigint, NULL::text, NULL::text, NULL::text, 0 WHERE false")
    cursor.execute(
        "CREATE TEMPORARY TABLE import_errors ON COMMIT DROP AS "
        "SELECT DISTINCT ON (line, col) line, col, code, val FROM ("
        + " UNION ALL ".join(parts)
        + ") e(line, col, code, val, prio) ORDER BY line, col, prio",
        {"depts": depts, "base": base},
    )
    cursor.execute(
        "SELECT (SELECT count(*) FROM import_stage), (SELECT count(*) FROM import_errors)"
    )
    total, error_count = cursor.fetchone()
    cursor.execute(
        "SELECT line, col, code, val FROM import_errors ORDER BY line, col LIMIT %s",
        [MAX_ERRORS_KEPT],
    )
    errors = [
        {"line": line + 1, "column": col, "code": code, "value": val}
        for line, col, code, val in cursor.fetchall()
    ]
    cursor.execute("DROP TABLE import_errors")
    return CheckResult(total_rows=total, error_count=error_count, errors=errors)


def _content_checks(spec: ImportSpec, header: Header) -> list[str]:
    """SELECTs of the errors that depend on the file alone: cell formats and repeated keys."""
    present = [col for col in spec.columns if col.name in header.present]
    # One pass over the staged rows computes an error code (or NULL) per cell, on cells trimmed
    # once (OFFSET 0 keeps PostgreSQL from recomputing them in every test); only rows with an
    # error are then unfolded into one row per error.
    trimmed = ", ".join(f"{col.cell} AS t{i}" for i, col in enumerate(present))
    codes, unfold, any_error = [], [], []
    for i, col in enumerate(present):
        cell = f"t.t{i}"
        accept = col.fast_accept(cell)
        whens = (f"WHEN {accept} THEN NULL " if accept else "") + " ".join(
            f"WHEN {cond} THEN {_sql_text(code)}" for code, cond in col.checks(cell)
        )
        empty = _sql_text("required") if col.required else "NULL"
        codes.append(f"CASE WHEN {cell} IS NULL THEN {empty} {whens} END AS e{i}, {cell} AS v{i}")
        unfold.append(f"({_sql_text(col.name)}, c.e{i}, left(c.v{i}, 100), 0)")
        any_error.append(f"c.e{i} IS NOT NULL")
    parts = [
        "SELECT c.line, v.col, v.code, v.val, v.prio FROM (SELECT t.line, "
        + ", ".join(codes)
        + f" FROM (SELECT s.line, {trimmed} FROM import_stage s OFFSET 0) t OFFSET 0) c "
        f"CROSS JOIN LATERAL (VALUES {', '.join(unfold)}) v(col, code, val, prio) "
        f"WHERE ({' OR '.join(any_error)}) AND v.code IS NOT NULL"
    ]
    # Duplicate natural keys: group (a hash aggregate), then find the rows of repeated keys.
    keys = [
        f"coalesce({spec.cell(name)}, '')" if name in header.present else "''" for name in spec.key
    ]
    parts.append(
        f"SELECT s.line, {_sql_text(spec.key[-1])}, 'duplicate_row', NULL, 2 FROM import_stage s "
        f"JOIN (SELECT {', '.join(f'{k} AS k{i}' for i, k in enumerate(keys))} FROM import_stage s "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))} HAVING count(*) > 1) d ON "
        + " AND ".join(f"d.k{i} = {k}" for i, k in enumerate(keys))
    )
    return parts


def sample_rows(
    cursor: Any, *, spec: ImportSpec, header: Header, limit: int = 10
) -> list[dict[str, Any]]:
    """The first rows as they will be read (typed), for the preview."""
    present = [col for col in spec.columns if col.name in header.present]
    # The first lines are picked before anything is computed: typing every row only to keep ten
    # cost half a second on a million-row file.
    cursor.execute(
        f"SELECT {', '.join(col.cell for col in present)} FROM "
        "(SELECT * FROM import_stage ORDER BY line LIMIT %s) s ORDER BY line",
        [limit],
    )
    return [dict(zip([col.name for col in present], row, strict=True)) for row in cursor.fetchall()]
