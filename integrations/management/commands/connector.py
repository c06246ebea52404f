"""manage.py connector add|list|sync|remove: usage connectors for automation.

    manage.py connector add scim --name "Jira SCIM" --subscription SUB-0042 \\
        --url https://api.atlassian.com/scim/directory/ID [--set page_size=100 ...] \\
        [--every 360] [--delete]
    manage.py connector add github --name "GitHub" --subscription SUB-0007 \
        --url https://api.github.com --set organization=example-cn
    (secrets are never on the command line: the API token is read from the environment
    variable named by --token-env, default CONNECTOR_TOKEN; another secret of the kind from
    CONNECTOR_<KEY>, e.g. CONNECTOR_APP_SECRET, CONNECTOR_PASSWORD; or asked for at the prompt)
    manage.py connector list
    manage.py connector sync "Jira SCIM"
    manage.py connector remove "Jira SCIM"
    manage.py connector playbooks [--today 2027-03-01]
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.connectors import playbooks, revoking, services, sync
from integrations.connectors.kinds import KINDS
from integrations.models import Connector, ConnectorRun
from renewals.inventory.models import Subscription


class Command(BaseCommand):
    help = "Add, list, sync or remove usage connectors (a subscription's accounts from the tool)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a connector")
        add.add_argument("kind", choices=Connector.Kind.values)
        add.add_argument("--name", required=True)
        add.add_argument("--subscription", required=True, help="the subscription's reference")
        add.add_argument("--url", required=True, help="the tool's API base URL, or the file's")
        add.add_argument(
            "--every", type=int, default=360, help="minutes between syncs (0: by hand)"
        )
        add.add_argument("--delete", action="store_true",
                         help="revoking deletes the account (default: deactivates it)")  # fmt: skip
        add.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="another setting of the kind (not a secret)")  # fmt: skip
        add.add_argument("--token-env", default="CONNECTOR_TOKEN",
                         help="the environment variable holding the API token")  # fmt: skip
        sub.add_parser("list", help="list the connectors")
        run = sub.add_parser("sync", help="sync a connector now, in this process")
        run.add_argument("name")
        remove = sub.add_parser("remove", help="forget a connector (the seats it kept stay)")
        remove.add_argument("name")
        books = sub.add_parser(
            "playbooks", help="run the reclamation playbooks now, and the revocations they ask for"
        )
        books.add_argument("--today", type=dt.date.fromisoformat, default=None,
                           help="the day to run them as (YYYY-MM-DD; default: today)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _connector(self, name: str) -> Connector:
        connector = Connector.objects.filter(name=name).first()
        if connector is None:
            raise CommandError(f"No connector named {name!r}.")
        return connector

    def _add(self, options: dict[str, Any]) -> None:
        subscription = Subscription.objects.filter(ref=options["subscription"]).first()
        if subscription is None:
            raise CommandError(f"No subscription {options['subscription']!r}.")
        spec = KINDS[Connector.Kind(options["kind"])]
        kinds = {s.key: s.kind for s in spec.settings}
        config: dict[str, Any] = {}
        for pair in options["set"]:
            key, _, value = pair.partition("=")
            if kinds.get(key) == "int":
                if not value.isdigit():
                    raise CommandError(f"{key} must be a whole number.")
                config[key] = int(value)
            else:
                config[key] = value.lower() in ("1", "true", "yes") if kinds.get(key) == "bool" \
                    else value  # fmt: skip
        secrets = {}
        for setting in (s for s in spec.settings if s.secret):
            env = (
                options["token_env"]
                if setting.key == "token"
                else f"CONNECTOR_{setting.key.upper()}"
            )
            value = os.environ.get(env, "")
            if not value and setting.required:
                value = getpass.getpass(f"{setting.label}: ")
            secrets[setting.key] = value
        try:
            connector = services.connector_save(
                connector=None, subscription=subscription, kind=options["kind"],
                name=options["name"], base_url=options["url"], config=config,
                secrets=secrets, sync_every_minutes=options["every"],
                deprovision=Connector.Deprovision.DELETE if options["delete"]
                else Connector.Deprovision.DEACTIVATE,
            )  # fmt: skip
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Added {connector.kind} connector {connector.name!r} (id {connector.pk})."
        )

    def _list(self, options: dict[str, Any]) -> None:
        for connector in Connector.objects.select_related("subscription").order_by("name"):
            run = connector.runs.first()
            last = f"{run.started_at:%Y-%m-%d %H:%M} {run.status}" if run else "never run"
            self.stdout.write(
                f"{connector.name}\t{connector.kind}\t{connector.subscription.ref}\t"
                f"every {connector.sync_every_minutes} min\t{last}"
            )

    def _sync(self, options: dict[str, Any]) -> None:
        run = sync.sync_connector(
            self._connector(options["name"]), trigger=ConnectorRun.Trigger.COMMAND
        )
        if run is None:
            raise CommandError("The connector was removed while it ran.")
        self.stdout.write(f"{run.status}: {run.counts}")
        if run.error:
            self.stdout.write(run.error)
        if run.status == ConnectorRun.Status.FAILED:
            raise CommandError("The sync failed.")

    def _playbooks(self, options: dict[str, Any]) -> None:
        idle = playbooks.idle_run(options["today"])
        leavers = playbooks.leavers_run()
        self.stdout.write(f"idle: {idle or 'nothing to do'}; leavers: {leavers or 'nothing to do'}")
        for connector_id in revoking.revocations_due():
            name = Connector.objects.get(pk=connector_id).name
            self.stdout.write(f"{name}: {revoking.revocations_run(connector_id) or 'nothing due'}")

    def _remove(self, options: dict[str, Any]) -> None:
        services.connector_remove(connector=self._connector(options["name"]))
        self.stdout.write(f"Removed {options['name']!r}; the seats it kept stay.")
