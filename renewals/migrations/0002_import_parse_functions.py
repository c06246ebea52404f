"""SQL functions the import checks use to read dates and months written in the common formats.

Accepted: 2026-03-01, 2026/3/1, 2026.03.01, 2026年3月1日, 20260301, optionally followed by a
time (Excel date cells); months also as 2026-03, 2026/3, 2026年3月. Anything else, including
ambiguous forms such as 03/01/2026, gives NULL, which the import reports as an error.
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION renewals_parse_date(v text) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE m text[];
BEGIN
    IF v IS NULL THEN RETURN NULL; END IF;
    m := regexp_match(btrim(v),
        '^([0-9]{4})(?:[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?|([0-9]{2})([0-9]{2}))(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?$');
    IF m IS NULL THEN RETURN NULL; END IF;
    RETURN make_date(m[1]::int, coalesce(m[2], m[4])::int, coalesce(m[3], m[5])::int);
EXCEPTION WHEN others THEN
    RETURN NULL;  -- 2026-02-30 and the like
END $$;

CREATE OR REPLACE FUNCTION renewals_parse_month(v text) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE m text[];
BEGIN
    IF v IS NULL THEN RETURN NULL; END IF;
    m := regexp_match(btrim(v), '^([0-9]{4})[-/.年]([0-9]{1,2})月?$');
    IF m IS NOT NULL THEN
        RETURN make_date(m[1]::int, m[2]::int, 1);
    END IF;
    RETURN date_trunc('month', renewals_parse_date(v))::date;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;
"""

DROP = """
DROP FUNCTION IF EXISTS renewals_parse_month(text);
DROP FUNCTION IF EXISTS renewals_parse_date(text);
"""


class Migration(migrations.Migration):
    dependencies = [("renewals", "0001_initial")]

    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
