"""API for monthly usage: the list, and the bulk write through the usage service."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import LOOKUP, api_schema
from core.filtersets import ScopedIdFilter, set_queryset
from org.api_permissions import roles
from org.roles import Role
from org.scoping import visible_departments
from renewals.api.base import READ, _user
from renewals.inventory.models import Module, Subscription
from renewals.inventory.selectors import visible_subscriptions
from renewals.usage.models import MonthlyUsage
from renewals.usage.services import USAGE_BULK_MAX, UsageRow, usage_bulk_upsert


class UsageSerializer(serializers.ModelSerializer[MonthlyUsage]):
    module = serializers.SlugRelatedField(
        slug_field="name", queryset=Module.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = MonthlyUsage
        fields = [
            "id", "subscription", "module", "month", "active_users", "tasks_created",
            "tasks_completed",
        ]  # fmt: skip
        read_only_fields = fields


class UsageRowSerializer(serializers.Serializer[Any]):
    """One row of a bulk write; the subscription is checked by the service (scope, modules)."""

    subscription = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    module = serializers.CharField(
        max_length=80, required=False, allow_null=True, allow_blank=True, default=None
    )
    month = serializers.DateField(help_text=_("The first day of the month, e.g. 2026-11-01."))
    active_users = serializers.IntegerField(min_value=0, max_value=2_000_000_000)
    tasks_created = serializers.IntegerField(
        min_value=0, max_value=2_000_000_000, required=False, allow_null=True, default=None
    )
    tasks_completed = serializers.IntegerField(
        min_value=0, max_value=2_000_000_000, required=False, allow_null=True, default=None
    )


class UsageBulkSerializer(serializers.Serializer[Any]):
    rows = UsageRowSerializer(many=True, max_length=USAGE_BULK_MAX, allow_empty=False)


class UsageWrittenSerializer(serializers.Serializer[Any]):
    written = serializers.IntegerField()


class UsageFilter(django_filters.FilterSet):
    subscription = ScopedIdFilter(model=Subscription)
    month_from = django_filters.DateFilter(field_name="month", lookup_expr="gte")
    month_to = django_filters.DateFilter(field_name="month", lookup_expr="lte")

    class Meta:
        model = MonthlyUsage
        fields = ["subscription"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "subscription", visible_subscriptions(user=user))


class UsageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[MonthlyUsage]):
    """Monthly usage of the subscriptions the user may see; IT admins and the departments'
    software admins and heads write it in bulk (create or update, all or nothing)."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = UsageSerializer
    permission_classes = [READ]
    filterset_class = UsageFilter
    ordering_fields = ["month", "id"]
    ordering = ["-month", "id"]

    def get_queryset(self) -> QuerySet[MonthlyUsage]:
        return MonthlyUsage.objects.filter(
            subscription__department__in=visible_departments(self.request.user)
        ).select_related("module")

    @extend_schema(
        request=UsageBulkSerializer,
        responses={201: UsageWrittenSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="bulk",
        permission_classes=[roles(Role.IT_ADMIN, Role.DEPARTMENT_HEAD, Role.SOFTWARE_ADMIN)],
    )
    def bulk(self, request: Request) -> Response:
        """Write up to 5,000 rows in one transaction; a refused row refuses all of them."""
        form = UsageBulkSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        rows = [
            UsageRow(
                subscription_id=row["subscription"],
                module=row.get("module") or None,
                month=row["month"],
                active_users=row["active_users"],
                tasks_created=row.get("tasks_created"),
                tasks_completed=row.get("tasks_completed"),
            )
            for row in form.validated_data["rows"]
        ]
        written = usage_bulk_upsert(user=_user(request), rows=rows)
        return Response({"written": written}, status=status.HTTP_201_CREATED)
