"""API for the inventory: vendors, subscriptions (with their modules) and seats. Reads go
through the same scoped selectors as the pages."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from rest_framework import serializers, viewsets

from core.api import LOOKUP, BooleanFilter, api_schema
from core.filtersets import ScopedIdFilter, set_queryset
from org.models import Person
from org.scoping import visible_departments
from renewals.api.base import READ
from renewals.inventory import filters
from renewals.inventory.models import Module, Subscription, Vendor
from renewals.inventory.selectors import seat_holders, vendor_list, visible_subscriptions
from renewals.usage.models import Seat


class VendorSerializer(serializers.ModelSerializer[Vendor]):
    subscription_count = serializers.IntegerField(read_only=True)
    # A URL or empty (not known): "uri" in the schema would refuse the empty string.
    website = serializers.CharField(read_only=True)

    class Meta:
        model = Vendor
        fields = ["id", "name", "website", "subscription_count"]
        read_only_fields = fields


class VendorViewSet(viewsets.ReadOnlyModelViewSet[Vendor]):
    """Vendors the user's departments buy from (everyone's for IT, finance and auditors)."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = VendorSerializer
    permission_classes = [READ]
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Vendor]:
        return vendor_list(user=self.request.user)


class ModuleSerializer(serializers.ModelSerializer[Module]):
    class Meta:
        model = Module
        fields = ["id", "name", "unit_price", "licensed_seats"]
        read_only_fields = fields


class SubscriptionSerializer(serializers.ModelSerializer[Subscription]):
    modules = ModuleSerializer(many=True, read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id", "ref", "vendor", "product", "edition", "department", "owner",
            "seats_purchased", "unit_price", "currency", "billing_cycle", "term_start",
            "term_end", "auto_renew", "notice_period_days", "cancellation_deadline", "status",
            "ends_at_term_end", "modules", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class SubscriptionFilter(filters.SubscriptionFilter):
    """The subscriptions page's FilterSet (search, department and vendor among the user's,
    status, renewal window, auto-renewal, idle seats), with a strict yes/no for the API."""

    auto_renew = BooleanFilter()

    class Meta(filters.SubscriptionFilter.Meta):
        pass


class SubscriptionViewSet(viewsets.ReadOnlyModelViewSet[Subscription]):
    """The inventory of the departments the user may see."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = SubscriptionSerializer
    permission_classes = [READ]
    filterset_class = SubscriptionFilter
    ordering_fields = ["term_end", "product", "seats_purchased", "unit_price", "id"]
    ordering = ["term_end", "id"]

    def get_queryset(self) -> QuerySet[Subscription]:
        return visible_subscriptions(user=self.request.user).prefetch_related(
            Prefetch("modules", queryset=Module.objects.order_by("name"))
        )


class SeatSerializer(serializers.ModelSerializer[Seat]):
    employee_no = serializers.CharField(source="person.employee_no", read_only=True)
    person_left = serializers.SerializerMethodField()

    class Meta:
        model = Seat
        fields = [
            "id", "subscription", "person", "employee_no", "person_left", "account",
            "assigned_on", "revoked_on", "last_active_on",
        ]  # fmt: skip
        read_only_fields = fields

    def get_person_left(self, seat: Seat) -> bool:
        return seat.person.has_left


class SeatFilter(django_filters.FilterSet):
    """A subscription the user sees; a person of their departments or holding a seat of one of
    their subscriptions (the list names them); any other id is refused like one that does not
    exist."""

    subscription = ScopedIdFilter(model=Subscription)
    person = ScopedIdFilter(model=Person)
    active = BooleanFilter(field_name="revoked_on", lookup_expr="isnull")

    class Meta:
        model = Seat
        fields = ["subscription", "person", "active"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "subscription", visible_subscriptions(user=user))
        set_queryset(self, "person", seat_holders(user=user))


class SeatViewSet(viewsets.ReadOnlyModelViewSet[Seat]):
    """Seats of the subscriptions the user may see."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = SeatSerializer
    permission_classes = [READ]
    filterset_class = SeatFilter
    ordering_fields = ["assigned_on", "last_active_on", "id"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Seat]:
        return Seat.objects.filter(
            subscription__department__in=visible_departments(self.request.user)
        ).select_related("person")
