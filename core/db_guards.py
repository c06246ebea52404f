"""TRUNCATE is refused on the tables that must only grow: the budget ledger and its totals, and
every table of the audit trail (pghistory's event tables and their context, and the other
``…event`` trails such as a request's).

Row triggers cannot see TRUNCATE: it empties a table without touching a row, and the ledger's
totals trigger even cleared the totals to match, so the nightly reconciliation saw nothing
wrong. A BEFORE TRUNCATE statement trigger on each of these tables raises instead. It fires for
tables reached by ``TRUNCATE … CASCADE`` too, and is enabled ALWAYS, so
``session_replication_role = replica`` does not switch it off.

The triggers are installed after every ``migrate`` (post_migrate, connected in
budgets.apps), for every table that exists, so an event table added later gets its trigger
from the migrate that creates it; one query finds the tables still without it, so the usual run
changes nothing. The database check ``renewaldesk.W006`` (core.db_roles) reports a table left
without one.

Tests must still empty the database between transactional tests (Django's flush is a TRUNCATE):
the trigger lets a TRUNCATE through when the transaction has set
``renewaldesk.allow_truncate = 'on'``, which only the test settings' database backend
(config.test_database) does, in the flush's own transaction. Anyone who can run SQL can set such
a setting too: this guard stops the application's own bugs and accidents (a stray TRUNCATE, a
CASCADE that reaches the ledger, a script run against the wrong database), not a hostile
session. Against that, the application's role must not own the tables nor be a superuser
(README, Production; checked by core.db_roles).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connections

ALLOW_SETTING = "renewaldesk.allow_truncate"
TRIGGER = "renewaldesk_no_truncate"
FUNCTION = "renewaldesk_refuse_truncate"

FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{ALLOW_SETTING}', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'TRUNCATE of % is refused: the table only grows (budget ledger, audit trail)',
        TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
"""

# Tables whose rows are never changed or removed by the application (its role gets SELECT and
# INSERT only), and tables the database's own triggers keep (SELECT, INSERT, UPDATE).
APPEND_ONLY_MODELS = ("budgets.LedgerEntry",)
TRIGGER_KEPT_MODELS = ("budgets.BudgetKindTotal", "pghistory.Context")


def audit_event_tables() -> list[str]:
    """The tables of every pghistory event model (the audit trail), whichever app it is in."""
    from pghistory.models import Event

    return sorted(
        m._meta.db_table
        for m in apps.get_models()
        if issubclass(m, Event) and not m._meta.proxy and m._meta.managed
    )


def append_only_tables() -> list[str]:
    """Tables the application only reads and inserts into: the ledger and the audit events."""
    ledger = [apps.get_model(label)._meta.db_table for label in APPEND_ONLY_MODELS]
    return sorted({*ledger, *audit_event_tables()})


def trigger_kept_tables() -> list[str]:
    """Tables written only by the database's triggers (ledger totals, audit context)."""
    return sorted(apps.get_model(label)._meta.db_table for label in TRIGGER_KEPT_MODELS)


def guarded_tables() -> list[str]:
    """Every table TRUNCATE is refused on: the two lists above, and every other table of a
    model whose name ends in ``event`` (a trail of its own, such as a request's)."""
    trails = {
        m._meta.db_table
        for m in apps.get_models()
        if m._meta.db_table.endswith("event") and m._meta.managed and not m._meta.proxy
    }
    return sorted({*append_only_tables(), *trigger_kept_tables(), *trails})


def unguarded_tables(using: str = "default") -> list[str]:
    """Tables of ``guarded_tables()`` that exist but have no enabled-ALWAYS TRUNCATE guard."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_class c
            WHERE c.relname = ANY(%s) AND c.relkind IN ('r', 'p')
              AND pg_table_is_visible(c.oid)
              AND NOT EXISTS (
                  SELECT 1 FROM pg_trigger t
                  WHERE t.tgrelid = c.oid AND t.tgname = %s AND t.tgenabled = 'A')
            ORDER BY 1
            """,
            [guarded_tables(), TRIGGER],
        )
        return [row[0] for row in cursor.fetchall()]


def install_truncate_guards(using: str = "default") -> list[str]:
    """Give every guarded table that lacks it the TRUNCATE guard; returns the tables changed."""
    missing = unguarded_tables(using)
    if not missing:
        return []
    connection = connections[using]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(FUNCTION_SQL)
        for table in missing:
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {TRIGGER} BEFORE TRUNCATE ON {quote(table)} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
            cursor.execute(f"ALTER TABLE {quote(table)} ENABLE ALWAYS TRIGGER {TRIGGER}")
    return missing


def install_after_migrate(using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver (budgets.apps)."""
    install_truncate_guards(using)
