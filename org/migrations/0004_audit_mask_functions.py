"""SQL functions that mask secrets on their way into the audit trail (core/audit.py).

The BEFORE INSERT triggers of event tables with declared secrets call them, so a secret is
masked in the database whatever wrote the tracked row. core.audit.mask_url and token_like
are the same rules in Python (tests/test_audit_secrets.py checks that both agree)."""

from __future__ import annotations

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION audit_token_like(segment text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT length(segment) >= 16
        OR (length(segment) >= 5 AND segment ~ '[0-9]' AND segment ~ '[A-Za-z]')
        OR (length(segment) >= 8 AND segment ~ '[A-Z]' AND segment ~ '[a-z]')
$$;

CREATE OR REPLACE FUNCTION audit_mask_secret(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NULL OR value = '' THEN value ELSE '••••••' END
$$;

CREATE OR REPLACE FUNCTION audit_mask_url(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    parts text[];
    authority text;
    piece text;
    pieces text[];
    result text;
BEGIN
    IF value IS NULL OR value = '' THEN
        RETURN value;
    END IF;
    -- scheme, //authority, path, ?query, #fragment (the pattern matches every string)
    parts := regexp_match(
        value, '^([A-Za-z][A-Za-z0-9+.-]*:)?(//[^/?#]*)?([^?#]*)(\?[^#]*)?(#.*)?$'
    );
    IF parts IS NULL THEN
        RETURN '••••••';
    END IF;
    authority := coalesce(parts[2], '');
    IF position('@' IN authority) > 0 THEN
        authority := '//••••••@' || regexp_replace(authority, '^.*@', '');
    END IF;
    pieces := ARRAY[]::text[];
    FOREACH piece IN ARRAY string_to_array(coalesce(parts[3], ''), '/') LOOP
        pieces := pieces || CASE WHEN audit_token_like(piece) THEN '••••••' ELSE piece END;
    END LOOP;
    result := coalesce(parts[1], '') || authority || array_to_string(pieces, '/');
    IF parts[4] IS NOT NULL THEN
        pieces := ARRAY[]::text[];
        FOREACH piece IN ARRAY string_to_array(substr(parts[4], 2), '&') LOOP
            IF position('=' IN piece) > 0 THEN
                pieces := pieces || (
                    CASE WHEN audit_token_like(split_part(piece, '=', 1)) THEN '••••••'
                         ELSE split_part(piece, '=', 1) END
                    || '='
                    || CASE WHEN substr(piece, position('=' IN piece) + 1) = '' THEN ''
                            ELSE '••••••' END
                );
            ELSE
                pieces := pieces || CASE WHEN audit_token_like(piece) THEN '••••••' ELSE piece END;
            END IF;
        END LOOP;
        result := result || '?' || array_to_string(pieces, '&');
    END IF;
    IF parts[5] IS NOT NULL THEN
        result := result || '#' || CASE WHEN parts[5] = '#' THEN '' ELSE '••••••' END;
    END IF;
    RETURN result;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS audit_mask_url(text);
DROP FUNCTION IF EXISTS audit_mask_secret(text);
DROP FUNCTION IF EXISTS audit_token_like(text);
"""


class Migration(migrations.Migration):
    dependencies = [("org", "0003_audit_events")]

    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
