"""API for keeping vendors and modules: read them, add one, change it (PATCH), archive and
restore it, through the same services (and so the same rules, scoping and refusals) as the
pages. Vendors: IT admins write. Modules: IT admins, and heads and software admins for the
subscriptions of their departments; another department's module is a 404."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import LOOKUP, BooleanFilter, ScopedPrimaryKeyField, api_schema
from core.filtersets import ScopedIdFilter, set_queryset
from org.api_permissions import roles
from org.roles import Role
from renewals.api.base import READ, _user
from renewals.inventory.models import Module, Subscription, Vendor
from renewals.inventory.selectors import vendor_list, visible_subscriptions
from renewals.inventory.services import modules as module_services
from renewals.inventory.services import vendors as vendor_services

VENDOR_WRITE = roles(Role.IT_ADMIN)
MODULE_WRITE = roles(Role.IT_ADMIN, Role.DEPARTMENT_HEAD, Role.SOFTWARE_ADMIN)
WRITE_ACTIONS = {"create", "partial_update", "archive", "restore"}


class _Text(serializers.CharField):
    """Text, and only text: a number where text is expected is refused, not turned into one."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _Price(serializers.DecimalField):
    """A price as the schema says: a decimal string (or null), never a JSON number (a float
    would have lost its cents before we see it)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=None, decimal_places=None, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _WholeNumber(serializers.IntegerField):
    """A JSON integer: "5", 5.0 and true are refused."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(data)


class VendorRecordSerializer(serializers.ModelSerializer[Vendor]):
    """A vendor with every field a person keeps. The fields are checked by the inventory's
    rules in the service (the page's form reads the same ones)."""

    subscription_count = serializers.IntegerField(read_only=True)
    name = _Text(help_text=_("Unique whatever its case."))
    # A URL or empty: "uri" in the schema would refuse the empty string.
    website = _Text(required=False, allow_blank=True)
    contacts = _Text(required=False, allow_blank=True)
    notes = _Text(required=False, allow_blank=True)

    class Meta:
        model = Vendor
        fields = [
            "id", "name", "website", "contacts", "notes", "archived_at", "subscription_count",
        ]  # fmt: skip
        read_only_fields = ["id", "archived_at", "subscription_count"]


class VendorFilter(django_filters.FilterSet):
    archived = BooleanFilter(field_name="archived_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Vendor
        fields = ["archived"]


class VendorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Vendor],
):
    """Vendors the user's departments buy from (everyone's for IT, finance and auditors);
    IT admins add, change, archive and restore them (``?archived=false``: the current ones)."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = VendorRecordSerializer
    filterset_class = VendorFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    def get_permissions(self) -> list[permissions.BasePermission]:
        writing = self.action in WRITE_ACTIONS
        return [VENDOR_WRITE() if writing else READ()]

    def get_queryset(self) -> QuerySet[Vendor]:
        return vendor_list(user=self.request.user)

    def _answer(self, vendor: Vendor) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=vendor.pk)).data)

    def perform_create(self, serializer: Any) -> None:
        vendor = vendor_services.vendor_create(
            user=_user(self.request), data=serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=vendor.pk)

    def perform_update(self, serializer: Any) -> None:
        vendor = vendor_services.vendor_update(
            user=_user(self.request), vendor=serializer.instance, data=serializer.validated_data
        )
        serializer.instance = self.get_queryset().get(pk=vendor.pk)

    @extend_schema(request=None, responses=VendorRecordSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        """Out of the list and the pickers; refused (400) while a subscription that is not
        archived names it."""
        vendor = vendor_services.vendor_archive(user=_user(request), vendor=self.get_object())
        return self._answer(vendor)

    @extend_schema(request=None, responses=VendorRecordSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        """Back in the list and the pickers."""
        vendor = vendor_services.vendor_restore(user=_user(request), vendor=self.get_object())
        return self._answer(vendor)


class ModuleRecordSerializer(serializers.ModelSerializer[Module]):
    """A module of a subscription the user sees. Name unique in the subscription (whatever its
    case); unit price per seat and period in the subscription's currency, null when included;
    licensed seats from 1 to the subscription's seats, null for every seat."""

    subscription = ScopedPrimaryKeyField(
        queryset=Subscription.objects.all(),
        scope=lambda user: visible_subscriptions(user=user),
    )
    name = _Text()
    unit_price = _Price(allow_null=True, required=False)
    licensed_seats = _WholeNumber(allow_null=True, required=False)

    class Meta:
        model = Module
        fields = ["id", "subscription", "name", "unit_price", "licensed_seats", "archived_at"]
        read_only_fields = ["id", "archived_at"]

    def validate_subscription(self, subscription: Subscription) -> Subscription:
        if self.instance is not None and subscription.pk != self.instance.subscription_id:
            raise serializers.ValidationError(_("A module stays with its subscription."))
        return subscription


class ModuleFilter(django_filters.FilterSet):
    """A subscription the user sees (any other id is refused like one that does not exist)."""

    subscription = ScopedIdFilter(model=Subscription)
    archived = BooleanFilter(field_name="archived_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Module
        fields = ["subscription", "archived"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "subscription", visible_subscriptions(user=user))


class ModuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Module],
):
    """Modules of the subscriptions the user may see; IT admins, heads and software admins
    add, change, archive and restore those of the departments they manage."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = ModuleRecordSerializer
    filterset_class = ModuleFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["name", "id"]
    ordering = ["subscription", "name", "id"]

    def get_permissions(self) -> list[permissions.BasePermission]:
        writing = self.action in WRITE_ACTIONS
        return [MODULE_WRITE() if writing else READ()]

    def get_queryset(self) -> QuerySet[Module]:
        return Module.objects.filter(subscription__in=visible_subscriptions(user=self.request.user))

    def _data(self, serializer: Any) -> dict[str, Any]:
        return {k: v for k, v in serializer.validated_data.items() if k != "subscription"}

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = module_services.module_create(
            user=_user(self.request),
            subscription=serializer.validated_data["subscription"],
            data=self._data(serializer),
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = module_services.module_update(
            user=_user(self.request), module=serializer.instance, data=self._data(serializer)
        )

    @extend_schema(request=None, responses=ModuleRecordSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        """No longer bought: out of the cost, its usage and seat history kept."""
        module = module_services.module_archive(user=_user(request), module=self.get_object())
        return Response(self.get_serializer(module).data)

    @extend_schema(request=None, responses=ModuleRecordSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        """Bought again: back in the cost."""
        module = module_services.module_restore(user=_user(request), module=self.get_object())
        return Response(self.get_serializer(module).data)
