"""Permission-matrix rows of the usage connectors (collected by tests/test_permissions.py): IT
admins keep them, auditors read them, everyone else gets 403."""

from __future__ import annotations

from integrations.connectors.models import Connector
from tests.conftest import Cast
from tests.factories import SubscriptionFactory
from tests.matrix_common import LOGIN, ROLES, Row

READ = {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200, "auditor": 200}
WRITE = {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200}
WRITE_POST = WRITE | {"it_admin": 302}


def _connector(c: Cast) -> dict[str, object]:
    """A fresh connector per role (removing one must not spoil the next role's row)."""
    connector = Connector(
        name=f"SCIM {Connector.objects.count()}", kind="scim",
        base_url="https://tool.example.cn/scim/v2", subscription=SubscriptionFactory.create(),
    )  # fmt: skip
    connector.set_secrets({"token": "t"})
    connector.save()
    return {"pk": connector.pk}


ROWS: dict[str, Row] = {
    "integrations:connector-list": Row(READ),
    "integrations:connector-detail": Row(READ, kwargs=_connector),
    "integrations:connector-add": Row(WRITE),
    "integrations:connector-edit": Row(WRITE, kwargs=_connector),
    "integrations:connector-sync": Row(WRITE_POST, method="post", kwargs=_connector),
    "integrations:connector-remove": Row(WRITE_POST, method="post", kwargs=_connector),
}


def _account(c: Cast) -> dict[str, object]:
    import datetime as dt

    from integrations.connectors.models import Account

    pk = int(str(_connector(c)["pk"]))
    account = Account.objects.create(
        connector_id=pk, external_id="id-1", user_name="guest", changed_at=dt.datetime.now(dt.UTC)
    )
    return {"pk": pk, "account_pk": account.pk}


ROWS["integrations:connector-account-map"] = Row(
    WRITE_POST, method="post", kwargs=_account, data=lambda c: {"person": "nobody"}
)

ROWS["integrations:connector-revoke"] = Row(WRITE, kwargs=lambda c: {"pk": _account(c)["pk"]})


def _revocation(c: Cast) -> dict[str, object]:
    import datetime as dt

    from integrations.connectors.models import Revocation

    ids = _account(c)
    now = dt.datetime.now(dt.UTC)
    revocation = Revocation.objects.create(
        account_id=int(str(ids["account_pk"])),
        reason="x",
        status="done",
        done_at=now,
        next_attempt_at=now,
    )
    return {"pk": ids["pk"], "revocation_pk": revocation.pk}


def _notice(c: Cast) -> dict[str, object]:
    """An idle notice to the employee (whose person it is): theirs to answer, nobody else's."""
    import datetime as dt

    from integrations.connectors.models import Account, IdleNotice
    from tests.factories import PersonFactory

    person = getattr(c.employee, "person", None) or PersonFactory.create(user=c.employee)
    account = Account.objects.get(pk=int(str(_account(c)["account_pk"])))
    account.person = person
    account.save()
    today = dt.datetime.now(dt.UTC).date()
    notice = IdleNotice.objects.create(
        account=account, person=person, sent_on=today, revoke_on=today + dt.timedelta(days=14)
    )
    return {"pk": notice.pk}


ROWS["integrations:connector-revocations-confirm"] = Row(
    WRITE_POST, method="post", kwargs=_connector, data=lambda c: {"go": "confirm"}
)
ROWS["integrations:connector-revocation-undo"] = Row(WRITE_POST, method="post", kwargs=_revocation)
ROWS["integrations:connector-playbook"] = Row(
    WRITE_POST, method="post", kwargs=_connector, data=lambda c: {"idle_days": 90, "grace_days": 14}
)
ROWS["integrations:idle-keep"] = Row(
    {r: 404 for r in ROLES} | {"anonymous": LOGIN, "employee": 200}, kwargs=_notice
)
