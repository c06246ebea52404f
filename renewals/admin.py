from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from renewals.alerts.models import AlertDelivery
from renewals.cleanup.models import CleanupCampaign, CleanupItem
from renewals.imports.models import ImportJob
from renewals.inventory.models import CurrencyRate, Module, Subscription, SubscriptionTerm, Vendor
from renewals.notify.models import Notification
from renewals.rates.services import rate_in_use
from renewals.reports.models import Briefing
from renewals.requests.models.approvals import ApprovalStep, ApprovalTier
from renewals.requests.models.notices import RequestNotice
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest
from renewals.risks.models import Risk, RiskReview
from renewals.suggestions.models import Suggestion
from renewals.usage.models import MonthlyUsage, Seat


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ("name", "website")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    search_fields = ("name",)


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0


class TermInline(admin.TabularInline):
    model = SubscriptionTerm
    extra = 0


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "ref",
        "vendor",
        "product",
        "edition",
        "department",
        "seats_purchased",
        "term_end",
        "status",
    )
    list_filter = ("status", "billing_cycle", "auto_renew", "department")
    search_fields = ("ref", "product", "vendor__name")
    list_select_related = ("vendor", "department")
    autocomplete_fields = ("vendor", "department", "owner")
    readonly_fields = ("cancellation_deadline",)
    inlines = [ModuleInline, TermInline]


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin):
    list_display = ("subscription", "person", "assigned_on", "revoked_on", "last_active_on")
    list_filter = ("revoked_on",)
    search_fields = ("subscription__ref", "person__name", "person__employee_no", "account")
    list_select_related = ("subscription", "person")
    autocomplete_fields = ("subscription", "person")
    filter_horizontal = ("modules",)


@admin.register(MonthlyUsage)
class MonthlyUsageAdmin(admin.ModelAdmin):
    list_display = ("subscription", "module", "month", "active_users", "tasks_completed")
    list_filter = ("month",)
    search_fields = ("subscription__ref",)
    list_select_related = ("subscription", "module")
    raw_id_fields = ("subscription", "module")


@admin.register(CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    """Rates are kept on *Manage → Exchange rates*; here, as there, a rate a quote or a request
    records is read-only (the amount that chose the approvers was converted with it)."""

    list_display = ("currency", "rate_to_base", "valid_from")
    list_filter = ("currency",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and not (obj and rate_in_use(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and rate_in_use(obj))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # "Delete selected" would not ask each rate whether it is in use.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "original_name",
        "created_by",
        "status",
        "total_rows",
        "error_count",
    )
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False  # imports are made by uploading a file on the Imports page


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    """All deliveries with their status, attempts and errors (failed ones are the dead letters)."""

    list_display = (
        "due_on",
        "subscription",
        "kind",
        "threshold",
        "channel",
        "recipient",
        "status",
        "attempts",
        "crash_resends",
        "claimed_by",
        "last_error",
    )
    list_filter = ("status", "channel", "kind")
    search_fields = ("subscription__ref", "recipient__username", "last_error")
    list_select_related = ("subscription", "recipient")
    readonly_fields = [f.name for f in AlertDelivery._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request: object) -> bool:
        return False

    @admin.action(description="Send again (failed deliveries)")
    def resend(self, request: object, queryset: object) -> None:
        """Dead letters go back to pending with a fresh count (same idempotency key), and a
        delivery run is queued so that they leave now rather than at the next tick."""
        from django.db import transaction
        from django_q.tasks import async_task

        queryset.filter(status=AlertDelivery.Status.FAILED).update(  # type: ignore[attr-defined]
            status=AlertDelivery.Status.PENDING, attempts=0, crash_resends=0, next_attempt_at=None
        )
        transaction.on_commit(lambda: async_task("renewals.tasks.deliver_alerts"))


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "title", "read_at")
    list_select_related = ("user",)
    search_fields = ("title", "user__username")


@admin.register(RequestNotice)
class RequestNoticeAdmin(admin.ModelAdmin):
    """Every notice of a request event, once per key: failed e-mails and chat posts show here."""

    list_display = (
        "created_at",
        "request",
        "round",
        "kind",
        "channel",
        "recipient",
        "chat_channel",
        "status",
        "last_error",
    )
    list_filter = ("status", "channel", "kind")
    search_fields = ("request__pk", "recipient__username", "last_error")
    list_select_related = ("request", "request__subscription", "recipient", "chat_channel")
    readonly_fields = [f.name for f in RequestNotice._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ApprovalTier)
class ApprovalTierAdmin(admin.ModelAdmin):
    """Finance's policy; the same validation as the tiers page (ranges may not overlap)."""

    list_display = ("name", "min_amount", "max_amount", "roles")


class QuoteInline(admin.TabularInline):
    model = Quote
    extra = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class StepInline(QuoteInline):
    model = ApprovalStep  # type: ignore[assignment]


@admin.register(RenewalRequest)
class RenewalRequestAdmin(admin.ModelAdmin):
    """Read-only: requests change only through their services (approvals, budget, trail)."""

    list_display = ("pk", "subscription", "department", "status", "amount_base", "created_at")
    list_filter = ("status", "purpose")
    search_fields = ("subscription__ref", "subscription__product", "order_ref")
    inlines = [QuoteInline, StepInline]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RiskReviewInline(QuoteInline):
    model = RiskReview  # type: ignore[assignment]
    fields = ("reviewed_at", "reviewer", "outcome", "changes", "note")
    readonly_fields = fields


@admin.register(Risk)
class RiskAdmin(admin.ModelAdmin):
    """Read-only: risks change through the register (generated ones through the daily refresh),
    which keeps their review history."""

    list_display = ("pk", "title", "category", "department", "owner", "status", "next_review_on")
    list_filter = ("status", "category", "rule")
    search_fields = ("title", "rule", "key")
    list_select_related = ("department", "owner")
    inlines = [RiskReviewInline]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that change only through their pages and services (which check permissions, lock
    rows and keep their history): the admin shows them."""

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Briefing)
class BriefingAdmin(ReadOnlyAdmin):
    list_display = ("department", "month", "language", "status", "generated_at", "sent_at")
    list_filter = ("status", "language", "month")
    list_select_related = ("department",)
    exclude = ("figures",)


class CleanupItemInline(admin.TabularInline):
    model = CleanupItem
    extra = 0
    can_delete = False
    fields = ("department", "seat", "reason", "decision", "keep_reason", "decided_by", "revoked_on")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CleanupCampaign)
class CleanupCampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "due_on", "opened_by", "opened_at", "closed_at")
    list_filter = ("status",)
    inlines = [CleanupItemInline]


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "subscription",
        "author",
        "status",
        "estimated_saving",
        "realised_saving",
    )
    list_filter = ("status",)
    search_fields = ("title", "details")
    list_select_related = ("subscription__vendor", "subscription__department", "author")
