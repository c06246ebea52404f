"""SQL functions the import checks use to read dates and months written in the common formats.

Accepted: 2026-03-01, 2026/3/1, 2026.03.01, 2026年3月1日, 20260301, optionally followed by a time
(Excel date cells); months also as 2026-03, 2026/3, 2026年3月. Anything else, including ambiguous
forms such as 03/01/2026 and impossible dates such as 2026-02-30, gives NULL, which the import
reports as an error. No exception block: in PL/pgSQL each one is a subtransaction per call, which
made a million-row check several times slower; ranges are checked explicitly instead.
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION renewals_parse_date(v text) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE m text[]; y int; mo int; d int; first date;
BEGIN
    m := regexp_match(btrim(v),
        '^([0-9]{4})(?:[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?|([0-9]{2})([0-9]{2}))(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?$');
    IF m IS NULL THEN RETURN NULL; END IF;
    y := m[1]::int; mo := coalesce(m[2], m[4])::int; d := coalesce(m[3], m[5])::int;
    IF y < 1 OR mo NOT BETWEEN 1 AND 12 OR d NOT BETWEEN 1 AND 31 THEN RETURN NULL; END IF;
    first := make_date(y, mo, 1);
    IF d > extract(day FROM first + interval '1 month' - interval '1 day') THEN RETURN NULL; END IF;
    RETURN first + (d - 1);
END $$;

CREATE OR REPLACE FUNCTION renewals_parse_month(v text) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE m text[]; y int; mo int;
BEGIN
    m := regexp_match(btrim(v), '^([0-9]{4})[-/.年]([0-9]{1,2})月?$');
    IF m IS NULL THEN
        RETURN date_trunc('month', renewals_parse_date(v))::date;
    END IF;
    y := m[1]::int; mo := m[2]::int;
    IF y < 1 OR mo NOT BETWEEN 1 AND 12 THEN RETURN NULL; END IF;
    RETURN make_date(y, mo, 1);
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("renewals", "0001_initial")]

    operations = [
        migrations.RunSQL(
            FUNCTIONS,
            "DROP FUNCTION IF EXISTS renewals_parse_month(text); "
            "DROP FUNCTION IF EXISTS renewals_parse_date(text);",
        )
    ]
