"""FilterSets shared by the list pages and (later) the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filtersets import NOT_AVAILABLE, set_choices
from org.scoping import visible_departments
from renewals.inventory.models import Subscription, Vendor, grams, query_grams
from renewals.inventory.models.subscriptions import Category
from renewals.inventory.selectors import idle_seats, visible_vendors

WINDOWS = [
    ("7", _("7 days")),
    ("30", _("30 days")),
    ("60", _("60 days")),
    ("90", _("90 days")),
    ("180", _("180 days")),
]


def search_subscriptions(queryset: QuerySet[Subscription], value: str) -> QuerySet[Subscription]:
    """The list's search box (and the global search's): reference, product, edition, vendor, tag
    (see matching_subscriptions)."""
    return queryset.filter(pk__in=matching_subscriptions(value))


def matching_subscriptions(value: str) -> QuerySet[Subscription, Any]:
    """The ids of the subscriptions whose reference, product or edition (one lower-cased column,
    Subscription.search_text, its pieces GIN-indexed), vendor's name or a tag match ``value``.

    The three ways to match are a UNION of three index- or column-friendly reads, not an OR in
    one WHERE: PostgreSQL estimates an OR holding a sub-select at half the table and then walks
    every subscription vendor by vendor (20 ms at 10,000 subscriptions instead of 3). The vendors
    are matched once (a few dozen rows) instead of joining each subscription's."""
    everything = Subscription.objects.order_by()
    folded = Lower(Value(value))
    by_text = everything.filter(search_text__contains=folded)
    # Candidates from the GIN index of the rows' one- and two-character pieces (every piece of
    # the text is among a matching row's), LIKE decides.
    by_text = by_text.alias(grams=grams(F("search_text"))).filter(
        grams__contains=query_grams(folded)
    )
    return by_text.values("pk").union(
        everything.filter(
            vendor__in=Vendor.objects.filter(name__icontains=value).values("pk")
        ).values("pk"),
        everything.filter(tags__contains=[value]).values("pk"),
    )


def without_proposed(queryset: QuerySet[Subscription]) -> QuerySet[Subscription]:
    """The inventory: subscriptions bought, not new purchases still under approval."""
    return queryset.exclude(status=Subscription.Status.PROPOSED)


def live(queryset: QuerySet[Subscription]) -> QuerySet[Subscription]:
    """Without the archived subscriptions (the lists' default)."""
    return queryset.filter(archived_at__isnull=True)


ARCHIVED = [("with", _("Also archived")), ("only", _("Only archived"))]


class SubscriptionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=100)
    # Departments and vendors as plain choices read once per page (see __init__): a model
    # choice field asks the database for the count of its options and then for the options
    # through a server-side cursor, four round trips for these two drop-downs.
    department = django_filters.ChoiceFilter(
        label=_("Department"),
        choices=[],
        empty_label=_("All departments"),
        error_messages=NOT_AVAILABLE,
    )
    vendor = django_filters.ChoiceFilter(
        label=_("Vendor"), choices=[], empty_label=_("All vendors"), error_messages=NOT_AVAILABLE
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Subscription.Status.choices, empty_label=_("Any status")
    )
    # What the tool is for (the overlap finding groups by it); "none": not yet categorised.
    category = django_filters.ChoiceFilter(
        label=_("Category"),
        choices=[*Category.choices, ("none", _("Not categorised"))],
        empty_label=_("Any category"),
        method="filter_category",
    )
    renews_within = django_filters.ChoiceFilter(
        label=_("Renews within"), choices=WINDOWS, method="filter_window", empty_label=_("Any time")
    )
    auto_renew = django_filters.BooleanFilter(
        label=_("Auto-renews"),
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]),
    )
    archived = django_filters.ChoiceFilter(
        label=_("Archived"), choices=ARCHIVED, method="filter_archived",
        empty_label=_("Hide archived"),
    )  # fmt: skip
    idle_at_least = django_filters.NumberFilter(
        label=_("Idle seats ≥"),
        method="filter_idle",
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
            "category",
            "renews_within",
            "auto_renew",
            "idle_at_least",
            "archived",
        ]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the user's departments can be chosen: any other value fails validation.
        set_choices(
            self, "department", visible_departments(user).order_by("code").values_list("pk", "name")
        )
        # ... and only the vendors of the subscriptions they may see (the vendor list's rule).
        set_choices(self, "vendor", visible_vendors(user=user).values_list("pk", "name"))

    def filter_queryset(self, queryset: QuerySet[Subscription]) -> QuerySet[Subscription]:
        # A proposed subscription (a new purchase under approval) is not inventory: listed only
        # when its status is asked for.
        if self.form.cleaned_data.get("status") != Subscription.Status.PROPOSED:
            queryset = without_proposed(queryset)
        # Archived subscriptions are hidden unless the filter asks for them.
        if not self.form.cleaned_data.get("archived"):
            queryset = live(queryset)
        return super().filter_queryset(queryset)

    def search(
        self, queryset: QuerySet[Subscription], name: str, value: str
    ) -> QuerySet[Subscription]:
        return search_subscriptions(queryset, value)

    def filter_category(
        self, queryset: QuerySet[Subscription], name: str, value: str
    ) -> QuerySet[Subscription]:
        return queryset.filter(category="" if value == "none" else value)

    def filter_idle(
        self, queryset: QuerySet[Subscription], name: str, value: Decimal
    ) -> QuerySet[Subscription]:
        # The list's rows carry no figures until their page is shown; the count of idle seats
        # is computed here for the filter alone.
        return queryset.alias(idle_for_filter=idle_seats()).filter(idle_for_filter__gte=value)

    def filter_window(
        self, queryset: QuerySet[Subscription], name: str, value: str
    ) -> QuerySet[Subscription]:
        today = timezone.localdate()
        return queryset.filter(
            term_end__gte=today, term_end__lte=today + dt.timedelta(days=int(value))
        )

    def filter_archived(
        self, queryset: QuerySet[Subscription], name: str, value: str
    ) -> QuerySet[Subscription]:
        if value == "only":
            return queryset.filter(archived_at__isnull=False)
        return queryset  # "with": everything
