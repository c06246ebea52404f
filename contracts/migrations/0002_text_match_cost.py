"""Tell the planner that matching a tsvector is expensive (it has to be read from TOAST).

With the default cost of 1, PostgreSQL prefers reading every contract's search vector over the
GIN index whenever a page is sorted and limited: a rare word then costs a scan of the whole
archive (~110 ms at 20,000 contracts instead of ~10). This needs the right to alter a built-in
function (the embedded cluster's superuser has it); without it the migration only says so and
search still works, just slower on large archives.
"""

from django.db import migrations

RAISE = """
DO $$
BEGIN
    ALTER FUNCTION ts_match_vq(tsvector, tsquery) COST 1000;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ts_match_vq cost left at its default: not allowed for this role';
END
$$;
"""
RESET = """
DO $$
BEGIN
    ALTER FUNCTION ts_match_vq(tsvector, tsquery) COST 1;
EXCEPTION WHEN insufficient_privilege THEN
    NULL;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_contracts")]

    operations = [migrations.RunSQL(RAISE, RESET)]
