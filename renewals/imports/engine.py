"""Writing checked rows with set-based upserts: one writer per kind of import.

All functions take a DB-API cursor inside the caller's transaction; the staging table
``import_stage`` (see reader.load_stage) disappears when that transaction ends. The rows are
checked first (checks.check_rows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from org.selectors import department_matches
from org.services import people_upsert_rows
from renewals.imports.reader import Header
from renewals.imports.specs import ImportSpec, render
from renewals.inventory import rules


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


@dataclass(frozen=True)
class Staged:
    """The checked rows of one import, as its writer sees them."""

    spec: ImportSpec
    header: Header
    v: dict[str, str]  # the typed value (SQL over import_stage s) of each column in the file
    total: int
    params: dict[str, str]

    @property
    def has(self) -> set[str]:
        return self.header.present

    def pick(self, name: str, existing: str, default: str) -> str:
        # An optional column missing from the file, or an empty cell, keeps what is stored
        # (or takes the default for a new record).
        if name in self.has:
            return f"coalesce({self.v[name]}, {existing}, {default})"
        return f"coalesce({existing}, {default})"


def apply_rows(
    cursor: Any, *, spec: ImportSpec, header: Header, total: int, base: str
) -> dict[str, int]:
    """Write the checked rows; returns counts of created, updated and unchanged records."""
    v: dict[str, str] = {
        col.name: col.value() for col in spec.columns if col.name in header.present
    }
    writer = WRITERS.get(spec.kind)
    if writer is None:
        raise ValueError(f"unknown import kind {spec.kind}")
    return writer(cursor, Staged(spec, header, v, total, {"base": base}))


def _write_people(cursor: Any, rows: Staged) -> dict[str, int]:
    """People go in through org, which owns them (one set-based upsert)."""
    v = rows.v
    created, updated = people_upsert_rows(
        cursor,
        rows="import_stage s",
        employee_no=v["employee_no"],
        name=v["name"],
        department=v["department"],
        email=v.get("email"),
        status=v.get("status"),
        left_on=v.get("left_on"),
        params=rows.params,
    )
    return {"created": created, "updated": updated, "unchanged": rows.total - created - updated}


_SUBSCRIPTION_CHANGES = [
    "vendor_id",
    "product",
    "edition",
    "category",
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
]


# One vendor per case-insensitive name (a current one before an archived one): the join of the
# staged rows to their vendor (a hash join on the key, whatever the file's size).
_VENDOR_KEYS = (
    f"SELECT DISTINCT ON ({rules.vendor_key_sql('name')}) id, "
    f"{rules.vendor_key_sql('name')} AS key FROM renewals_vendor "
    f"ORDER BY {rules.vendor_key_sql('name')}, archived_at NULLS FIRST, id"
)


def _write_subscriptions(cursor: Any, rows: Staged) -> dict[str, int]:
    """Missing vendors first, then the subscriptions, then (if listed) their modules."""
    v, has, pick = rows.v, rows.has, rows.pick
    # Vendor names are the same whatever their case (renewals.inventory.rules): a row naming
    # "atlassian" takes the vendor Atlassian; a new name is added once, as first written.
    key = rules.vendor_key_sql(v["vendor"])
    cursor.execute(
        "INSERT INTO renewals_vendor (name, website, contacts, notes, created_at) "
        f"SELECT DISTINCT ON ({key}) {v['vendor']}, '', '', '', now() FROM import_stage s "
        f"WHERE NOT EXISTS (SELECT 1 FROM renewals_vendor x WHERE {rules.vendor_key_sql('x.name')} = {key}) "
        f"ORDER BY {key}, s.line ON CONFLICT (name) DO NOTHING"
    )
    tags = (
        f"coalesce(array_remove(regexp_split_to_array({v['tags']}, '\\s*[;,；，]\\s*'), ''), '{{}}')"
        if "tags" in has
        else "coalesce(x.tags, '{}')"
    )
    sql = (
        "INSERT INTO renewals_subscription AS target (ref, vendor_id, product, edition, department_id, "
        "owner_id, seats_purchased, unit_price, currency, billing_cycle, term_start, term_end, "
        "auto_renew, notice_period_days, status, tags, notes, alert_thresholds, category, created_at, "
        "updated_at) "
        f"SELECT {v['ref']}, vd.id, {v['product']}, {pick('edition', 'x.edition', chr(39) * 2)}, d.id, "
        f"{'u.id' if 'owner' in has else 'x.owner_id'}, {v['seats']}, {v['unit_price']}, "
        f"{pick('currency', 'x.currency', '%(base)s')}, {pick('billing_cycle', 'x.billing_cycle', chr(39) + 'annual' + chr(39))}, "
        f"{v['term_start']}, {v['term_end']}, {pick('auto_renew', 'x.auto_renew', 'false')}, "
        f"{pick('notice_period_days', 'x.notice_period_days', '30')}, "
        f"{pick('status', 'x.status', chr(39) + 'active' + chr(39))}, {tags}, "
        f"{pick('notes', 'x.notes', chr(39) * 2)}, coalesce(x.alert_thresholds, '{{}}'), "
        # An empty cell or no column: a subscription keeps its category (NOT NULL, '' = none).
        f"{pick('category', 'x.category', chr(39) * 2)}, now(), now() "
        f"FROM import_stage s JOIN ({_VENDOR_KEYS}) vd ON vd.key = {key} "
        f"JOIN org_department d ON {department_matches('d', v['department'])} "
        f"LEFT JOIN renewals_subscription x ON x.ref = {v['ref']} "
        + (f"LEFT JOIN org_user u ON u.username = {v['owner']} " if "owner" in has else "")
        + "ON CONFLICT (ref) DO UPDATE SET updated_at = now(), "
        + _set_changed("target", _SUBSCRIPTION_CHANGES)
    )
    counts = _counted(cursor, sql, rows.params, rows.total)
    if "modules" in has:
        counts["modules_changed"] = _upsert_modules(cursor, v)
    return counts


def _write_seats(cursor: Any, rows: Staged) -> dict[str, int]:
    """The seats, keyed by subscription, person and assignment date; then (if listed) their modules."""
    v, has, pick = rows.v, rows.has, rows.pick
    sql = (
        "INSERT INTO renewals_seat AS target (subscription_id, person_id, account, assigned_on, "
        "revoked_on, last_active_on, revoke_reason) "
        f"SELECT x.id, p.id, {pick('account', 'st.account', chr(39) * 2)}, {v['assigned_on']}, "
        f"{v['revoked_on'] if 'revoked_on' in has else 'st.revoked_on'}, "
        f"{v['last_active_on'] if 'last_active_on' in has else 'st.last_active_on'}, "
        # The file has no reasons: a seat keeps the one it has (the column is NOT NULL).
        "coalesce(st.revoke_reason, '') "
        f"FROM import_stage s JOIN renewals_subscription x ON x.ref = {v['subscription']} "
        f"JOIN org_person p ON p.employee_no = {v['employee_no']} "
        "LEFT JOIN renewals_seat st ON st.subscription_id = x.id AND st.person_id = p.id "
        f"AND st.assigned_on = {v['assigned_on']} "
        "ON CONFLICT ON CONSTRAINT seat_unique_assignment DO UPDATE SET "
        + _set_changed("target", ["account", "revoked_on", "last_active_on"])
    )
    counts = _counted(cursor, sql, rows.params, rows.total)
    if "modules" in has:
        counts["modules_changed"] = _sync_seat_modules(cursor, v)
    return counts


def _write_activity(cursor: Any, rows: Staged) -> dict[str, int]:
    """Each matched active seat's last activity: the latest day the file gives for it."""
    v = rows.v
    # Per staged row, its seats by index lookups (specs.SEAT_MATCH: a UNION, run row by row
    # whatever the statistics, never a join of every staged row with every seat and person).
    seat_match = render(rows.spec, "{seat_match}", rows.header)
    cursor.execute(
        f"WITH w AS (UPDATE renewals_seat target SET last_active_on = m.day FROM ("
        f"SELECT DISTINCT ON (st.id) st.id, {v['last_active_on']} AS day FROM import_stage s "
        f"JOIN LATERAL ({seat_match}) st ON true ORDER BY st.id, {v['last_active_on']} DESC"
        ") m WHERE target.id = m.id AND target.last_active_on IS DISTINCT FROM m.day RETURNING 1) "
        "SELECT count(*) FROM w"
    )
    (updated,) = cursor.fetchone()
    return {"created": 0, "updated": updated, "unchanged": rows.total - updated}


def _write_usage(cursor: Any, rows: Staged) -> dict[str, int]:
    """Usage files run to millions of rows: UPDATE the changed rows and INSERT the new ones as two
    set operations (much faster than INSERT … ON CONFLICT, which inserts speculatively row by row
    and locks every conflicting row even when nothing changes), holding a lock that keeps other
    writers of usage out until the import commits."""
    spec, v, total = rows.spec, rows.v, rows.total
    cursor.execute("LOCK TABLE renewals_monthlyusage IN SHARE ROW EXCLUSIVE MODE")
    module = spec.cell("module") if "module" in rows.has else "NULL"
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


# One writer per kind of import, each in the caller's transaction (see apply_rows).
WRITERS: dict[str, Callable[[Any, Staged], dict[str, int]]] = {
    "subscriptions": _write_subscriptions,
    "people": _write_people,
    "seats": _write_seats,
    "usage": _write_usage,
    "activity": _write_activity,
}
