"""Budget balances: sums of ledger entries, for one or many budgets in a fixed number of queries.

Pages read the sums the database keeps per (budget, kind) (``balances``); the same figures summed
from the entries themselves (``balances_from_entries``) are the definition, and
``total_mismatches`` lists any place where the two disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from budgets.models import Budget, BudgetKindTotal, LedgerEntry
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


@dataclass(frozen=True)
class KindSum:
    """The sum and number of a budget's entries of one effective kind."""

    total: Decimal
    entries: int


# (budget id, effective kind) -> its sum; a reversal's effective kind is the reversed entry's.
KindSums = dict[tuple[int, str], KindSum]

# A reversal counts in the bucket of the entry it reverses (with the opposite sign). The same
# rule is in the ledger's trigger (migration 0004): change both or neither.
_SUMS_FROM_ENTRIES = """
SELECT e.budget_id, COALESCE(r.kind, e.kind) AS kind, SUM(e.amount) AS total, COUNT(*) AS entries
FROM budgets_ledgerentry e LEFT JOIN budgets_ledgerentry r ON r.id = e.reverses_id
{where}
GROUP BY 1, 2
"""


def _sums_from_entries(budget_ids: list[int]) -> KindSums:
    with connection.cursor() as cursor:
        cursor.execute(_SUMS_FROM_ENTRIES.format(where="WHERE e.budget_id = ANY(%s)"), [budget_ids])
        return {(b, k): KindSum(t, n) for b, k, t, n in cursor.fetchall()}


def _sums_from_totals(budget_ids: list[int]) -> KindSums:
    rows = BudgetKindTotal.objects.filter(budget_id__in=budget_ids).values_list(
        "budget_id", "kind", "total", "entries"
    )
    return {(b, k): KindSum(t, n) for b, k, t, n in rows}


def _balances(budget_ids: list[int], sums: KindSums) -> dict[int, Balance]:
    percents = dict(Budget.objects.filter(pk__in=budget_ids).values_list("pk", "reserve_percent"))

    def of(pk: int, *kinds: str) -> Decimal:
        return sum((sums[pk, k].total for k in kinds if (pk, k) in sums), ZERO)

    result = {}
    for pk, percent in percents.items():
        allocated = of(pk, *ALLOCATING)
        # The reserve is the set share of the allocation, less what finance released from it.
        held = cents(allocated * percent / 100) - of(pk, K.RESERVE_RELEASE)
        result[pk] = Balance(
            allocated=allocated,
            reserve=max(ZERO, held),
            committed=of(pk, K.COMMITMENT) - of(pk, K.COMMITMENT_RELEASE),
            actual=of(pk, K.ACTUAL),
        )
    return result


def balances(budget_ids: Iterable[int]) -> dict[int, Balance]:
    """The balance of each budget, in two queries, from the totals the database keeps per
    (budget, kind) as entries are written (however large the ledger)."""
    budget_ids = list(budget_ids)
    return _balances(budget_ids, _sums_from_totals(budget_ids))


def balances_from_entries(budget_ids: Iterable[int]) -> dict[int, Balance]:
    """The balance of each budget summed from the ledger entries themselves: the definition
    that ``balances`` must always agree with (tests and the daily reconciliation check it)."""
    budget_ids = list(budget_ids)
    return _balances(budget_ids, _sums_from_entries(budget_ids))


def balance(budget: Budget) -> Balance:
    return balances([budget.pk])[budget.pk]


@dataclass(frozen=True)
class TotalMismatch:
    """A (budget, kind) whose kept total differs from the sum of its entries."""

    budget_id: int
    kind: str
    kept: KindSum | None
    summed: KindSum | None


_MISMATCHES = f"""
WITH summed AS ({_SUMS_FROM_ENTRIES.format(where="")})
SELECT COALESCE(s.budget_id, t.budget_id), COALESCE(s.kind, t.kind),
       t.total, t.entries, s.total, s.entries
FROM summed s FULL OUTER JOIN budgets_budgetkindtotal t
    ON t.budget_id = s.budget_id AND t.kind = s.kind
WHERE t.total IS DISTINCT FROM s.total OR t.entries IS DISTINCT FROM s.entries
ORDER BY 1, 2
"""


def total_mismatches() -> list[TotalMismatch]:
    """Every (budget, kind) where the kept totals and the entries disagree, over the whole ledger.

    One statement, so both sides are read from the same snapshot: an entry committed meanwhile is
    either in both or in neither."""
    with connection.cursor() as cursor:
        cursor.execute(_MISMATCHES)
        return [
            TotalMismatch(
                budget_id=b,
                kind=k,
                kept=KindSum(kt, kn) if kt is not None else None,
                summed=KindSum(st, sn) if st is not None else None,
            )
            for b, k, kt, kn, st, sn in cursor.fetchall()
        ]
