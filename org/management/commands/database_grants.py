"""Print (or, with --apply, run) the grants of the application's database role."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from core.db_roles import grant_statements


class Command(BaseCommand):
    help = (
        "The GRANT statements for the role the web processes and workers connect as (run as the "
        "tables' owner, after every migrate): printed, or run with --apply."
    )
    requires_system_checks: list[str] = []  # run as the owner, whom the role check warns about

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the application's database role, e.g. renewaldesk_app")
        parser.add_argument("--apply", action="store_true", help="run them on DATABASE_URL")

    def handle(self, *args: Any, role: str, apply: bool, **options: Any) -> None:
        statements = grant_statements(role)
        if not apply:
            self.stdout.write("".join(f"{s};\n" for s in statements), ending="")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"{len(statements)} statements applied for {role}.")
