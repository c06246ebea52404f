"""REST API for budgets and their ledger (read only: writes are finance's, on the pages)."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from budgets.models import Budget, LedgerEntry
from budgets.selectors import Balance, balances
from config.api import LOOKUP, IsoDateTimeFilter, api_schema, roles
from config.navigation import BUDGET_ROLES
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
    balance = serializers.SerializerMethodField()

    class Meta:
        model = Budget
        fields = ["id", "department", "year", "reserve_percent", "currency", "balance"]
        read_only_fields = fields

    def get_currency(self, budget: Budget) -> str:
        from django.conf import settings

        return settings.BASE_CURRENCY

    @extend_schema_field(BalanceSerializer)
    def get_balance(self, budget: Budget) -> dict[str, Any]:
        figures: dict[int, Balance] = self.context["balances"]
        return BalanceSerializer(figures.get(budget.pk, Balance())).data


class BudgetFilter(django_filters.FilterSet):
    department = django_filters.NumberFilter(field_name="department_id")
    year = django_filters.NumberFilter()

    class Meta:
        model = Budget
        fields = ["department", "year"]


class BudgetViewSet(viewsets.ReadOnlyModelViewSet[Budget]):
    """Budgets of the departments the user may see, each with its balance (sums of its own
    ledger entries; sub-departments are separate budgets)."""

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
            kwargs["context"]["balances"] = balances(b.pk for b in rows if isinstance(b, Budget))
        return super().get_serializer(*args, **kwargs)


class LedgerEntrySerializer(serializers.ModelSerializer[LedgerEntry]):
    currency = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = [
            "id", "budget", "kind", "category", "amount", "currency", "original_currency",
            "original_amount", "rate", "memo", "reference", "reverses", "created_by",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_currency(self, entry: LedgerEntry) -> str:
        from django.conf import settings

        return settings.BASE_CURRENCY


class LedgerFilter(django_filters.FilterSet):
    budget = django_filters.NumberFilter(field_name="budget_id")
    kind = django_filters.ChoiceFilter(choices=LedgerEntry.Kind.choices)
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = LedgerEntry
        fields = ["budget", "kind"]


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
        )


ROUTES = [
    ("budgets", BudgetViewSet, "budget"),
    ("ledger", LedgerEntryViewSet, "ledger-entry"),
]
