"""The request list, the approval inbox and the request filter (the API will reuse the filter)."""

from __future__ import annotations

from typing import Any

import django_filters
import django_tables2 as tables
from django.db.models import Q, QuerySet
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from org.scoping import visible_departments
from renewals.models import ApprovalStep, Purpose, RenewalRequest


class RequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=None, empty_label=_("All departments")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=RenewalRequest.Status.choices, empty_label=_("Any status")
    )
    purpose = django_filters.ChoiceFilter(
        label=_("Purpose"), choices=Purpose.choices, empty_label=_("Any purpose")
    )

    class Meta:
        model = RenewalRequest
        fields = ["q", "department", "status", "purpose"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["department"].queryset = visible_departments(user).order_by("code")

    def search(
        self, queryset: QuerySet[RenewalRequest], name: str, value: str
    ) -> QuerySet[RenewalRequest]:
        query = (
            Q(subscription__ref__icontains=value)
            | Q(subscription__product__icontains=value)
            | Q(subscription__vendor__name__icontains=value)
            | Q(order_ref__icontains=value)
        )
        if value.lstrip("#").isdigit() and len(value) < 10:
            query |= Q(pk=int(value.lstrip("#")))
        return queryset.filter(query)


class RequestTable(tables.Table):
    id = tables.Column(verbose_name="#", linkify=True)
    subscription = tables.Column(
        verbose_name=_("Subscription"),
        accessor="subscription__product",
        order_by=("subscription__vendor__name", "subscription__product"),
    )
    department = tables.Column(
        verbose_name=_("Department"), accessor="department__name", order_by="department__code"
    )
    purpose = tables.Column(verbose_name=_("Purpose"))
    amount_base = tables.Column(verbose_name=_("Amount (CNY)"), attrs={"td": {"class": "text-end"}})
    status = tables.Column(verbose_name=_("Status"))
    waiting_for = tables.Column(verbose_name=_("Waiting for"), empty_values=(), orderable=False)
    requested_by = tables.Column(verbose_name=_("Requested by"))
    proposed_term_start = tables.DateColumn(verbose_name=_("New term"), format="Y-m-d")
    created_at = tables.DateColumn(verbose_name=_("Opened"), format="Y-m-d")

    class Meta:
        model = RenewalRequest
        fields = [
            "id",
            "subscription",
            "department",
            "purpose",
            "amount_base",
            "status",
            "waiting_for",
            "requested_by",
            "proposed_term_start",
            "created_at",
        ]
        order_by = ("-created_at",)
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "requests"}

    def render_subscription(self, record: RenewalRequest) -> str:
        return f"{record.subscription.vendor} {record.subscription.product}"

    def render_status(self, record: RenewalRequest) -> Any:
        colour = {
            "approved": "success",
            "executed": "success",
            "rejected": "danger",
            "returned": "warning",
            "cancelled": "secondary",
        }.get(record.status, "primary")
        return format_html(
            '<span class="badge text-bg-{}">{}</span>', colour, record.get_status_display()
        )

    def render_waiting_for(self, record: RenewalRequest) -> str:
        steps = getattr(record, "pending_steps", [])
        return str(steps[0].get_role_display()) if steps else "—"


class InboxTable(tables.Table):
    request = tables.Column(
        verbose_name="#",
        accessor="request__pk",
        linkify=lambda record: record.request.get_absolute_url(),
        order_by="request__pk",
    )
    subscription = tables.Column(
        verbose_name=_("Subscription"), accessor="request__subscription__product", orderable=False
    )
    department = tables.Column(verbose_name=_("Department"), accessor="request__department__name")
    purpose = tables.Column(verbose_name=_("Purpose"), accessor="request__purpose")
    amount = tables.Column(
        verbose_name=_("Amount (CNY)"),
        accessor="request__amount_base",
        attrs={"td": {"class": "text-end"}},
    )
    role = tables.Column(verbose_name=_("You decide as"))
    requested_by = tables.Column(verbose_name=_("Requested by"), accessor="request__requested_by")
    submitted = tables.DateTimeColumn(
        verbose_name=_("Submitted"), accessor="request__submitted_at", format="Y-m-d H:i"
    )
    decide = tables.TemplateColumn(
        template_name="renewals/_inbox_actions.html",
        verbose_name=_("Decision"),
        orderable=False,
    )

    class Meta:
        model = ApprovalStep
        fields = ["request", "subscription", "department", "purpose", "amount", "role"]
        sequence = (
            "request", "subscription", "department", "purpose", "amount", "role",
            "requested_by", "submitted", "decide",
        )  # fmt: skip
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "inbox"}

    def render_subscription(self, record: ApprovalStep) -> str:
        return f"{record.request.subscription.vendor} {record.request.subscription.product}"

    def render_purpose(self, record: ApprovalStep) -> str:
        return str(record.request.get_purpose_display())
