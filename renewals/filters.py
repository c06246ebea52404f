"""FilterSets shared by the list pages and (later) the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from org.scoping import visible_departments
from renewals.models import Subscription, Vendor

WINDOWS = [
    ("7", _("7 days")),
    ("30", _("30 days")),
    ("60", _("60 days")),
    ("90", _("90 days")),
    ("180", _("180 days")),
]


class SubscriptionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    department = django_filters.ModelChoiceFilter(
        label=_("Department"), queryset=None, empty_label=_("All departments")
    )
    vendor = django_filters.ModelChoiceFilter(
        label=_("Vendor"), queryset=Vendor.objects.order_by("name"), empty_label=_("All vendors")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Subscription.Status.choices, empty_label=_("Any status")
    )
    renews_within = django_filters.ChoiceFilter(
        label=_("Renews within"), choices=WINDOWS, method="filter_window", empty_label=_("Any time")
    )
    auto_renew = django_filters.BooleanFilter(
        label=_("Auto-renews"),
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]),
    )
    idle_at_least = django_filters.NumberFilter(
        label=_("Idle seats ≥"),
        field_name="idle_seats",
        lookup_expr="gte",
        min_value=0,
        max_value=1_000_000,
    )

    class Meta:
        model = Subscription
        fields = [
            "q",
            "department",
            "vendor",
            "status",
            "renews_within",
            "auto_renew",
            "idle_at_least",
        ]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["department"].queryset = visible_departments(user).order_by("code")

    def search(
        self, queryset: QuerySet[Subscription], name: str, value: str
    ) -> QuerySet[Subscription]:
        return queryset.filter(
            Q(ref__icontains=value)
            | Q(product__icontains=value)
            | Q(edition__icontains=value)
            | Q(vendor__name__icontains=value)
            | Q(tags__contains=[value])
        )

    def filter_window(
        self, queryset: QuerySet[Subscription], name: str, value: str
    ) -> QuerySet[Subscription]:
        today = timezone.localdate()
        return queryset.filter(
            term_end__gte=today, term_end__lte=today + dt.timedelta(days=int(value))
        )
