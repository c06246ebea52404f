from __future__ import annotations

from typing import Any

from django.contrib import admin

from budgets.models import Budget, LedgerEntry


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ("department", "year", "reserve_percent")
    list_filter = ("year",)
    list_select_related = ("department",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read only: the ledger is append-only (the database refuses edits whatever the admin does);
    entries are made through finance's pages."""

    list_display = ("created_at", "budget", "kind", "amount", "memo", "reference", "created_by")
    list_filter = ("kind", "budget__year")
    search_fields = ("memo", "reference")
    list_select_related = ("budget", "budget__department", "created_by")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
