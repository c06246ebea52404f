"""API for the inventory: vendors, and the modules subscriptions show (subscriptions are in
renewals/api/subscriptions.py, seats in renewals/api/seats.py). Reads go through the same
scoped selectors as the pages."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from core.api import LOOKUP, api_schema
from renewals.api.base import READ
from renewals.inventory.models import Module, Vendor
from renewals.inventory.selectors import vendor_list


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
