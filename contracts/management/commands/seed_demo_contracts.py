"""Demo contracts with their PDFs (run by seed_demo after the inventory; idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from contracts.demo import seed_contracts
from org.models import User


class Command(BaseCommand):
    help = "Create the demo contracts, each with a signed PDF stored and its text extracted."

    def handle(self, *args: Any, **options: Any) -> None:
        admin = User.objects.get(username="admin")
        count = seed_contracts(user=admin, today=timezone.localdate())
        self.stdout.write(f"demo contracts: {count} on file")
