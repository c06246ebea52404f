"""Budget balances: always sums of ledger entries, for one or many budgets in one query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce

from budgets.models import Budget, LedgerEntry
from budgets.money import cents

K = LedgerEntry.Kind
ZERO = Decimal("0.00")
ALLOCATING = [K.ALLOCATION, K.ADJUSTMENT, K.TRANSFER]


@dataclass(frozen=True)
class Balance:
    """Where a budget stands. available = allocated - reserve - committed - actual."""

    allocated: Decimal = ZERO
    reserve: Decimal = ZERO
    committed: Decimal = ZERO
    actual: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.allocated - self.reserve - self.committed - self.actual

    @property
    def used_percent(self) -> Decimal | None:
        if self.allocated <= 0:
            return None
        return ((self.committed + self.actual) * 100 / self.allocated).quantize(Decimal("0.1"))

    def __add__(self, other: Balance) -> Balance:
        """Roll-up: a parent department's figures include its sub-departments'."""
        return Balance(
            self.allocated + other.allocated,
            self.reserve + other.reserve,
            self.committed + other.committed,
            self.actual + other.actual,
        )


def _sum(kinds: Sequence[str]) -> Coalesce:
    # A reversal counts in the bucket of the entry it reverses (with the opposite sign).
    return Coalesce(
        Sum("amount", filter=Q(effective_kind__in=kinds)),
        Value(ZERO),
        output_field=DecimalField(max_digits=16, decimal_places=2),
    )


def balances(budget_ids: Iterable[int]) -> dict[int, Balance]:
    """The balance of each budget, in one query."""
    budget_ids = list(budget_ids)
    rows = (
        LedgerEntry.objects.filter(budget_id__in=budget_ids)
        .annotate(effective_kind=Coalesce(F("reverses__kind"), F("kind")))
        .values("budget_id")
        .annotate(
            allocated=_sum(ALLOCATING),
            reserve_released=_sum([K.RESERVE_RELEASE]),
            committed=_sum([K.COMMITMENT]),
            released=_sum([K.COMMITMENT_RELEASE]),
            actual=_sum([K.ACTUAL]),
        )
        .order_by()
    )
    percents = dict(Budget.objects.filter(pk__in=budget_ids).values_list("pk", "reserve_percent"))
    result = {pk: Balance() for pk in percents}
    for row in rows:
        allocated = row["allocated"]
        # The reserve is the set share of the allocation, less what finance released from it.
        held = cents(allocated * percents[row["budget_id"]] / 100) - row["reserve_released"]
        result[row["budget_id"]] = Balance(
            allocated=allocated,
            reserve=max(ZERO, held),
            committed=row["committed"] - row["released"],
            actual=row["actual"],
        )
    return result


def balance(budget: Budget) -> Balance:
    return balances([budget.pk])[budget.pk]
