"""Run the alert sweep for a day (today in TIME_ZONE by default) and deliver what is pending."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from renewals.alerts import services as alerts


class Command(BaseCommand):
    help = "Record the renewal alerts due on a day and send the pending ones (safe to run twice)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="Simulate this date (YYYY-MM-DD).")
        parser.add_argument("--no-send", action="store_true", help="Only record what is due.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["today"]:
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError("--today must be a date like 2026-11-26") from exc
        result = alerts.alerts_sweep(today=today)
        self.stdout.write(
            f"alerts due: {result.pending} new, {result.skipped} skipped (superseded)"
        )
        if not options["no_send"]:
            self.stdout.write(f"sent: {alerts.alerts_deliver()}")
