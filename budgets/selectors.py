"""Budget balances: sums of ledger entries, for one or many budgets in one query.

Pages read the sums the database keeps per (budget, kind) (``balances``); the same figures summed
from the entries themselves (``balances_from_entries``) are the definition, and
``total_mismatches`` lists any place where the two disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

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


@dataclass(frozen=True)
class KindSum:
    """The sum and number of a budget's entries of one effective kind."""

    total: Decimal
    entries: int


# A reversal counts in the bucket of the entry it reverses (with the opposite sign). The same
# rule is in the ledger's trigger (migration 0004): change both or neither.
_SUMS_FROM_ENTRIES = """
SELECT e.budget_id, COALESCE(r.kind, e.kind) AS kind, SUM(e.amount) AS total, COUNT(*) AS entries
FROM budgets_ledgerentry e LEFT JOIN budgets_ledgerentry r ON r.id = e.reverses_id
{where}
GROUP BY 1, 2
"""

# Each budget with its reserve % and its (kind, total, entries) rows, from the kept totals ...
_BUDGETS_WITH_TOTALS = """
SELECT b.id, b.reserve_percent, t.kind, t.total, t.entries
FROM budgets_budget b LEFT JOIN budgets_budgetkindtotal t ON t.budget_id = b.id
WHERE b.id = ANY(%(ids)s)
"""
# ... or summed from the entries.
_BUDGETS_WITH_SUMS = f"""
SELECT b.id, b.reserve_percent, s.kind, s.total, s.entries
FROM budgets_budget b
LEFT JOIN ({_SUMS_FROM_ENTRIES.format(where="WHERE e.budget_id = ANY(%(ids)s)")}) s
    ON s.budget_id = b.id
WHERE b.id = ANY(%(ids)s)
"""


def _balances(sql: str, budget_ids: Iterable[int]) -> dict[int, Balance]:
    """One query (the ids go as one array parameter, however many there are)."""
    percents: dict[int, Decimal] = {}
    sums: dict[tuple[int, str], Decimal] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": list(budget_ids)})
        for pk, percent, kind, total, _entries in cursor.fetchall():
            percents[pk] = percent
            if kind is not None:
                sums[pk, kind] = total

    def of(pk: int, *kinds: str) -> Decimal:
        return sum((sums.get((pk, k), ZERO) for k in kinds), ZERO)

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
    """The balance of each budget, in one query, from the totals the database keeps per
    (budget, kind) as entries are written (however large the ledger)."""
    return _balances(_BUDGETS_WITH_TOTALS, budget_ids)


def balances_from_entries(budget_ids: Iterable[int]) -> dict[int, Balance]:
    """The balance of each budget summed from the ledger entries themselves: the definition
    that ``balances`` must always agree with (tests and the daily reconciliation check it)."""
    return _balances(_BUDGETS_WITH_SUMS, budget_ids)


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
