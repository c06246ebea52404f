"""manage.py chat_app add|list|remove|map|register-callback|deliver: chat apps for automation.

    manage.py chat_app add feishu --name "飞书审批" --set app_id=cli_a1b2 [--url https://open.feishu.cn] \\
        [--directory "Feishu directory"] [--no-todos] [--no-notices]
    manage.py chat_app add dingtalk --name "钉钉审批" --set app_key=ding123 \\
        --set card_template_id=abcd.schema --set callback_route_key=renewal-desk
    manage.py chat_app add wecom --name "企业微信审批" --set corp_id=ww123 --set agent_id=1000002
    (secrets are never on the command line: each is read from CHAT_APP_<KEY>, e.g.
    CHAT_APP_APP_SECRET, CHAT_APP_ENCRYPT_KEY, CHAT_APP_ENCODING_AES_KEY, or asked for at the
    prompt)
    manage.py chat_app list
    manage.py chat_app map "飞书审批" USERNAME PLATFORM_ID [--union-id UNIONID]
    manage.py chat_app register-callback "钉钉审批"   (DingTalk: registers the callback address;
        an app with --set mode=stream needs none: run manage.py chat_stream --app NAME instead)
    manage.py chat_app deliver   (make the due calls now, in this process)
    manage.py chat_app remove "飞书审批"
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.chat import outbox, services
from integrations.chat.models import ChatApp, ChatJob
from integrations.chat.platform import ChatError
from integrations.chat.platforms import module_for
from integrations.chat.platforms.dingtalk_stream import is_stream
from integrations.models import DirectorySource


def _stream(app: ChatApp) -> bool:
    return app.kind == ChatApp.Kind.DINGTALK and is_stream(app)


def _stream_note(app: ChatApp) -> str:
    return (f"{app.name!r} takes card clicks over Stream mode: no callback address to register; "
            f"run manage.py chat_stream --app {app.name!r} (under the process supervisor).")  # fmt: skip


class Command(BaseCommand):
    help = "Add, list, map people on or remove chat apps (Feishu, DingTalk, WeCom cards)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a chat app")
        add.add_argument("kind", choices=ChatApp.Kind.values)
        add.add_argument("--name", required=True)
        add.add_argument("--url", default="", help="the platform's API address (default: its own)")
        add.add_argument("--directory", default="", help="the directory source giving user ids")
        add.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="a setting of the platform (not a secret)")  # fmt: skip
        add.add_argument("--no-todos", action="store_true", help="send no to-dos")
        add.add_argument("--no-notices", action="store_true", help="send no alert cards")
        add.add_argument("--no-approvals", action="store_true", help="send no approval cards")
        sub.add_parser("list", help="list the chat apps")
        remove = sub.add_parser("remove", help="forget a chat app")
        remove.add_argument("name")
        mapping = sub.add_parser("map", help="say who a user is on the app")
        mapping.add_argument("name")
        mapping.add_argument("username")
        mapping.add_argument("platform_id")
        mapping.add_argument("--union-id", default="")
        register = sub.add_parser("register-callback", help="DingTalk: register the callback")
        register.add_argument("name")
        sub.add_parser("deliver", help="make the due calls to the platforms now")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action'].replace('-', '_')}")(options)

    def _app(self, name: str) -> ChatApp:
        app = ChatApp.objects.filter(name=name).first()
        if app is None:
            raise CommandError(f"No chat app named {name!r}.")
        return app

    def _add(self, options: dict[str, Any]) -> None:
        module = module_for(options["kind"])
        kinds = {s.key: s.kind for s in module.SETTINGS if not s.secret}
        choices = {s.key: [c for c, _label in s.choices] for s in module.SETTINGS if s.choices}
        config: dict[str, Any] = {}
        for pair in options["set"]:
            key, _, value = pair.partition("=")
            if key not in kinds:
                raise CommandError(f"{key!r} is not a setting of {options['kind']}.")
            if kinds[key] == "int":
                if not value.isdigit():
                    raise CommandError(f"{key} must be a whole number.")
                config[key] = int(value)
            elif key in choices and value not in choices[key]:
                raise CommandError(f"{key} must be one of {', '.join(choices[key])}.")
            else:
                config[key] = value
        secrets = {}
        needed = services.required_settings(options["kind"], config)
        for setting in (s for s in module.SETTINGS if s.secret):
            value = os.environ.get(f"CHAT_APP_{setting.key.upper()}", "")
            if not value and setting.key in needed:
                value = getpass.getpass(f"{setting.label}: ")
            secrets[setting.key] = value
        directory = None
        if options["directory"]:
            directory = DirectorySource.objects.filter(
                name=options["directory"], kind=options["kind"]
            ).first()
            if directory is None:
                raise CommandError(
                    f"No {options['kind']} directory source {options['directory']!r}."
                )
        try:
            app = services.chat_app_save(
                app=None, kind=options["kind"], name=options["name"],
                base_url=options["url"] or module.DEFAULT_BASE_URL, config=config,
                secrets=secrets, directory=directory, todos=not options["no_todos"],
                notices=not options["no_notices"], approvals=not options["no_approvals"],
            )  # fmt: skip
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"Added {app.kind} chat app {app.name!r} (id {app.pk}).")
        if _stream(app):
            self.stdout.write(_stream_note(app))
            return
        from integrations.chat.views import callback_url

        self.stdout.write(f"Callback address to enter on the platform: {callback_url(app)}")

    def _list(self, options: dict[str, Any]) -> None:
        for app in ChatApp.objects.order_by("name"):
            failed = ChatJob.objects.filter(card__app=app, status=ChatJob.Status.FAILED).count()
            state = "enabled" if app.enabled else "disabled"
            mode = "\tStream mode (no callback to register)" if _stream(app) else ""
            self.stdout.write(
                f"{app.name}\t{app.kind}\t{state}\t{app.cards.count()} cards\t{failed} dead letters"
                + mode
            )

    def _remove(self, options: dict[str, Any]) -> None:
        services.chat_app_remove(app=self._app(options["name"]))
        self.stdout.write(f"Removed {options['name']!r}.")

    def _map(self, options: dict[str, Any]) -> None:
        app = self._app(options["name"])
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        try:
            services.identity_save(
                app=app, user=user, platform_id=options["platform_id"], union_id=options["union_id"]
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"{user} is {options['platform_id']} on {app.name}.")

    def _register_callback(self, options: dict[str, Any]) -> None:
        app = self._app(options["name"])
        if _stream(app):
            self.stdout.write(_stream_note(app))
            return
        register = getattr(module_for(app.kind), "register_callback", None)
        if register is None:
            raise CommandError(
                "Only DingTalk registers its callback by API; enter the address on the platform."
            )
        from integrations.chat.views import callback_url

        try:
            register(app, callback_url(app))
        except ChatError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Registered {callback_url(app)}.")

    def _deliver(self, options: dict[str, Any]) -> None:
        outcome = outbox.deliver()
        self.stdout.write(
            f"{outcome.done} done, {outcome.waiting} waiting, {outcome.failed} failed"
        )
