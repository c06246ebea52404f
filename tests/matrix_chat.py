"""Permission-matrix rows of the chat apps (collected by tests/test_permissions.py): IT admins
keep them, auditors read them, everyone else gets 403; the callback takes no session."""

from __future__ import annotations

from integrations.chat.models import ChatApp, ChatCard, ChatIdentity, ChatJob
from tests.conftest import Cast
from tests.matrix_common import LOGIN, ROLES, Row

READ = {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200, "auditor": 200}
WRITE = {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200}
WRITE_POST = WRITE | {"it_admin": 302}


def _new_app() -> ChatApp:
    """A fresh app per role (removing one must not spoil the next role's row)."""
    app = ChatApp(
        name=f"飞书 {ChatApp.objects.count()}", kind="feishu",
        base_url="https://open.feishu.cn", config={"app_id": "cli_x"},
    )  # fmt: skip
    app.set_secrets({"app_secret": "s", "verification_token": "v", "encrypt_key": "k"})
    app.save()
    return app


def _app(c: Cast) -> dict[str, object]:
    return {"pk": _new_app().pk}


def _dead_letter(c: Cast) -> dict[str, object]:
    app = _new_app()
    card = ChatCard.objects.create(
        app=app, key=f"rd-n{app.pk}", topic="notice", recipient=c.it_admin, platform_id="u1",
        nonce="n" * 43, state="info",
    )  # fmt: skip
    job = ChatJob.objects.create(card=card, action="send", status="failed", last_error="x")
    return {"pk": app.pk, "job_pk": job.pk}


def _identity(c: Cast) -> dict[str, object]:
    app = _new_app()
    identity = ChatIdentity.objects.create(app=app, user=c.employee, platform_id="e1")
    return {"pk": app.pk, "identity_pk": identity.pk}


ROWS: dict[str, Row] = {
    "integrations:chat-app-list": Row(READ),
    "integrations:chat-app-detail": Row(READ, kwargs=_app),
    "integrations:chat-app-add": Row(WRITE),
    "integrations:chat-app-edit": Row(WRITE, kwargs=_app),
    "integrations:chat-app-remove": Row(WRITE_POST, method="post", kwargs=_app),
    "integrations:chat-job-retry": Row(WRITE_POST, method="post", kwargs=_dead_letter),
    "integrations:chat-people": Row(READ, kwargs=_app),
    "integrations:chat-person-remove": Row(WRITE_POST, method="post", kwargs=_identity),
    # No session counts on the callback: an unknown app is 404 for everyone (a known one
    # refuses what the platform did not sign: tests/integrations/chat/).
    "integrations:chat-callback": Row({r: 404 for r in ROLES}, kwargs=lambda c: {"app_id": 999999}),
}
