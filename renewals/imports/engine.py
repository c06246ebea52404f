"""Checking staged rows in SQL and writing them with set-based upserts.

All functions take a DB-API cursor inside the caller's transaction; the staging table
``import_stage`` (see reader.load_stage) disappears when that transaction ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from renewals.imports.reader import Header
from renewals.imports.specs import ImportSpec, department_matches, render

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


def _counted(cursor: Any, sql: str, params: dict[str, Any], total: int) -> dict[str, int]:
    """Run an INSERT … ON CONFLICT … RETURNING (xmax = 0) and count created/updated/unchanged."""
    cursor.execute(
        f"WITH w AS ({sql} RETURNING (xmax = 0) AS created) "
        "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM w",
        params,
    )
    created, updated = cursor.fetchone()
    return {"created": created, "updated": updated, "unchanged": total - created - updated}


def _set_changed(table: str, columns: list[str]) -> str:
    """SET a = EXCLUDED.a, … WHERE (table.a, …) IS DISTINCT FROM (EXCLUDED.a, …)."""
    sets = ", ".join(f"{col} = EXCLUDED.{col}" for col in columns)
    old = ", ".join(f"{table}.{col}" for col in columns)
    new = ", ".join(f"EXCLUDED.{col}" for col in columns)
    return f"{sets} WHERE ({old}) IS DISTINCT FROM ({new})"


def apply_rows(
    cursor: Any, *, spec: ImportSpec, header: Header, total: int, base: str
) -> dict[str, int]:
    """Write the checked rows; returns counts of created, updated and unchanged records."""
    v: dict[str, str] = {
        col.name: col.value() for col in spec.columns if col.name in header.present
    }
    has = header.present
    params = {"base": base}

    def pick(name: str, existing: str, default: str) -> str:
        # An optional column missing from the file, or an empty cell, keeps what is stored
        # (or takes the default for a new record).
        if name in has:
            return f"coalesce({v[name]}, {existing}, {default})"
        return f"coalesce({existing}, {default})"

    if spec.kind == "usage":
        return _apply_usage(cursor, spec=spec, header=header, v=v, total=total)

    if spec.kind == "people":
        if "status" in has:
            status = v["status"]
        elif "left_on" in has:  # an HR export without a status column: a leaving date means left
            status = f"CASE WHEN {v['left_on']} IS NOT NULL THEN 'left' ELSE 'active' END"
        else:
            status = "coalesce(p.status, 'active')"
        left_on = f"CASE WHEN ({status}) = 'left' THEN {v.get('left_on', 'p.left_on')} END"
        sql = (
            "INSERT INTO org_person AS target (employee_no, name, email, department_id, status, left_on, "
            "created_at, updated_at) "
            f"SELECT {v['employee_no']}, {v['name']}, coalesce({v.get('email', 'p.email')}, ''), d.id, "
            f"{status}, {left_on}, now(), now() FROM import_stage s "
            f"JOIN org_department d ON {department_matches('d', v['department'])} "
            f"LEFT JOIN org_person p ON p.employee_no = {v['employee_no']} "
            "ON CONFLICT (employee_no) DO UPDATE SET updated_at = now(), "
            + _set_changed("target", ["name", "email", "department_id", "status", "left_on"])
        )
        return _counted(cursor, sql, params, total)

    if spec.kind == "subscriptions":
        cursor.execute(
            "INSERT INTO renewals_vendor (name, website, contacts, notes, created_at) "
            f"SELECT DISTINCT {v['vendor']}, '', '', '', now() FROM import_stage s "
            "ON CONFLICT (name) DO NOTHING"
        )
        tags = (
            f"coalesce(array_remove(regexp_split_to_array({v['tags']}, '\\s*[;,；，]\\s*'), ''), '{{}}')"
            if "tags" in has
            else "coalesce(x.tags, '{}')"
        )
        sql = (
            "INSERT INTO renewals_subscription AS target (ref, vendor_id, product, edition, department_id, "
            "owner_id, seats_purchased, unit_price, currency, billing_cycle, term_start, term_end, "
            "auto_renew, notice_period_days, status, tags, notes, alert_thresholds, created_at, updated_at) "
            f"SELECT {v['ref']}, vd.id, {v['product']}, {pick('edition', 'x.edition', chr(39) * 2)}, d.id, "
            f"{'u.id' if 'owner' in has else 'x.owner_id'}, {v['seats']}, {v['unit_price']}, "
            f"{pick('currency', 'x.currency', '%(base)s')}, {pick('billing_cycle', 'x.billing_cycle', chr(39) + 'annual' + chr(39))}, "
            f"{v['term_start']}, {v['term_end']}, {pick('auto_renew', 'x.auto_renew', 'false')}, "
            f"{pick('notice_period_days', 'x.notice_period_days', '30')}, "
            f"{pick('status', 'x.status', chr(39) + 'active' + chr(39))}, {tags}, "
            f"{pick('notes', 'x.notes', chr(39) * 2)}, coalesce(x.alert_thresholds, '{{}}'), now(), now() "
            f"FROM import_stage s JOIN renewals_vendor vd ON vd.name = {v['vendor']} "
            f"JOIN org_department d ON {department_matches('d', v['department'])} "
            f"LEFT JOIN renewals_subscription x ON x.ref = {v['ref']} "
            + (f"LEFT JOIN org_user u ON u.username = {v['owner']} " if "owner" in has else "")
            + "ON CONFLICT (ref) DO UPDATE SET updated_at = now(), "
            + _set_changed(
                "target",
                [
                    "vendor_id",
                    "product",
                    "edition",
                    "department_id",
                    "owner_id",
                    "seats_purchased",
                    "unit_price",
                    "currency",
                    "billing_cycle",
                    "term_start",
                    "term_end",
                    "auto_renew",
                    "notice_period_days",
                    "status",
                    "tags",
                    "notes",
                ],
            )
        )
        counts = _counted(cursor, sql, params, total)
        if "modules" in has:
            counts["modules_changed"] = _upsert_modules(cursor, v)
        return counts

    if spec.kind == "seats":
        sql = (
            "INSERT INTO renewals_seat AS target (subscription_id, person_id, account, assigned_on, "
            "revoked_on, last_active_on) "
            f"SELECT x.id, p.id, {pick('account', 'st.account', chr(39) * 2)}, {v['assigned_on']}, "
            f"{v['revoked_on'] if 'revoked_on' in has else 'st.revoked_on'}, "
            f"{v['last_active_on'] if 'last_active_on' in has else 'st.last_active_on'} "
            f"FROM import_stage s JOIN renewals_subscription x ON x.ref = {v['subscription']} "
            f"JOIN org_person p ON p.employee_no = {v['employee_no']} "
            "LEFT JOIN renewals_seat st ON st.subscription_id = x.id AND st.person_id = p.id "
            f"AND st.assigned_on = {v['assigned_on']} "
            "ON CONFLICT ON CONSTRAINT seat_unique_assignment DO UPDATE SET "
            + _set_changed("target", ["account", "revoked_on", "last_active_on"])
        )
        counts = _counted(cursor, sql, params, total)
        if "modules" in has:
            counts["modules_changed"] = _sync_seat_modules(cursor, v)
        return counts

    if spec.kind == "activity":
        seat_match = render(spec, "{seat_match}", header).replace(
            "SELECT st.id", "SELECT st.id, s.line", 1
        )
        cursor.execute(
            f"WITH w AS (UPDATE renewals_seat target SET last_active_on = m.day FROM ("
            f"SELECT DISTINCT ON (st.id) st.id, {v['last_active_on']} AS day FROM import_stage s "
            f"JOIN LATERAL ({seat_match}) st ON true ORDER BY st.id, {v['last_active_on']} DESC"
            ") m WHERE target.id = m.id AND target.last_active_on IS DISTINCT FROM m.day RETURNING 1) "
            "SELECT count(*) FROM w"
        )
        (updated,) = cursor.fetchone()
        return {"created": 0, "updated": updated, "unchanged": total - updated}

    raise ValueError(f"unknown import kind {spec.kind}")


def _apply_usage(
    cursor: Any, *, spec: ImportSpec, header: Header, v: dict[str, str], total: int
) -> dict[str, int]:
    """Usage files run to millions of rows: UPDATE the changed rows and INSERT the new ones as two
    set operations (much faster than INSERT … ON CONFLICT, which inserts speculatively row by row
    and locks every conflicting row even when nothing changes), holding a lock that keeps other
    writers of usage out until the import commits."""
    cursor.execute("LOCK TABLE renewals_monthlyusage IN SHARE ROW EXCLUSIVE MODE")
    module = spec.cell("module") if "module" in header.present else "NULL"
    # Each row typed once (OFFSET 0: the month is not parsed again for the join) with the id of
    # the usage row it updates, if any, and whether that one differs. Matching happens here,
    # before anything is written: a NOT EXISTS inside the INSERT would rescan the growing table.
    cursor.execute(
        "CREATE TEMPORARY TABLE import_rows ON COMMIT DROP AS "
        "SELECT u.id AS existing, t.sid, t.mid, t.month, t.active, t.created, t.completed, "
        "(u.active_users, u.tasks_created, u.tasks_completed) IS DISTINCT FROM "
        "(t.active, t.created, t.completed) AS changed FROM ("
        f"SELECT x.id AS sid, mo.id AS mid, {v['month']} AS month, "
        f"({v['active_users']})::integer AS active, "
        f"({v.get('tasks_created', 'NULL')})::integer AS created, "
        f"({v.get('tasks_completed', 'NULL')})::integer AS completed "
        f"FROM import_stage s JOIN renewals_subscription x ON x.ref = {spec.cell('subscription')} "
        f"LEFT JOIN renewals_module mo ON mo.subscription_id = x.id AND mo.name = {module} "
        "OFFSET 0) t LEFT JOIN renewals_monthlyusage u ON u.subscription_id = t.sid "
        "AND coalesce(u.module_id, 0) = coalesce(t.mid, 0) AND u.month = t.month"
    )
    # Only the rows that differ are joined back (none, for a file imported before).
    cursor.execute(
        "UPDATE renewals_monthlyusage u SET active_users = r.active, tasks_created = r.created, "
        "tasks_completed = r.completed FROM import_rows r WHERE r.existing IS NOT NULL AND r.changed "
        "AND u.id = r.existing"
    )
    updated = cursor.rowcount
    # New rows go in in the order of the unique index (subscription, module, month), so that
    # its pages are filled one after another instead of all being touched again for every
    # month of the file: a third less time on a million rows.
    insert = (
        "INSERT INTO renewals_monthlyusage (subscription_id, module_id, month, active_users, "
        "tasks_created, tasks_completed) SELECT r.sid, r.mid, r.month, r.active, r.created, r.completed "
        "FROM import_rows r WHERE r.existing IS NULL ORDER BY r.sid, r.mid, r.month"
    )
    if _references_held(cursor):
        # Every new row refers to a subscription and module that the join above found and that
        # are now locked against deletion until commit: exactly what the foreign-key triggers
        # would check and lock again, one row at a time, at commit (about 3.5 s a million
        # rows). Where the database role may, the INSERT skips those triggers; the constraints
        # stay and every other statement keeps them.
        cursor.execute("SELECT current_setting('session_replication_role')")
        (role,) = cursor.fetchone()
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(insert)
        created = cursor.rowcount
        cursor.execute("SELECT set_config('session_replication_role', %s, true)", [role])
    else:
        cursor.execute(insert)
        created = cursor.rowcount
    cursor.execute("DROP TABLE import_rows")
    return {"created": created, "updated": updated, "unchanged": total - created - updated}


def _references_held(cursor: Any) -> bool:
    """For the new rows in import_rows: may this role skip the foreign-key triggers (PostgreSQL 15+:
    a superuser, or ``GRANT SET ON PARAMETER session_replication_role``), and are the referenced
    subscriptions and modules all still there, now locked FOR KEY SHARE as the triggers would?"""
    cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
    if not cursor.fetchone()[0]:
        return False
    cursor.execute(
        "WITH wanted AS MATERIALIZED (SELECT DISTINCT r.sid, r.mid FROM import_rows r "
        "WHERE r.existing IS NULL) SELECT "
        "(SELECT count(*) FROM (SELECT 1 FROM renewals_subscription x "
        "WHERE x.id IN (SELECT w.sid FROM wanted w) FOR KEY SHARE) l), "
        "(SELECT count(*) FROM (SELECT 1 FROM renewals_module mo "
        "WHERE mo.id IN (SELECT w.mid FROM wanted w) FOR KEY SHARE) l), "
        "(SELECT count(DISTINCT w.sid) FROM wanted w), (SELECT count(DISTINCT w.mid) FROM wanted w)"
    )
    subscriptions, modules, wanted_subscriptions, wanted_modules = cursor.fetchone()
    # A subscription or module deleted since the join is not locked (and the triggers would
    # refuse the rows): leave it to them.
    return bool(subscriptions == wanted_subscriptions and modules == wanted_modules)


def _upsert_modules(cursor: Any, v: dict[str, str]) -> int:
    """Add the listed modules of each subscription and update their prices (never removes)."""
    cursor.execute(
        "WITH w AS (INSERT INTO renewals_module AS target (subscription_id, name, unit_price) "
        "SELECT DISTINCT ON (x.id, btrim(split_part(m.item, '=', 1))) x.id, btrim(split_part(m.item, '=', 1)), "
        "nullif(btrim(split_part(m.item, '=', 2)), '')::numeric FROM import_stage s "
        f"JOIN renewals_subscription x ON x.ref = {v['ref']} "
        rf"JOIN LATERAL regexp_split_to_table(coalesce({v['modules']}, ''), '\s*[;；]\s*') m(item) "
        "ON btrim(m.item) <> '' "
        "ON CONFLICT (subscription_id, name) DO UPDATE SET "
        + _set_changed("target", ["unit_price"])
        + " RETURNING 1) SELECT count(*) FROM w"
    )
    (changed,) = cursor.fetchone()
    return int(changed)


def _sync_seat_modules(cursor: Any, v: dict[str, str]) -> int:
    """Make each seat's modules exactly those listed in its row."""
    wanted = (
        "SELECT st.id AS seat_id, mo.id AS module_id FROM import_stage s "
        f"JOIN renewals_subscription x ON x.ref = {v['subscription']} "
        f"JOIN org_person p ON p.employee_no = {v['employee_no']} "
        f"JOIN renewals_seat st ON st.subscription_id = x.id AND st.person_id = p.id AND st.assigned_on = {v['assigned_on']} "
        f"JOIN LATERAL regexp_split_to_table(coalesce({v['modules']}, ''), '\\s*[;,；，]\\s*') m(name) ON btrim(m.name) <> '' "
        "JOIN renewals_module mo ON mo.subscription_id = x.id AND mo.name = btrim(m.name)"
    )
    seats = (
        "SELECT st.id FROM import_stage s "
        f"JOIN renewals_subscription x ON x.ref = {v['subscription']} "
        f"JOIN org_person p ON p.employee_no = {v['employee_no']} "
        f"JOIN renewals_seat st ON st.subscription_id = x.id AND st.person_id = p.id AND st.assigned_on = {v['assigned_on']}"
    )
    cursor.execute(
        f"WITH d AS (DELETE FROM renewals_seat_modules sm WHERE sm.seat_id IN ({seats}) "
        f"AND (sm.seat_id, sm.module_id) NOT IN ({wanted}) RETURNING 1) SELECT count(*) FROM d"
    )
    (removed,) = cursor.fetchone()
    cursor.execute(
        f"WITH i AS (INSERT INTO renewals_seat_modules (seat_id, module_id) {wanted} "
        "ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM i"
    )
    (added,) = cursor.fetchone()
    return removed + added
