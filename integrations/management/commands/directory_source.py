"""manage.py directory_source add|list|sync|remove: directory sources for automation.

    manage.py directory_source add ldap --name AD --url ldaps://dc1:636 --bind-dn CN=svc,... \\
        --base-dn OU=Staff,DC=example,DC=cn [--set ca_file=/etc/ssl/corp-ca.pem ...]
    (the bind password is read from the environment variable named by --password-env, default
    DIRECTORY_BIND_PASSWORD, or asked for at the prompt: never on the command line)
    manage.py directory_source list
    manage.py directory_source sync AD [--full]
    manage.py directory_source remove AD
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations import services
from integrations.directory import sync
from integrations.forms import SETTINGS
from integrations.models import DirectorySource, SyncRun


class Command(BaseCommand):
    help = "Add, list, sync or remove directory sources (LDAP/AD, Feishu, DingTalk, WeCom, SCIM)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a source")
        add.add_argument("kind", choices=DirectorySource.Kind.values)
        add.add_argument("--name", required=True)
        add.add_argument("--url")
        add.add_argument("--bind-dn")
        add.add_argument("--base-dn")
        add.add_argument("--every", type=int, default=60, help="minutes between syncs (0: by hand)")
        add.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="another setting of the kind (not a secret)")  # fmt: skip
        add.add_argument("--secret-env", action="append", default=[], metavar="KEY=ENVVAR",
                         help="a secret read from an environment variable")  # fmt: skip
        add.add_argument("--password-env", default="DIRECTORY_BIND_PASSWORD",
                         help="LDAP: the variable holding the bind password")  # fmt: skip
        sub.add_parser("list", help="list the sources")
        run = sub.add_parser("sync", help="sync a source now, in this process")
        run.add_argument("name")
        run.add_argument("--full", action="store_true")
        remove = sub.add_parser("remove", help="forget a source (its people stay)")
        remove.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _source(self, name: str) -> DirectorySource:
        source = DirectorySource.objects.filter(name=name).first()
        if source is None:
            raise CommandError(f"No directory source named {name!r}.")
        return source

    def _add(self, options: dict[str, Any]) -> None:
        kind = options["kind"]
        known = {s.key: s for s in SETTINGS[kind]}
        config: dict[str, Any] = {}
        for key, value in (("url", options["url"]), ("bind_dn", options["bind_dn"]),
                           ("base_dn", options["base_dn"])):  # fmt: skip
            if value:
                config[key] = value
        for pair in options["set"]:
            key, _, value = pair.partition("=")
            if key not in known or known[key].secret:
                raise CommandError(f"{key!r} is not a setting of a {kind} source.")
            config[key] = {"true": True, "false": False}.get(value.lower(), value)
        secrets = {}
        for pair in options["secret_env"]:
            key, _, variable = pair.partition("=")
            if key not in known or not known[key].secret:
                raise CommandError(f"{key!r} is not a secret of a {kind} source.")
            secrets[key] = os.environ.get(variable, "")
            if not secrets[key]:
                raise CommandError(f"The environment variable {variable} is empty.")
        if kind == DirectorySource.Kind.LDAP and "bind_password" not in secrets:
            password = os.environ.get(options["password_env"]) or getpass.getpass("Bind password: ")
            secrets["bind_password"] = password
        missing = [
            s.key for s in SETTINGS[kind] if s.required and not s.secret and not config.get(s.key)
        ]
        if missing:
            raise CommandError(f"Missing settings: {', '.join(missing)}.")
        try:
            source = services.source_save(
                source=None, kind=kind, name=options["name"], config=config, secrets=secrets,
                sync_every_minutes=options["every"],
            )  # fmt: skip
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"Added {source.kind} source {source.name!r} (id {source.pk}).")

    def _list(self, options: dict[str, Any]) -> None:
        for source in DirectorySource.objects.order_by("name"):
            run = source.runs.first()
            last = f"{run.started_at:%Y-%m-%d %H:%M} {run.status}" if run else "never run"
            self.stdout.write(
                f"{source.name}\t{source.kind}\tevery {source.sync_every_minutes} min\t{last}"
            )

    def _sync(self, options: dict[str, Any]) -> None:
        source = self._source(options["name"])
        if source.kind == DirectorySource.Kind.SCIM:
            raise CommandError("A SCIM source is pushed to; there is nothing to pull.")
        run = sync.sync_source(
            source, trigger=SyncRun.Trigger.COMMAND, full=options["full"] or None
        )
        self.stdout.write(f"{run.status}: {run.counts}")
        if run.error:
            self.stdout.write(run.error)
        if run.status == SyncRun.Status.FAILED:
            raise CommandError("The sync failed.")

    def _remove(self, options: dict[str, Any]) -> None:
        source = self._source(options["name"])
        services.source_remove(source=source)
        self.stdout.write(
            f"Removed {options['name']!r}; the people and departments it brought stay."
        )
