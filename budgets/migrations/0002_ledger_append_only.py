"""The ledger is append-only in the database itself: UPDATE and DELETE of a row raise, whoever
tries (the ORM, the admin, a raw SQL session). Corrections are reversals."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION budgets_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the budget ledger is append-only: % of an entry is refused; record a reversal', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER budgets_ledger_append_only
BEFORE UPDATE OR DELETE ON budgets_ledgerentry
FOR EACH ROW EXECUTE FUNCTION budgets_ledger_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS budgets_ledger_append_only ON budgets_ledgerentry;
DROP FUNCTION IF EXISTS budgets_ledger_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("budgets", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
