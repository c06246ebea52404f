"""REST API for budgets and their ledger (read only: writes are finance's, on the pages)."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from budgets.models import Budget, LedgerEntry
from budgets.selectors import (
    Balance,
    DepartmentBudget,
    balances,
    department_budgets,
    signed_amount,
)
from core.api import LOOKUP, IntegerFilter, IsoDateTimeFilter, api_schema
from core.filtersets import ScopedIdFilter, set_queryset
from org.api_permissions import roles
from org.models import Department
from org.roles import BUDGET_ROLES
from org.scoping import visible_departments

MONEY = {"max_digits": 18, "decimal_places": 2, "read_only": True}


class BalanceSerializer(serializers.Serializer[Balance]):
    allocated = serializers.DecimalField(**MONEY)
    reserve = serializers.DecimalField(**MONEY)
    committed = serializers.DecimalField(**MONEY)
    actual = serializers.DecimalField(**MONEY)
    available = serializers.DecimalField(**MONEY)


class BudgetSerializer(serializers.ModelSerializer[Budget]):
    currency = serializers.SerializerMethodField()
    balance = serializers.SerializerMethodField(
        help_text="This budget's own ledger (the department alone)."
    )
    has_sub_departments = serializers.SerializerMethodField()
    including_sub_departments = serializers.SerializerMethodField(
        help_text="The department's figure for the year as every page shows it: this budget plus "
        "the budgets of all its sub-departments (equal to balance when it has none)."
    )

    class Meta:
        model = Budget
        fields = [
            "id", "department", "year", "reserve_percent", "currency", "balance",
            "has_sub_departments", "including_sub_departments",
        ]  # fmt: skip
        read_only_fields = fields

    def get_currency(self, budget: Budget) -> str:
        from django.conf import settings

        return settings.BASE_CURRENCY

    @extend_schema_field(BalanceSerializer)
    def get_balance(self, budget: Budget) -> dict[str, Any]:
        figures: dict[int, Balance] = self.context["balances"]
        return BalanceSerializer(figures.get(budget.pk, Balance())).data

    def _row(self, budget: Budget) -> DepartmentBudget | None:
        rows: dict[tuple[int, int], DepartmentBudget] = self.context["department_figures"]
        return rows.get((budget.department_id, budget.year))

    def get_has_sub_departments(self, budget: Budget) -> bool:
        row = self._row(budget)
        return bool(row and row.has_sub_departments)

    @extend_schema_field(BalanceSerializer)
    def get_including_sub_departments(self, budget: Budget) -> dict[str, Any]:
        row = self._row(budget)
        return BalanceSerializer(row.balance if row else Balance()).data


class BudgetFilter(django_filters.FilterSet):
    department = ScopedIdFilter(model=Department)
    year = IntegerFilter()

    class Meta:
        model = Budget
        fields = ["department", "year"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Another department is refused like one that does not exist (400).
        set_queryset(self, "department", visible_departments(user))


class BudgetViewSet(viewsets.ReadOnlyModelViewSet[Budget]):
    """Budgets of the departments the user may see, each with its own balance (sums of its own
    ledger entries) and the department's figure incl. its sub-departments, as the pages show it."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = BudgetSerializer
    permission_classes = [roles(*BUDGET_ROLES)]
    filterset_class = BudgetFilter
    ordering_fields = ["year", "department", "id"]
    ordering = ["-year", "department"]

    def get_queryset(self) -> Any:
        return Budget.objects.filter(department__in=visible_departments(self.request.user))

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        # One balance query for the whole page (or the one budget), whatever its size.
        if args:
            rows = args[0] if isinstance(args[0], list | tuple) else [args[0]]
            kwargs.setdefault("context", self.get_serializer_context())
            budgets = [b for b in rows if isinstance(b, Budget)]
            kwargs["context"]["balances"] = balances(b.pk for b in budgets)
            kwargs["context"]["department_figures"] = _department_figures(budgets)
        return super().get_serializer(*args, **kwargs)


def _department_figures(budgets: list[Budget]) -> dict[tuple[int, int], DepartmentBudget]:
    """The department figures (incl. sub-departments) of the budgets' departments, by
    (department, year): three queries per year on the page."""
    years: dict[int, set[int]] = {}
    for budget in budgets:
        years.setdefault(budget.year, set()).add(budget.department_id)
    return {
        (row.department.pk, year): row
        for year, departments in years.items()
        for row in department_budgets(sorted(departments), year)
    }


class LedgerEntrySerializer(serializers.ModelSerializer[LedgerEntry]):
    currency = serializers.SerializerMethodField()
    signed_amount = serializers.SerializerMethodField(
        help_text="The amount as the ledger page shows it: the change to its kind's total "
        "(reserve and commitment releases negative; a reversal the opposite of what it cancels)."
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id", "budget", "kind", "category", "amount", "signed_amount", "currency",
            "original_currency", "original_amount", "rate", "memo", "reference", "reverses",
            "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_signed_amount(self, entry: LedgerEntry) -> str:
        return str(signed_amount(entry))

    def get_currency(self, entry: LedgerEntry) -> str:
        from django.conf import settings

        return settings.BASE_CURRENCY


class LedgerFilter(django_filters.FilterSet):
    budget = ScopedIdFilter(model=Budget)
    kind = django_filters.ChoiceFilter(choices=LedgerEntry.Kind.choices)
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = LedgerEntry
        fields = ["budget", "kind"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Another department's budget is refused like one that does not exist (400).
        set_queryset(
            self, "budget", Budget.objects.filter(department__in=visible_departments(user))
        )


class LedgerEntryViewSet(viewsets.ReadOnlyModelViewSet[LedgerEntry]):
    """The append-only ledger (台账) of the budgets the user may see."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = LedgerEntrySerializer
    permission_classes = [roles(*BUDGET_ROLES)]
    filterset_class = LedgerFilter
    ordering_fields = ["created_at", "amount", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> Any:
        return LedgerEntry.objects.filter(
            budget__department__in=visible_departments(self.request.user)
        ).select_related("reverses")


ROUTES = [
    ("budgets", BudgetViewSet, "budget"),
    ("ledger", LedgerEntryViewSet, "ledger-entry"),
]
