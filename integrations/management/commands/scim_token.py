"""Bearer tokens for /scim/v2/: ``create`` (shows the token once), ``list``, ``revoke``.

manage.py scim_token create --name "Entra ID" [--source NAME] [--expires-days 365]
manage.py scim_token list
manage.py scim_token revoke --prefix AbCd1234
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from integrations.models import DirectorySource, ScimToken
from integrations.scim.tokens import MARK, scim_source, token_create, token_revoke


class Command(BaseCommand):
    help = "Create, list and revoke the bearer tokens identity providers use on /scim/v2/."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        create = commands.add_parser("create", help="Make a token and print it (once).")
        create.add_argument("--name", required=True, help="Who uses it, e.g. 'Entra ID'.")
        create.add_argument(
            "--source", help="The SCIM source (default: the one named SCIM, made if missing)."
        )
        create.add_argument("--expires-days", type=int, help="Expires after this many days.")
        commands.add_parser("list", help="List the tokens (never their values).")
        revoke = commands.add_parser("revoke", help="Revoke the token that starts so.")
        revoke.add_argument("--prefix", required=True, help="As 'list' shows it.")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(**options)

    def _create(self, *, name: str, source: str | None, expires_days: int | None,
                **_options: Any) -> None:  # fmt: skip
        if expires_days is not None and expires_days <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        try:
            scim = scim_source(source)
            expires_at = timezone.now() + dt.timedelta(days=expires_days) if expires_days else None
            token, plain = token_create(source=scim, name=name, expires_at=expires_at)
        except DirectorySource.DoesNotExist:
            raise CommandError(f"No directory source is named {source!r}.") from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Token {token.name!r} for source {scim.name!r} (starts with {MARK}"
                          f"{token.prefix}), shown this once only:")  # fmt: skip
        self.stdout.write(plain)
        if expires_at:
            self.stdout.write(f"Expires {timezone.localtime(expires_at):%Y-%m-%d %H:%M}.")
        self.stdout.write("SCIM base URL: https://<this site>/scim/v2/")

    def _list(self, **_options: Any) -> None:
        tokens = ScimToken.objects.select_related("source").order_by("-created_at")
        if not tokens:
            self.stdout.write("No SCIM tokens.")
        for token in tokens:
            state = (
                "revoked"
                if token.revoked_at
                else "expired"
                if token.expires_at and token.expires_at <= timezone.now()
                else "active"
            )
            used = f"{timezone.localtime(token.last_used_at):%Y-%m-%d %H:%M}" if (
                token.last_used_at) else "never"  # fmt: skip
            self.stdout.write(
                f"{token.prefix}  {state:8}  {token.source.name}  {token.name}  "
                f"created {timezone.localtime(token.created_at):%Y-%m-%d}  last used {used}"
            )

    def _revoke(self, *, prefix: str, **_options: Any) -> None:
        prefix = prefix.removeprefix(MARK)
        matches = list(ScimToken.objects.filter(prefix=prefix, revoked_at__isnull=True))
        if not matches:
            raise CommandError(f"No active token starts with {prefix!r}.")
        if len(matches) > 1:
            raise CommandError(f"{len(matches)} active tokens start with {prefix!r}.")
        token = token_revoke(token=matches[0])
        self.stdout.write(f"Revoked {token.name!r} ({token.prefix}).")
