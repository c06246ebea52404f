"""Monthly usage written row by row from other systems (the REST API's bulk create); files go
through the import engine (renewals/imports/services.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from budgets.services import local_today
from org.scoping import managed_departments
from renewals.inventory.models import Module, Subscription
from renewals.usage.models import MonthlyUsage

# One call writes at most this many rows (a month of a large company); more is refused whole.
USAGE_BULK_MAX = 5000


@dataclass(frozen=True)
class UsageRow:
    subscription_id: int
    module: str | None
    month: dt.date
    active_users: int
    tasks_created: int | None = None
    tasks_completed: int | None = None


@transaction.atomic
def usage_bulk_upsert(*, user: object, rows: list[UsageRow]) -> int:
    """Create or update the usage of the given (subscription, module, month)s, all or nothing.
    Subscriptions must be in departments the user manages, modules must belong to them, months
    may not lie in the future; any refused row refuses the call, with every row's reason."""
    if not rows:
        raise ValidationError(_("No rows were sent."))
    if len(rows) > USAGE_BULK_MAX:
        raise ValidationError(
            _("At most %(max)d rows per call; %(count)d were sent.")
            % {"max": USAGE_BULK_MAX, "count": len(rows)}
        )
    ids = {row.subscription_id for row in rows}
    allowed = dict(
        Subscription.objects.filter(
            pk__in=ids, department__in=managed_departments(user)
        ).values_list("pk", "seats_purchased")
    )
    modules = {
        (sid, name): pk
        for pk, sid, name in Module.objects.filter(subscription_id__in=allowed).values_list(
            "pk", "subscription_id", "name"
        )
    }
    this_month = local_today().replace(day=1)
    errors: dict[str, list[str]] = {}
    seen: set[tuple[int, int | None, dt.date]] = set()
    objects = []
    for index, row in enumerate(rows):
        problems = []
        module_id = None
        if row.subscription_id not in allowed:
            problems.append(_("No subscription with this id that you may change."))
        elif row.module:
            module_id = modules.get((row.subscription_id, row.module))
            if module_id is None:
                problems.append(_("The subscription has no module of this name."))
        if row.month.day != 1:
            problems.append(_("Usage is recorded per calendar month."))
        if row.month > this_month:
            problems.append(_("The month lies in the future."))
        key = (row.subscription_id, module_id, row.month)
        if key in seen:
            problems.append(_("This subscription, module and month appear twice."))
        seen.add(key)
        if problems:
            errors[str(index)] = problems
            continue
        objects.append(
            MonthlyUsage(
                subscription_id=row.subscription_id,
                module_id=module_id,
                month=row.month,
                active_users=row.active_users,
                tasks_created=row.tasks_created,
                tasks_completed=row.tasks_completed,
            )
        )
    if errors:
        raise ValidationError({"rows": [f"#{i}: {'; '.join(p)}" for i, p in errors.items()]})
    MonthlyUsage.objects.bulk_create(
        objects,
        update_conflicts=True,
        unique_fields=["subscription", "module", "month"],
        update_fields=["active_users", "tasks_created", "tasks_completed"],
        batch_size=1000,
    )
    return len(objects)
