"""What a new purchase (新购申请) is asked for with through the API: the intake page's fields,
checked again by the same service (renewals.requests.services.intake.new_purchase_create)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api import ScopedPrimaryKeyField
from org.models import Department
from org.scoping import requestable_departments
from renewals.inventory.models import BillingCycle, Vendor
from renewals.inventory.models.subscriptions import Category


class NewPurchaseSerializer(serializers.Serializer[Any]):
    """A tool not yet in the inventory: for the user's own department (or one they manage)."""

    department = ScopedPrimaryKeyField(
        queryset=Department.objects.all(), scope=requestable_departments
    )
    vendor = ScopedPrimaryKeyField(
        queryset=Vendor.objects.all(), required=False, allow_null=True,
        scope=lambda user: Vendor.objects.filter(archived_at__isnull=True),
        help_text=_("An existing vendor; or name a new one in vendor_name."),
    )  # fmt: skip
    vendor_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    product = serializers.CharField(max_length=120)
    edition = serializers.CharField(max_length=80, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    seats = serializers.IntegerField(min_value=1, max_value=1_000_000)
    modules = serializers.ListField(
        child=serializers.CharField(max_length=80), max_length=50, required=False
    )
    billing_cycle = serializers.ChoiceField(
        choices=BillingCycle.choices, default=BillingCycle.ANNUAL
    )
    term_start = serializers.DateField()
    term_months = serializers.IntegerField(min_value=1, max_value=120, default=12)
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0,
        help_text=_("Estimated, per seat and billing period: the first quote."),
    )  # fmt: skip
    currency = serializers.RegexField(r"^[A-Z]{3}$", max_length=3)
    justification = serializers.CharField(max_length=5000)
    people = serializers.ListField(
        child=serializers.CharField(max_length=254), max_length=1000, required=False,
        help_text=_("Employee numbers or e-mails of who gets a seat."),
    )  # fmt: skip
