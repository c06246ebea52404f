"""Budget balances: sums of ledger entries, for one or many budgets in one query.

Pages read the sums the database keeps per (budget, kind) (``balances``); the same figures summed
from the entries themselves (``balances_from_entries``) are the definition, and
``total_mismatches`` lists any place where the two disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from budgets.models import Budget, LedgerEntry
from budgets.money import cents
from budgets.references import Source
from org.models import Department

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


def balance_of(percent: Decimal, sums: dict[str, Decimal]) -> Balance:
    """A budget's balance from the sums of its entries per effective kind (a reversal counted in
    the kind it reverses) and its reserve %: the one formula every figure uses (the balances of
    many budgets, and the ledger's running *available* after each entry)."""

    def of(*kinds: str) -> Decimal:
        return sum((sums.get(k, ZERO) for k in kinds), ZERO)

    allocated = of(*ALLOCATING)
    # The reserve is the set share of the allocation, less what finance released from it.
    held = cents(allocated * percent / 100) - of(K.RESERVE_RELEASE)
    return Balance(
        allocated=allocated,
        reserve=max(ZERO, held),
        committed=of(K.COMMITMENT) - of(K.COMMITMENT_RELEASE),
        actual=of(K.ACTUAL),
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
    sums: dict[int, dict[str, Decimal]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": list(budget_ids)})
        for pk, percent, kind, total, _entries in cursor.fetchall():
            percents[pk] = percent
            if kind is not None:
                sums.setdefault(pk, {})[kind] = total
    return {pk: balance_of(percent, sums.get(pk, {})) for pk, percent in percents.items()}


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


# One rule for a department's budget figure, on every page, the briefing and the API: its own
# budget's figures plus those of every department below it (at any depth), for the same year.
# Wherever a department has sub-departments the figure is labelled "incl. sub-departments" and
# its own budget's share is shown beside it.

# The departments in scope and every department below them, in one recursive query.
_TREE_SQL = """
WITH RECURSIVE tree(id) AS (
    {anchor}
    UNION
    SELECT d.id FROM org_department d JOIN tree t ON d.parent_id = t.id
)
SELECT id FROM tree
"""


@dataclass(frozen=True)
class DepartmentBudget:
    """A department's budget figures for one year: its own budget's and its sub-departments'."""

    department: Department
    depth: int  # 0 for a department whose parent is not shown, +1 per level below it
    budget: Budget | None  # its own budget for the year, if it has one
    own: Balance
    sub_departments: Balance  # every department below it together (zeros when none)
    has_sub_departments: bool

    @property
    def balance(self) -> Balance:
        """The department's figure: its own budget plus its sub-departments' rolled up."""
        return self.own + self.sub_departments

    @property
    def budget_id(self) -> int | None:
        return self.budget.pk if self.budget else None


def department_budgets(
    scope: QuerySet[Department] | Iterable[int] | None, year: int
) -> list[DepartmentBudget]:
    """Each department in ``scope`` (a queryset or ids; None: every department) with its figures
    for ``year``, in tree order (parents before their sub-departments, siblings by code). The
    sub-departments of a department in scope are always included: its figure rolls them up. Three
    queries, however many departments and entries."""
    if scope is None:
        departments = Department.objects.all()
    else:
        if isinstance(scope, QuerySet):
            sql, params = scope.values("pk").query.sql_with_params()
            anchor = f"SELECT pk FROM ({sql}) scope(pk)"
        else:
            anchor, params = "SELECT unnest(%s::bigint[])", (list(scope),)
        tree = RawSQL(_TREE_SQL.format(anchor=anchor), params)
        departments = Department.objects.filter(pk__in=tree)
    shown = list(departments.order_by("code", "pk"))
    own_budgets = {
        b.department_id: b
        for b in Budget.objects.filter(year=year, department__in=[d.pk for d in shown])
    }
    figures = balances(b.pk for b in own_budgets.values())
    children: dict[int | None, list[Department]] = {}
    for d in shown:
        children.setdefault(d.parent_id, []).append(d)
    ids = {d.pk for d in shown}

    def own_of(d: Department) -> Balance:
        budget = own_budgets.get(d.pk)
        return figures.get(budget.pk, Balance()) if budget else Balance()

    rows: list[DepartmentBudget] = []

    def walk(d: Department, depth: int) -> Balance:
        """Adds d's row and its sub-departments' rows; returns d's rolled-up figure."""
        position = len(rows)
        rows.append(DepartmentBudget(d, depth, None, Balance(), Balance(), False))  # placeholder
        below = Balance()
        for child in children.get(d.pk, []):
            below = below + walk(child, depth + 1)
        own = own_of(d)
        rows[position] = DepartmentBudget(
            department=d,
            depth=depth,
            budget=own_budgets.get(d.pk),
            own=own,
            sub_departments=below,
            has_sub_departments=bool(children.get(d.pk)),
        )
        return own + below

    for top in [d for d in shown if d.parent_id not in ids]:
        walk(top, 0)
    return rows


def total_of(rows: Iterable[DepartmentBudget]) -> Balance:
    """Every department of ``rows`` together, each counted once (the top rows' roll-ups)."""
    return sum((r.balance for r in rows if r.depth == 0), Balance())


# The sign of a ledger line is the change it makes to its kind's total (what the reader sees; the
# database stores releases as positive amounts of their own kind, see LedgerEntry):
# allocation +; adjustment + raises / − cuts the allocation; transfer + in / − out; reserve
# release − (the reserve shrinks, so available grows); commitment +; commitment release −;
# actual + (paid); a reversal has the opposite sign of the line it cancels.
SHOWN_NEGATED = frozenset({K.RESERVE_RELEASE, K.COMMITMENT_RELEASE})


def effective_kind(entry: LedgerEntry) -> str:
    """The kind an entry counts in: a reversal's is the kind of the entry it cancels."""
    return entry.reverses.kind if entry.reverses else entry.kind


def signed_amount(entry: LedgerEntry) -> Decimal:
    """The entry's amount as the ledger shows it (SHOWN_NEGATED above)."""
    return -entry.amount if effective_kind(entry) in SHOWN_NEGATED else entry.amount


@dataclass(frozen=True)
class LedgerLine:
    """A ledger entry as the ledger page and its exports show it."""

    entry: LedgerEntry
    effective_kind: str  # the kind a reversal counts in: the kind of the entry it cancels
    signed: Decimal
    available_after: Decimal  # the budget's available balance once this entry was booked
    source: Source | None = None  # what caused it, as the viewer may see it (references.resolve)


def ledger_lines(budget: Budget) -> list[LedgerLine]:
    """A budget's whole ledger, oldest first, with signed amounts and the running available
    balance (the same formula as ``balances``: the last line's figure is the budget's). One
    query, however many entries."""
    entries = (
        LedgerEntry.objects.filter(budget=budget)
        .select_related("created_by", "reverses")
        .order_by("created_at", "pk")
    )
    sums: dict[str, Decimal] = {}
    lines = []
    for entry in entries:
        kind = effective_kind(entry)
        sums[kind] = sums.get(kind, ZERO) + entry.amount
        lines.append(
            LedgerLine(
                entry=entry,
                effective_kind=kind,
                signed=signed_amount(entry),
                available_after=balance_of(budget.reserve_percent, sums).available,
            )
        )
    return lines


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
