"""Write the demo inventory CSVs (the files seed_demo imports) to a folder, to try the imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from renewals.demo import inventory as demo


class Command(BaseCommand):
    help = "Write demo-subscriptions.csv, demo-seats.csv, demo-usage.csv and demo-activity.csv."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default="demo-csv", help="Folder to write into (created).")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        files = demo.build(today=timezone.localdate(), owners={"rd": "head_rd", "mkt": "head_mkt"})
        for kind in ("subscriptions", "seats", "usage", "activity"):
            path = out / f"demo-{kind}.csv"
            path.write_text(files.csv(kind), encoding="utf-8")
            self.stdout.write(f"{path}")
