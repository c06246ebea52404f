"""TRUNCATE is refused on the ledger, its totals and every audit table (issue 16, point 6),
whatever form it takes, while the test suite's own flush still empties the database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.management.sql import emit_post_migrate_signal
from django.db import DatabaseError, connection, transaction
from django.db.backends.postgresql.operations import DatabaseOperations

from budgets import services
from budgets.models import BudgetKindTotal, LedgerEntry
from budgets.selectors import total_mismatches
from core import db_guards
from tests.conftest import Cast

REFUSED = "is refused"


def schema_tables(pattern: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " AND table_type = 'BASE TABLE' AND table_name LIKE %s ORDER BY 1",
            [pattern],
        )
        return [row[0] for row in cursor.fetchall()]


def event_tables() -> list[str]:
    """Every table of the schema whose name ends in "event": the audit trail's, and any other."""
    tables = schema_tables("%event")
    assert len(tables) >= 27  # the audit trail of every app, and a request's trail
    return tables


def guarded_in_schema() -> list[str]:
    return [*event_tables(), "budgets_ledgerentry", "budgets_budgetkindtotal", "pghistory_context"]


def truncate_refused(*statements: str) -> None:
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks
            for sql in statements:
                cursor.execute(sql)


@pytest.mark.django_db
def test_truncate_of_the_ledger_is_refused_and_the_totals_stay(cast: Cast) -> None:
    services.budget_allocate(budget=cast.budget_a, amount=Decimal("5"), user=cast.finance, memo="m")
    before = list(BudgetKindTotal.objects.values_list("kind", "total", "entries"))
    for sql in (
        "TRUNCATE budgets_ledgerentry",
        "TRUNCATE TABLE ONLY budgets_ledgerentry RESTART IDENTITY",
        "TRUNCATE budgets_budgetkindtotal",
        # A CASCADE from a table the ledger refers to reaches it too.
        "TRUNCATE budgets_budget CASCADE",
        "TRUNCATE org_department CASCADE",
    ):
        truncate_refused(sql)
    assert LedgerEntry.objects.count() == 2
    assert list(BudgetKindTotal.objects.values_list("kind", "total", "entries")) == before
    assert total_mismatches() == []


@pytest.mark.django_db
def test_truncate_of_every_audit_table_is_refused(cast: Cast) -> None:
    tables = guarded_in_schema()
    for table in tables:
        truncate_refused(f'TRUNCATE "{table}"')
    # All at once, as Django's own flush writes it (without the test backend's setting).
    plain = DatabaseOperations(connection).sql_flush(no_style(), tables, allow_cascade=True)
    truncate_refused(plain[0])


@pytest.mark.django_db
def test_session_replication_role_does_not_switch_the_guard_off(cast: Cast) -> None:
    truncate_refused(
        "SET LOCAL session_replication_role = replica",
        "TRUNCATE budgets_ledgerentry, org_userevent",
    )
    assert LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_every_event_table_in_the_schema_has_the_guard() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE t.tgname = %s AND p.proname = %s AND t.tgenabled = 'A'
              -- BEFORE (2) TRUNCATE (32), once per statement (no ROW bit 1)
              AND t.tgtype & 35 = 34
            """,
            [db_guards.TRIGGER, db_guards.FUNCTION],
        )
        guarded = {row[0] for row in cursor.fetchall()}
    missing = sorted(set(guarded_in_schema()) - guarded)
    assert not missing, f"tables without the TRUNCATE guard: {missing}"
    assert db_guards.unguarded_tables() == []


@pytest.mark.django_db
def test_a_table_that_lost_its_guard_gets_it_back_at_the_next_migrate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {db_guards.TRIGGER} ON renewals_vendorevent")
        cursor.execute(f"ALTER TABLE org_userevent ENABLE TRIGGER {db_guards.TRIGGER}")
    assert db_guards.unguarded_tables() == ["org_userevent", "renewals_vendorevent"]
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert db_guards.unguarded_tables() == []
    truncate_refused("TRUNCATE renewals_vendorevent")


def test_every_audit_model_is_guarded() -> None:
    """A model tracked by the audit trail later gets the guard without a migration of its own:
    the list is taken from pghistory's models, not written down."""
    events = db_guards.audit_event_tables()
    assert "budgets_budgetevent" in events and "renewals_vendorevent" in events
    assert set(events) <= set(db_guards.guarded_tables())
    assert "renewals_requestevent" in db_guards.guarded_tables()


@pytest.mark.django_db(transaction=True)
def test_the_test_suites_flush_still_empties_the_ledger_and_the_audit_trail(cast: Cast) -> None:
    assert LedgerEntry.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not LedgerEntry.objects.exists() and not BudgetKindTotal.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM org_userevent")
        assert cursor.fetchone()[0] == 0
        # The setting lasted for the flush's transaction only.
        cursor.execute("SELECT current_setting(%s, true)", [db_guards.ALLOW_SETTING])
        assert cursor.fetchone()[0] in (None, "")
