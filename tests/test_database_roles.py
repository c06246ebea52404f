"""The role the application connects as cannot get round the ledger's and the audit trail's
guards (issue 16, point 6): the start-up check and /system/ warn when it could, and a role with
the documented grants does its normal work and nothing more."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.checks import CheckMessage
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from budgets import services
from budgets.models import LedgerEntry
from core.db_roles import check_database_role, grant_statements, role_problems
from renewals.inventory.models import Vendor
from tests.conftest import Cast
from tests.db_roles import connected_as, granted_role


def ids(messages: list[CheckMessage]) -> set[str | None]:
    return {m.id for m in messages}


@pytest.mark.django_db
def test_the_check_warns_when_the_app_connects_as_a_superuser_owner(settings: object) -> None:
    settings.DEBUG = False  # type: ignore[attr-defined]
    found = ids(check_database_role())
    # The test server's role: superuser, owner of every table, may set session_replication_role.
    assert {"renewaldesk.W001", "renewaldesk.W002", "renewaldesk.W004", "renewaldesk.W005"} <= found
    settings.DEBUG = True  # type: ignore[attr-defined]
    assert check_database_role() == []  # development's private cluster runs as its superuser


@pytest.mark.django_db
def test_the_check_warns_when_a_table_lost_its_truncate_guard(settings: object) -> None:
    settings.DEBUG = False  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE budgets_ledgerentry DISABLE TRIGGER renewaldesk_no_truncate")
    warning = next(m for m in check_database_role() if m.id == "renewaldesk.W006")
    assert "budgets_ledgerentry" in warning.msg


@pytest.mark.django_db
def test_the_system_page_warns(client: Client, cast: Cast) -> None:
    client.force_login(cast.it_admin)
    page = client.get(reverse("system-status")).content.decode()
    assert 'data-testid="database-role-warning"' in page
    assert "renewaldesk.W001" in page and "renewaldesk.W002" in page


@pytest.mark.django_db
def test_the_grants_keep_append_only_tables_append_only() -> None:
    statements = grant_statements("app")
    revoke = next(s for s in statements if s.startswith("REVOKE UPDATE, DELETE ON"))
    assert '"budgets_ledgerentry"' in revoke and '"org_userevent"' in revoke
    assert not any("TRUNCATE" in s and s.startswith("GRANT") for s in statements)


@pytest.mark.django_db(transaction=True)
def test_a_role_with_the_documented_grants_works_and_cannot_change_the_ledger(
    cast: Cast, settings: object, client: Client
) -> None:
    settings.DEBUG = False  # type: ignore[attr-defined]
    entry = cast.ledger_entry
    with granted_role() as role, connected_as(role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, session_user")
            assert cursor.fetchone() == (role, role)  # a session of its own, not SET ROLE
        assert role_problems() == [] and check_database_role() == []
        # Its normal work: a ledger entry (and the totals the trigger keeps), an audited change.
        services.budget_allocate(
            budget=cast.budget_a, amount=Decimal("7"), user=cast.finance, memo="m"
        )
        Vendor.objects.create(name="Acme")
        assert LedgerEntry.objects.filter(budget=cast.budget_a).count() == 2
        client.force_login(cast.it_admin)
        page = client.get(reverse("system-status")).content.decode()
        assert page.count("database-role-warning") == 0
        # What it may not do, whatever the triggers say.
        for sql in (
            f"UPDATE budgets_ledgerentry SET amount = 0 WHERE id = {entry.pk}",
            f"DELETE FROM budgets_ledgerentry WHERE id = {entry.pk}",
            "TRUNCATE budgets_ledgerentry",
            "TRUNCATE org_userevent",
            "DELETE FROM renewals_vendorevent",
            "DELETE FROM budgets_budgetkindtotal",
            "ALTER TABLE budgets_ledgerentry DISABLE TRIGGER ALL",
            "SET session_replication_role = replica",
            "DROP TABLE budgets_ledgerentry CASCADE",
        ):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
    assert LedgerEntry.objects.filter(pk=entry.pk, amount=entry.amount).exists()
