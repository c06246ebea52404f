"""The database role the application runs as, and the grants it should have.

The ledger's and the audit trail's guards are triggers (budgets migrations 0002/0004,
core.db_guards). A role that owns the tables can disable them (``ALTER TABLE … DISABLE
TRIGGER``) or drop the tables; a superuser, or a role allowed to set
``session_replication_role``, can switch ordinary triggers off for its session; BYPASSRLS
ignores row security. So migrations run as an owner role, and the web processes and workers as
a role with plain grants (README, Production, "Database roles"), which ``grant_statements()``
writes out (``manage.py database_grants ROLE``). ``role_problems()`` says what is wrong with the
connected role: the system check below (at every start of a production-shaped process) and the
/system/ page show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connections
from django.utils.translation import gettext as _

from core import db_guards


@dataclass(frozen=True)
class Problem:
    """One way the connected role can get round the database's guards."""

    id: str
    message: str


def _role_flags(cursor: Any) -> tuple[bool, bool, bool]:
    """(superuser, BYPASSRLS, may SET session_replication_role) of the current role."""
    cursor.execute(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    superuser, bypassrls = cursor.fetchone()
    replication = bool(superuser)
    if cursor.connection.info.server_version >= 150000:
        # PostgreSQL 15 can grant SET on a superuser-only parameter to any role.
        cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
        replication = bool(cursor.fetchone()[0])
    return bool(superuser), bool(bypassrls), replication


def _owned_tables(cursor: Any) -> list[str]:
    """Tables (and their schema) that the current role owns, or may become the owner of."""
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(current_schemas(false))
          AND (pg_has_role(current_user, c.relowner, 'MEMBER')
               OR pg_has_role(current_user, n.nspowner, 'MEMBER'))
        ORDER BY 1
        """
    )
    return [row[0] for row in cursor.fetchall()]


def _overprivileged(cursor: Any) -> list[str]:
    """Append-only tables the role may change or empty, and trigger-kept tables it may
    delete from or empty (the grants below give neither)."""
    cursor.execute(
        """
        SELECT t FROM unnest(%s::text[]) t
        WHERE to_regclass(t) IS NOT NULL
          AND has_table_privilege(t, 'UPDATE, DELETE, TRUNCATE')
        UNION
        SELECT t FROM unnest(%s::text[]) t
        WHERE to_regclass(t) IS NOT NULL AND has_table_privilege(t, 'DELETE, TRUNCATE')
        ORDER BY 1
        """,
        [db_guards.append_only_tables(), db_guards.trigger_kept_tables()],
    )
    return [row[0] for row in cursor.fetchall()]


def _listed(tables: list[str]) -> str:
    shown = ", ".join(tables[:5])
    return shown + (
        _(" and %(count)d more") % {"count": len(tables) - 5} if len(tables) > 5 else ""
    )


def role_problems(using: str = "default") -> list[Problem]:
    """What the connected role could do to the ledger and the audit trail that the
    application never needs (empty when it is set up as README's Production guide says)."""
    problems = []
    with connections[using].cursor() as cursor:
        superuser, bypassrls, replication = _role_flags(cursor)
        owned = _owned_tables(cursor)
        overprivileged = _overprivileged(cursor)
    unguarded = db_guards.unguarded_tables(using)
    if superuser:
        problems.append(Problem("renewaldesk.W001", _("The database role is a superuser.")))
    if owned:
        problems.append(
            Problem(
                "renewaldesk.W002",
                _("The database role owns tables or their schema: %(tables)s.")
                % {"tables": _listed(owned)},
            )
        )
    if bypassrls:
        problems.append(Problem("renewaldesk.W003", _("The database role has BYPASSRLS.")))
    if replication:
        problems.append(
            Problem(
                "renewaldesk.W004",
                _("The database role may set session_replication_role (switches triggers off)."),
            )
        )
    if overprivileged:
        problems.append(
            Problem(
                "renewaldesk.W005",
                _(
                    "The database role may change, delete or truncate append-only tables: %(tables)s."
                )
                % {"tables": _listed(overprivileged)},
            )
        )
    if unguarded:
        problems.append(
            Problem(
                "renewaldesk.W006",
                _("TRUNCATE is not refused on %(tables)s: run manage.py migrate.")
                % {"tables": _listed(unguarded)},
            )
        )
    return problems


HINT = (
    "Run migrations as the role that owns the tables and the web processes and workers as a "
    "role with the grants of `manage.py database_grants ROLE` (README, Production, Database "
    "roles). Expected while `migrate` runs as the owner."
)


def check_database_role(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check: warns when the connected role could get round the ledger's and the audit
    trail's guards. Production-shaped runs only (DEBUG off): in development the private
    cluster's superuser is the norm. Silent when the database cannot be reached (a build step)."""
    if settings.DEBUG:
        return []
    connection = connections["default"]
    was_open = connection.connection is not None
    try:
        problems = role_problems()
    except DatabaseError:
        return []
    finally:
        if not was_open:
            # A process that forks after its checks (the worker) must not share this session.
            connection.close()
    return [checks.Warning(p.message, hint=HINT, id=p.id) for p in problems]


def grant_statements(role: str, using: str = "default") -> list[str]:
    """The grants of the application's role, run as the owner after every migrate: plain
    SELECT/INSERT/UPDATE/DELETE; SELECT/INSERT on the append-only tables; no DELETE on the
    tables the triggers keep; TRUNCATE, REFERENCES and TRIGGER nowhere."""
    connection = connections[using]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = quote(cursor.fetchone()[0])
    existing = set(connection.introspection.table_names())
    append_only = [quote(t) for t in db_guards.append_only_tables() if t in existing]
    kept = [quote(t) for t in db_guards.trigger_kept_tables() if t in existing]
    who = quote(role)
    statements = [
        f"GRANT USAGE ON SCHEMA {schema} TO {who}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
        # Tables a later migrate creates are usable at once; run this again after it, so that
        # new audit tables lose UPDATE and DELETE (the check warns until then).
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {who}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {who}",
    ]
    if append_only:
        statements.append(f"REVOKE UPDATE, DELETE ON {', '.join(append_only)} FROM {who}")
    if kept:
        statements.append(f"REVOKE DELETE ON {', '.join(kept)} FROM {who}")
    return statements
