"""Make django-q2's Schedule rows match core.schedules.SCHEDULES (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone
from django_q.models import Schedule

from core.schedules import PREFIX, SCHEDULES

# Any fixed number: two start-ups syncing at the same moment take turns instead of both creating.
_ADVISORY_LOCK_KEY = 0x52454E57  # "RENW"


class Command(BaseCommand):
    help = "Create, update and remove the recurring django-q2 schedules Renewal Desk relies on."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        wanted = {spec.full_name: spec for spec in SCHEDULES}
        created = updated = 0
        for name, spec in wanted.items():
            timing = {
                "func": spec.func,
                "schedule_type": spec.schedule_type,
                "minutes": spec.minutes,
                "cron": spec.cron,
                "kwargs": repr(spec.kwargs) if spec.kwargs else None,
                "repeats": -1,
            }
            rows = list(Schedule.objects.filter(name=name).order_by("pk"))
            if not rows:
                Schedule.objects.create(name=name, **timing)
                created += 1
                continue
            schedule, duplicates = rows[0], rows[1:]
            for duplicate in duplicates:
                duplicate.delete()
            changed = [k for k, v in timing.items() if getattr(schedule, k) != v]
            if changed:
                for key in changed:
                    setattr(schedule, key, timing[key])
                # A changed timing restarts the clock; an unchanged one keeps its next_run, so a
                # restart never delays or repeats a run.
                schedule.next_run = (
                    schedule.calculate_next_run()
                    if schedule.schedule_type == Schedule.CRON
                    else timezone.now()
                )
                schedule.save()
                updated += 1
        removed, _ = (
            Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=wanted).delete()
        )
        self.stdout.write(
            f"schedules: {created} created, {updated} updated, {removed} removed, "
            f"{len(wanted)} in total"
        )
