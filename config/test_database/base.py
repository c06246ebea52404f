"""PostgreSQL as in production, except that Django's flush (the TRUNCATE that empties the
database between transactional tests, live-server tests included) sets
``renewaldesk.allow_truncate`` for its own transaction, which the ledger's and the audit trail's
TRUNCATE guards let through (core.db_guards). Only config.settings_test uses this backend; no
other code path sets the setting."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base, operations

from core.db_guards import ALLOW_SETTING


class DatabaseOperations(operations.DatabaseOperations):
    """sql_flush() opens with ``SET LOCAL renewaldesk.allow_truncate = 'on'``: Django runs the
    flush's statements in one transaction, so the setting ends with it."""

    def sql_flush(self, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        statements = super().sql_flush(style, tables, **kwargs)
        if not statements:
            return statements
        return [f"SET LOCAL {ALLOW_SETTING} = 'on'", *statements]


class DatabaseWrapper(base.DatabaseWrapper):
    """The PostgreSQL backend with the flush above."""

    ops_class = DatabaseOperations
