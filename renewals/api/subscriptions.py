"""API for subscriptions: read the inventory of the user's departments; add one (IT admins),
change one (PATCH with the ``version`` read: a stale one is 409 with who, when and what
changed), archive one (IT admins). The same services, rules, scoping and refusals as the
pages."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import LOOKUP, BooleanFilter, RefusalSerializer, ScopedPrimaryKeyField, api_schema
from org.api_permissions import roles
from org.models import Department, User
from org.roles import Role
from org.scoping import managed_departments
from renewals.api.base import READ, _user
from renewals.api.inventory import ModuleSerializer
from renewals.execution.services import subscription_archive
from renewals.inventory import filters, rules
from renewals.inventory.models import Module, Subscription, Vendor
from renewals.inventory.models.subscriptions import Category
from renewals.inventory.policy import FULL_FIELDS
from renewals.inventory.selectors import visible_subscriptions
from renewals.inventory.services.subscriptions import (
    StaleEdit,
    subscription_create,
    subscription_update,
)


class SubscriptionSerializer(serializers.ModelSerializer[Subscription]):
    modules = ModuleSerializer(many=True, read_only=True)
    # Empty: not categorised yet.
    category = serializers.ChoiceField(choices=Category.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id", "ref", "vendor", "product", "edition", "category", "department", "owner",
            "seats_purchased", "unit_price", "currency", "billing_cycle", "term_start",
            "term_end", "auto_renew", "notice_period_days", "cancellation_deadline", "status",
            "ends_at_term_end", "alert_thresholds", "modules", "version", "archived_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


def _active_users(user: Any) -> QuerySet[User]:
    return User.objects.filter(is_active=True)


class SubscriptionWriteSerializer(serializers.Serializer[Any]):
    """What a client may set. Ids outside the user's reach are refused like ids that do not
    exist; the rules (prices, seats, term, currency, owner, alert days) are the service's."""

    ref = serializers.CharField(max_length=30)
    vendor = ScopedPrimaryKeyField(
        queryset=Vendor.objects.all(),
        scope=lambda user: Vendor.objects.filter(archived_at__isnull=True),
    )
    product = serializers.CharField(max_length=120)
    edition = serializers.CharField(max_length=80, required=False, allow_blank=True)
    category = serializers.ChoiceField(
        choices=Subscription._meta.get_field("category").choices,
        required=False,
        allow_blank=True,
    )
    department = ScopedPrimaryKeyField(
        queryset=Department.objects.all(),
        scope=managed_departments,
    )
    owner = ScopedPrimaryKeyField(
        queryset=User.objects.all(), scope=_active_users, required=False, allow_null=True
    )
    seats_purchased = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=40, decimal_places=20)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", max_length=3, required=False)
    billing_cycle = serializers.ChoiceField(
        choices=Subscription._meta.get_field("billing_cycle").choices,
        required=False,
    )
    term_start = serializers.DateField()
    term_end = serializers.DateField()
    auto_renew = serializers.BooleanField(required=False)
    notice_period_days = serializers.IntegerField(required=False)
    alert_thresholds = serializers.ListField(
        child=serializers.IntegerField(), max_length=rules.MAX_THRESHOLDS, required=False
    )
    alert_recipients = serializers.ListField(
        child=ScopedPrimaryKeyField(queryset=User.objects.all(), scope=_active_users),
        max_length=100,
        required=False,
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=rules.MAX_TAG_LENGTH),
        max_length=rules.MAX_TAGS,
        required=False,
    )
    notes = serializers.CharField(max_length=rules.MAX_NOTES, required=False, allow_blank=True)
    version = serializers.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        required=False,
        help_text=_(
            "The version you read (required to change a subscription); a stale one is 409."
        ),
    )


class ChangeSerializer(serializers.Serializer[Any]):
    field = serializers.CharField()
    label = serializers.CharField()
    seen = serializers.CharField()
    now = serializers.CharField()


class StaleSerializer(serializers.Serializer[Any]):
    """Someone changed the subscription since the version sent: who, when, what."""

    detail = serializers.ListField(child=serializers.CharField())
    code = serializers.CharField()
    version = serializers.IntegerField()
    changed_by = serializers.IntegerField(allow_null=True)
    changed_by_name = serializers.CharField(allow_null=True)
    changed_at = serializers.DateTimeField(allow_null=True)
    changes = ChangeSerializer(many=True)


STALE = OpenApiResponse(StaleSerializer, _("Changed by someone else since the version sent."))
REFUSED = OpenApiResponse(RefusalSerializer, _("Refused by a rule of the service."))


def stale_response(exc: StaleEdit) -> Response:
    return Response(
        {
            "detail": [str(m) for m in exc.messages],
            "code": "stale_edit",
            "version": exc.version,
            "changed_by": exc.changed_by.pk if exc.changed_by else None,
            "changed_by_name": exc.changed_by.get_full_name() if exc.changed_by else None,
            "changed_at": exc.changed_at.isoformat() if exc.changed_at else None,
            "changes": [vars(change) for change in exc.changes],
        },
        status=status.HTTP_409_CONFLICT,
    )


class SubscriptionFilter(filters.SubscriptionFilter):
    """The subscriptions page's FilterSet (search, department and vendor among the user's,
    status, renewal window, auto-renewal, idle seats; archived ones only when asked for), with a
    strict yes/no for the API."""

    auto_renew = BooleanFilter()

    class Meta(filters.SubscriptionFilter.Meta):
        pass


class SubscriptionViewSet(viewsets.ModelViewSet[Subscription]):
    """The inventory of the departments the user may see; IT admins add subscriptions, the
    department's heads and software admins change their own fields (owner, category, alerts,
    tags, notes), IT admins every field."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = SubscriptionSerializer
    permission_classes = [READ]
    filterset_class = SubscriptionFilter
    ordering_fields = ["term_end", "product", "seats_purchased", "unit_price", "id"]
    ordering = ["term_end", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Subscription]:
        return visible_subscriptions(user=self.request.user).prefetch_related(
            Prefetch("modules", queryset=Module.objects.order_by("name"))
        )

    def filter_queryset(self, queryset: QuerySet[Subscription]) -> QuerySet[Subscription]:
        # The list's filters (archived ones hidden by default) apply to the list only: an
        # archived subscription is still there by its id.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _read(self, subscription: Subscription, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=subscription.pk)
        return Response(SubscriptionSerializer(fresh).data, status=code)

    @extend_schema(request=SubscriptionWriteSerializer, responses={201: SubscriptionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Add a subscription (IT admins)."""
        form = SubscriptionWriteSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = {k: v for k, v in form.validated_data.items() if k in FULL_FIELDS}
        created = subscription_create(user=_user(request), data=data)
        return self._read(created, status.HTTP_201_CREATED)

    @extend_schema(
        request=SubscriptionWriteSerializer,
        responses={200: SubscriptionSerializer, 409: STALE},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change some fields, sending the ``version`` read."""
        subscription = self.get_object()
        form = SubscriptionWriteSerializer(
            data=request.data, partial=True, context={"request": request}
        )
        form.is_valid(raise_exception=True)
        values = dict(form.validated_data)
        if "version" not in values:
            raise serializers.ValidationError(
                {"version": [_("Send the version you read, to change a subscription.")]}
            )
        version = values.pop("version")
        try:
            saved = subscription_update(
                user=_user(request), subscription=subscription, data=values, version=version
            )
        except StaleEdit as exc:
            return stale_response(exc)
        return self._read(saved)

    @extend_schema(request=None, responses={200: SubscriptionSerializer, 400: REFUSED})
    @action(detail=True, methods=["post"], permission_classes=[roles(Role.IT_ADMIN)])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        """Archive (IT admins): seats revoked, alerts stopped, history kept; refused while a
        renewal request is under way."""
        archived = subscription_archive(user=_user(request), subscription=self.get_object())
        return self._read(archived)
