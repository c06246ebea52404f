"""Per-(budget, kind) sums of the ledger, kept by the database itself.

After every INSERT into the ledger, one statement-level trigger adds the new rows' amounts and
count to BudgetKindTotal, grouped by budget and *effective* kind (a reversal counts in the kind of
the entry it reverses, as selectors.balances_from_entries does). It runs in the inserting
transaction, so a rolled-back entry leaves no trace and a committed one is counted exactly once.

Concurrency: the trigger first locks the budgets the statement wrote to, in id order (FOR NO KEY
UPDATE, which waits for the services' FOR UPDATE and for another trigger, but not for foreign-key
checks), and only then the totals rows (INSERT … ON CONFLICT DO UPDATE), in key order. Every
writer thus takes budget locks before totals locks, like the services, so a bare INSERT racing a
service or another bare INSERT queues instead of deadlocking, and totals stay exact under any
number of concurrent writers. The ledger refuses UPDATE and DELETE (0002), so INSERT is the only
change to follow; TRUNCATE of the ledger empties the totals too.

A guard trigger refuses every write to the totals that does not come from inside a trigger
(pg_trigger_depth() < 2): the ORM, the admin and raw SQL cannot touch them. Only the table owner
can get round that (ALTER TABLE … DISABLE TRIGGER); the daily reconciliation task would report it.
"""

from django.db import migrations

SQL = """
-- No entry may be written between the backfill and the trigger taking over.
LOCK TABLE budgets_ledgerentry IN SHARE ROW EXCLUSIVE MODE;

DELETE FROM budgets_budgetkindtotal;
INSERT INTO budgets_budgetkindtotal (budget_id, kind, total, entries)
SELECT e.budget_id, COALESCE(r.kind, e.kind), SUM(e.amount), COUNT(*)
FROM budgets_ledgerentry e LEFT JOIN budgets_ledgerentry r ON r.id = e.reverses_id
GROUP BY 1, 2;

CREATE OR REPLACE FUNCTION budgets_ledger_totals_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM budgets_budget b
    WHERE b.id IN (SELECT n.budget_id FROM budgets_new_entries n)
    ORDER BY b.id
    FOR NO KEY UPDATE;
    INSERT INTO budgets_budgetkindtotal AS t (budget_id, kind, total, entries)
    SELECT n.budget_id, COALESCE(r.kind, n.kind), SUM(n.amount), COUNT(*)
    FROM budgets_new_entries n LEFT JOIN budgets_ledgerentry r ON r.id = n.reverses_id
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (budget_id, kind) DO UPDATE
        SET total = t.total + EXCLUDED.total, entries = t.entries + EXCLUDED.entries;
    RETURN NULL;
END $$;

CREATE TRIGGER budgets_ledger_totals
AFTER INSERT ON budgets_ledgerentry
REFERENCING NEW TABLE AS budgets_new_entries
FOR EACH STATEMENT EXECUTE FUNCTION budgets_ledger_totals_add();

CREATE OR REPLACE FUNCTION budgets_ledger_totals_clear() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM budgets_budgetkindtotal;
    RETURN NULL;
END $$;

CREATE TRIGGER budgets_ledger_totals_truncate
AFTER TRUNCATE ON budgets_ledgerentry
FOR EACH STATEMENT EXECUTE FUNCTION budgets_ledger_totals_clear();

CREATE OR REPLACE FUNCTION budgets_totals_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Depth 1 is this guard itself: a write straight from a session. The ledger's triggers
    -- write at depth 2.
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'budget ledger totals are kept by the ledger''s trigger: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER budgets_totals_guard
BEFORE INSERT OR UPDATE OR DELETE ON budgets_budgetkindtotal
FOR EACH ROW EXECUTE FUNCTION budgets_totals_guard();
"""

REVERSE = """
DROP TRIGGER IF EXISTS budgets_totals_guard ON budgets_budgetkindtotal;
DROP TRIGGER IF EXISTS budgets_ledger_totals_truncate ON budgets_ledgerentry;
DROP TRIGGER IF EXISTS budgets_ledger_totals ON budgets_ledgerentry;
DROP FUNCTION IF EXISTS budgets_totals_guard();
DROP FUNCTION IF EXISTS budgets_ledger_totals_clear();
DROP FUNCTION IF EXISTS budgets_ledger_totals_add();
"""


class Migration(migrations.Migration):
    dependencies = [("budgets", "0003_budgetkindtotal")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
