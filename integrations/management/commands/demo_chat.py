"""manage.py demo_chat --standin http://127.0.0.1:8091

Point the demo at the local stand-in of the chat platforms that ``dev.py start`` runs
(``tests/fakes/chat_standin.py``), so a new user can try the approval cards of #21 by hand: reads
the stand-in's developer console (``GET /console``: its Feishu and DingTalk addresses and demo
credentials), creates or updates the chat apps "飞书（演示）" and "钉钉（演示）" with them, maps every
department head on Feishu and every finance user on DingTalk (their usernames as platform user
ids), tells the stand-in who is in the apps' visible range (``POST /console/users``), registers
DingTalk's callback address through DingTalk's own API and sets Feishu's in its console
(``POST /console/feishu-callback``: Feishu checks the address at once, so the web server must be
running). DEBUG only; over the stand-in's HTTP API, nothing of the tests imported.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.chat import services
from integrations.chat.models import ChatApp
from integrations.chat.platform import ChatError
from integrations.chat.platforms import dingtalk
from org.models import User
from org.roles import Role

FEISHU_NAME = "飞书（演示）"
DINGTALK_NAME = "钉钉（演示）"


def _save(
    name: str, kind: str, base_url: str, config: dict[str, Any], keys: dict[str, str]
) -> ChatApp:
    app = ChatApp.objects.filter(name=name).first()
    try:
        return services.chat_app_save(
            app=app, kind=kind, name=name, base_url=base_url, config=config, secrets=keys,
            enabled=True, approvals=True, todos=True,
        )  # fmt: skip
    except ValidationError as exc:
        raise CommandError(f"{name}: {' '.join(exc.messages)}") from exc


def _map(app: ChatApp, users: list[User], union: bool) -> list[dict[str, str]]:
    people = []
    for user in users:
        union_id = f"union-{user.username}" if union else ""
        try:
            services.identity_save(app=app, user=user, platform_id=user.username, union_id=union_id)
        except ValidationError as exc:
            raise CommandError(f"{app.name}, {user.username}: {' '.join(exc.messages)}") from exc
        name = user.get_full_name() or user.username
        people.append({"user_id": user.username, "union_id": union_id, "name": name})
    return people


class Command(BaseCommand):
    help = "Point demo Feishu and DingTalk chat apps at the local chat platforms stand-in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--standin", required=True, help="the stand-in's address, e.g. http://127.0.0.1:8091"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_chat is for the demo only (DEBUG=true).")
        standin = options["standin"].rstrip("/")
        heads = list(
            User.objects.filter(is_active=True, headed_departments__isnull=False)
            .distinct()
            .order_by("username")
        )
        finance = list(
            User.objects.filter(is_active=True, groups__name=Role.FINANCE)
            .distinct()
            .order_by("username")
        )
        if not heads or not finance:
            raise CommandError("No department head or finance user: load the demo first.")
        try:
            with httpx.Client(base_url=standin, timeout=30) as client:
                self._set_up(client, heads, finance)
        except httpx.HTTPError as exc:
            raise CommandError(f"The chat platforms stand-in at {standin} failed: {exc}") from exc
        self.stdout.write(
            f"Chat platforms stand-in: {standin}/ — the head's Feishu and finance's DingTalk "
            f"cards arrive there ({FEISHU_NAME}: {', '.join(u.username for u in heads)}; "
            f"{DINGTALK_NAME}: {', '.join(u.username for u in finance)})."
        )

    def _set_up(self, client: httpx.Client, heads: list[User], finance: list[User]) -> None:
        from integrations.chat.views import callback_url  # as chat_app does: views on demand

        console = client.get("/console").raise_for_status().json()
        fs, dt = console["feishu"], console["dingtalk"]
        feishu_app = _save(
            FEISHU_NAME, ChatApp.Kind.FEISHU, fs["base_url"], {"app_id": fs["app_id"]},
            {k: fs[k] for k in ("app_secret", "verification_token", "encrypt_key")},
        )  # fmt: skip
        config = {k: dt[k] for k in ("app_key", "card_template_id", "callback_route_key")}
        # The apiSecret is ours to choose: DingTalk signs the clicks with what is registered.
        keys = {"app_secret": dt["app_secret"], "callback_secret": secrets.token_urlsafe(32)}
        ding_app = _save(DINGTALK_NAME, ChatApp.Kind.DINGTALK, dt["base_url"], config, keys)
        people = {"feishu": _map(feishu_app, heads, union=False),
                  "dingtalk": _map(ding_app, finance, union=True)}  # fmt: skip
        client.post("/console/users", json=people).raise_for_status()
        try:
            dingtalk.register_callback(ding_app, callback_url(ding_app))
        except ChatError as exc:
            raise CommandError(f"{DINGTALK_NAME}: {exc}") from exc
        answer = client.post("/console/feishu-callback", json={"url": callback_url(feishu_app)})
        if answer.status_code != 200:
            raise CommandError(
                f"{FEISHU_NAME}: the stand-in's Feishu did not take the callback address "
                f"{callback_url(feishu_app)} (is the web server running at SITE_URL?): "
                f"{answer.text[:300]}"
            )
