"""Finance's approval policy: tiers of amounts and their ordered approver roles."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from renewals.requests.models.approvals import ApprovalTier


@transaction.atomic
def tier_save(*, tier: ApprovalTier) -> ApprovalTier:
    """Validate (ranges may not overlap: the database's exclusion constraint has the last word)
    and save. Requests already submitted keep the steps they were given."""
    tier.full_clean()
    tier.save()
    return tier


@transaction.atomic
def tier_delete(*, tier: ApprovalTier) -> None:
    tier.delete()


# The product's default policy (also installed by migration 0006): below 50,000 CNY the
# department head; from 50,000 CNY the department head, then finance.
DEFAULT_TIERS = [
    ("部门审批 Department", Decimal("0.00"), Decimal("50000.00"), ["department_head"]),
    ("财务审批 Finance", Decimal("50000.00"), None, ["department_head", "finance"]),
]


@transaction.atomic
def tiers_ensure_defaults() -> int:
    """Install the default tiers when there are none (a fresh or flushed database)."""
    if ApprovalTier.objects.exists():
        return 0
    for name, low, high, roles in DEFAULT_TIERS:
        ApprovalTier.objects.create(name=name, min_amount=low, max_amount=high, roles=roles)
    return len(DEFAULT_TIERS)
