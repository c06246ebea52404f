"""Load the whole demo: the organisation, then the inventory through the import engine."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from budgets import services as budget_services
from org.models import Department, User
from renewals import demo
from renewals.models import CurrencyRate, ImportJob
from renewals.services import imports

# Yearly IT software budget per demo department (CNY).
DEMO_BUDGETS = {
    "hq": "300000", "rd": "1200000", "rd-qa": "250000", "pmo": "260000", "mkt": "380000",
    "sales": "900000", "fin": "300000", "hr": "150000", "it": "800000",
}  # fmt: skip


class Command(BaseCommand):
    help = "Create the demo company and its software inventory (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("seed_demo_org", stdout=self.stdout)
        today = timezone.localdate()
        for currency, rate in (("USD", "7.200000"), ("EUR", "7.800000")):
            CurrencyRate.objects.get_or_create(
                currency=currency,
                valid_from=today.replace(month=1, day=1),
                defaults={"rate_to_base": Decimal(rate)},
            )
        admin = User.objects.get(username="admin")
        files = demo.build(today=today, owners={"rd": "head_rd", "mkt": "head_mkt"})
        for kind in ("subscriptions", "seats", "usage", "activity"):
            upload = SimpleUploadedFile(f"demo-{kind}.csv", files.csv(kind).encode(), "text/csv")
            job = imports.import_upload(user=admin, kind=kind, upload=upload)
            if job.status == ImportJob.Status.READY:
                job = imports.import_commit(user=admin, job=job)
            if job.status != ImportJob.Status.DONE:
                raise CommandError(
                    f"demo {kind} import ended {job.status}: {job.failure_text or job.errors[:3]}"
                )
            s = job.summary
            self.stdout.write(
                f"demo {kind}: {job.total_rows} rows ({s['created']} new, {s['updated']} changed)"
            )
        self._budgets(today.year)

    def _budgets(self, year: int) -> None:
        """This year's budget for every demo department, allocated once by finance."""
        finance = User.objects.get(username="finance")
        opened = 0
        for department in Department.objects.order_by("code"):
            budget = budget_services.budget_for(department=department, year=year)
            if not budget.entries.exists():
                amount = Decimal(DEMO_BUDGETS.get(department.code, "200000"))
                budget_services.budget_allocate(
                    budget=budget, amount=amount, user=finance, memo=f"{year} 年度 IT 软件预算"
                )
                opened += 1
        self.stdout.write(f"demo budgets {year}: {opened} allocated now")
