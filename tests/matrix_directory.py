"""Permission-matrix rows of the directory sources (collected by tests/test_permissions.py):
IT admins keep them, auditors read them, everyone else gets 403. The endpoints outside systems
call (chat-platform callbacks, SCIM) need no session: their rows expect the same answer for every
role — a refusal without the platform's signature or a SCIM token."""

from __future__ import annotations

from integrations.models import DirectorySource, SyncRun
from tests.conftest import Cast
from tests.matrix_common import LOGIN, ROLES, Row

READ = {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200, "auditor": 200}
WRITE = {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200}
WRITE_POST = WRITE | {"it_admin": 302}


def _source(c: Cast) -> dict[str, object]:
    """A fresh LDAP source per role (removing one must not spoil the next role's row)."""
    source = DirectorySource.objects.create(
        name=f"AD {DirectorySource.objects.count()}", kind="ldap",
        config={"url": "ldap://127.0.0.1:9", "bind_dn": "cn=x", "base_dn": "dc=x"},
    )  # fmt: skip
    return {"pk": source.pk}


def _held_run(c: Cast) -> dict[str, object]:
    pk = _source(c)["pk"]
    run = SyncRun.objects.create(source_id=pk, trigger="manual", status="held", held_leavers=[])
    return {"pk": pk, "run_pk": run.pk}


ROWS: dict[str, Row] = {
    "integrations:source-list": Row(READ),
    "integrations:source-detail": Row(READ, kwargs=_source),
    "integrations:source-add": Row(WRITE | {"it_admin": 302}),  # no kind chosen: back to the list
    "integrations:source-edit": Row(WRITE, kwargs=_source),
    "integrations:source-sync": Row(WRITE_POST, method="post", kwargs=_source),
    "integrations:source-remove": Row(WRITE_POST, method="post", kwargs=_source),
    "integrations:run-decide": Row(
        WRITE_POST, method="post", kwargs=_held_run, data=lambda c: {"decision": "discard"}
    ),
}
