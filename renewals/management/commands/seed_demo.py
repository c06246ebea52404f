"""Load the whole demo: the organisation, then the inventory through the import engine."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from budgets import services as budget_services
from org import demo as org_demo
from org.models import Department, User
from renewals.demo import briefings as demo_briefings
from renewals.demo import inventory as demo
from renewals.demo import risks as demo_risks
from renewals.demo import suggestions as demo_reports
from renewals.demo.history import book_history_actuals, seed_history
from renewals.imports import services as imports
from renewals.imports.models import ImportJob
from renewals.inventory.models import CurrencyRate, Subscription
from renewals.requests import services as requests
from renewals.requests.models.requests import Purpose, RenewalRequest

# Yearly IT software budget per demo department (CNY).
DEMO_BUDGETS = {
    "hq": "300000", "rd": "1200000", "rd-qa": "250000", "pmo": "260000", "mkt": "380000",
    "sales": "900000", "fin": "300000", "hr": "150000", "it": "800000",
}  # fmt: skip


def demo_state() -> str:
    """What the database holds: "empty" (load the demo), "loaded" (the demo users are there) or
    "own data" (departments, users or subscriptions not from the demo: a database in use)."""
    demo_users = User.objects.filter(
        username__in=[u.username for u in org_demo.USERS],
        email__endswith=f"@{org_demo.EMAIL_DOMAIN}",
    )
    if demo_users.exists():
        return "loaded"
    if User.objects.exists() or Department.objects.exists() or Subscription.objects.exists():
        return "own data"
    return "empty"


class Command(BaseCommand):
    help = (
        "Load the demo company and its software inventory, once, into a database with no data "
        "of its own; otherwise change nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        state = demo_state()
        if state == "loaded":
            self.stdout.write(
                "demo data: already loaded, nothing changed (the demo is loaded only once)"
            )
            return
        if state == "own data":
            self.stdout.write(
                "demo data: not loaded, this database has data of its own (departments, users or "
                "subscriptions not from the demo); nothing changed"
            )
            return
        # All or nothing: a start interrupted half-way leaves an empty database, loaded next time.
        with transaction.atomic():
            self._load()

    def _load(self) -> None:
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
        self.stdout.write(f"demo categories: {demo.categorise()} subscriptions categorised")
        history = seed_history(today=today)
        self.stdout.write(
            f"demo history: {history.renewals} renewals ({history.late} late, "
            f"{history.cheaper} with fewer seats)"
        )
        # Last year's (the history's earliest payments), this year's and next year's: renewals
        # approved now start their new term next year.
        for year in (today.year - 1, today.year, today.year + 1):
            self._budgets(year)
        booked = book_history_actuals(user=User.objects.get(username="finance"))
        self.stdout.write(f"demo ledger: {booked} renewals of the history booked as actuals")
        self._requests()
        risks = demo_risks.build()
        self.stdout.write(f"demo risks: {risks.raised} raised, {risks.closed} closed")
        self.stdout.write(f"demo suggestions: {demo_reports.demo_suggestions(today=today)} new")
        call_command("seed_demo_contracts", stdout=self.stdout)  # contracts' (not imported)
        self.stdout.write(f"demo briefings: {demo_briefings.render_last_month(today=today)}")

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

    def _requests(self) -> None:
        """Three renewal requests in R&D at different stages, so every role has something to
        look at: a draft comparing vendors, one waiting for the head, one waiting for finance."""
        if RenewalRequest.objects.exists():
            return
        swadmin = User.objects.get(username="swadmin_rd")
        head = User.objects.get(username="head_rd")
        candidates = list(
            Subscription.objects.filter(department__code="rd", status="active")
            .select_related("vendor", "department")
            .order_by("term_end", "ref")[:3]
        )
        if len(candidates) < 3:
            return
        draft_sub, waiting_sub, finance_sub = candidates
        draft = requests.request_create(
            subscription=draft_sub, user=swadmin, purpose=Purpose.SEATS,
            justification="研发中心人员调整，闲置账号较多，建议减少席位并比较其他供应商报价。",
        )  # fmt: skip
        for vendor, product, price in (
            ("ClickUp", "ClickUp Business", "84"),
            ("Asana", "Asana Advanced", "170"),
        ):
            requests.quote_save(
                request=draft, user=swadmin,
                data={"vendor_name": vendor, "product": product, "seats": draft.proposed_seats,
                      "unit_price": Decimal(price), "billing_cycle": "monthly", "term_months": 12,
                      "price_increase_cap_percent": Decimal("5")},
            )  # fmt: skip
        waiting = requests.request_create(
            subscription=waiting_sub, user=swadmin, justification="使用稳定，按原方案续费。"
        )
        requests.request_submit(request=waiting, user=swadmin)
        upgrade = requests.request_create(
            subscription=finance_sub, user=swadmin, purpose=Purpose.EDITION,
            justification="需要企业版的安全审计与单点登录功能。",
        )  # fmt: skip
        enterprise = requests.quote_save(
            request=upgrade, user=swadmin,
            data={"vendor_name": finance_sub.vendor.name, "product": finance_sub.product,
                  "edition": "Enterprise", "seats": max(finance_sub.seats_purchased, 40),
                  "unit_price": Decimal("1800"), "billing_cycle": "annual", "term_months": 12,
                  "discount_percent": Decimal("10"), "price_increase_cap_percent": Decimal("8")},
        )  # fmt: skip
        requests.quote_choose(request=upgrade, user=swadmin, quote=enterprise)
        requests.request_submit(request=upgrade, user=swadmin)
        requests.step_decide(request=upgrade, user=head, decision="approve", comment="同意升级")
        self.stdout.write("demo renewal requests: 3 (draft, awaiting the head, awaiting finance)")
