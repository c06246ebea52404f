"""API for the inventory: vendors and subscriptions (with their modules); seats are in
renewals/api/seats.py. Reads go through the same scoped selectors as the pages."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from rest_framework import serializers, viewsets

from core.api import LOOKUP, BooleanFilter, api_schema
from renewals.api.base import READ
from renewals.inventory import filters
from renewals.inventory.models import Module, Subscription, Vendor
from renewals.inventory.selectors import vendor_list, visible_subscriptions


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
