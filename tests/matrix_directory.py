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
    return {"pk": _new_source().pk}


def _new_source() -> DirectorySource:
    return DirectorySource.objects.create(
        name=f"AD {DirectorySource.objects.count()}", kind="ldap",
        config={"url": "ldap://127.0.0.1:9", "bind_dn": "cn=x", "base_dn": "dc=x"},
    )  # fmt: skip


def _held_run(c: Cast) -> dict[str, object]:
    source = _new_source()
    run = SyncRun.objects.create(source=source, trigger="manual", status="held", held_leavers=[])
    return {"pk": source.pk, "run_pk": run.pk}


def _scim_token(c: Cast) -> dict[str, object]:
    from integrations.scim.tokens import scim_source, token_create

    source = scim_source()
    token, _ = token_create(source=source, name=f"IdP {source.scim_tokens.count()}")
    return {"pk": source.pk, "token_pk": token.pk}


ROWS: dict[str, Row] = {
    "integrations:token-create": Row(
        WRITE | {"it_admin": 200},
        method="post",
        kwargs=lambda c: {"pk": _scim_token(c)["pk"]},
        data=lambda c: {"name": "Entra ID"},
    ),  # fmt: skip
    "integrations:token-revoke": Row(WRITE_POST, method="post", kwargs=_scim_token),
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


def _feishu(c: Cast) -> dict[str, object]:
    source, _ = DirectorySource.objects.get_or_create(name="飞书", kind="feishu")
    return {"source_id": source.pk}


# No session counts on the callbacks: a GET without the platform's signature is refused alike
# for everyone (Feishu and DingTalk only take POST; WeCom's GET is its URL check, which needs a
# signature). An unknown source is 404 for everyone.
NOBODY = {r: 405 for r in ROLES}
ROWS |= {
    "integrations:callback-feishu": Row(NOBODY, kwargs=_feishu),
    "integrations:callback-dingtalk": Row(NOBODY, kwargs=lambda c: {"source_id": 999999}),
    # SCIM needs its bearer token whoever is signed in.
    "scim:endpoint": Row({r: 401 for r in ROLES}, kwargs=lambda c: {"path": "Users"}),
    "integrations:callback-wecom": Row(
        {r: 404 for r in ROLES}, kwargs=lambda c: {"source_id": 999999}
    ),
}
