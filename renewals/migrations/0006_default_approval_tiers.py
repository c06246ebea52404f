"""The default approval policy: below 50,000 CNY the department head; from 50,000 CNY the
department head and then finance. Finance changes it on the approval-tiers page."""

from decimal import Decimal

from django.db import migrations

DEFAULT_TIERS = [
    ("部门审批 Department", Decimal("0.00"), Decimal("50000.00"), ["department_head"]),
    ("财务审批 Finance", Decimal("50000.00"), None, ["department_head", "finance"]),
]


def create_tiers(apps, schema_editor):
    ApprovalTier = apps.get_model("renewals", "ApprovalTier")
    if ApprovalTier.objects.exists():
        return
    for name, low, high, roles in DEFAULT_TIERS:
        ApprovalTier.objects.create(name=name, min_amount=low, max_amount=high, roles=roles)


class Migration(migrations.Migration):
    dependencies = [("renewals", "0005_renewal_requests")]

    operations = [migrations.RunPython(create_tiers, migrations.RunPython.noop)]
