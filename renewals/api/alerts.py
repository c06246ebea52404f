"""API for alert deliveries: what was recorded for a subscription and how it was delivered."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from rest_framework import serializers, viewsets

from core.api import LOOKUP, api_schema
from core.filtersets import ScopedIdFilter, set_queryset
from org.scoping import visible_departments
from renewals.alerts.models import AlertDelivery
from renewals.api.base import READ
from renewals.inventory.models import Subscription
from renewals.inventory.selectors import visible_subscriptions


class DeliverySerializer(serializers.ModelSerializer[AlertDelivery]):
    class Meta:
        model = AlertDelivery
        fields = [
            "id", "subscription", "term_end", "kind", "threshold", "due_on", "channel",
            "recipient", "chat_channel", "status", "attempts", "next_attempt_at",
            "created_at", "sent_at",
        ]  # fmt: skip
        read_only_fields = fields


class DeliveryFilter(django_filters.FilterSet):
    subscription = ScopedIdFilter(model=Subscription)
    status = django_filters.ChoiceFilter(choices=AlertDelivery.Status.choices)
    channel = django_filters.ChoiceFilter(choices=AlertDelivery.Channel.choices)
    due_from = django_filters.DateFilter(field_name="due_on", lookup_expr="gte")

    class Meta:
        model = AlertDelivery
        fields = ["subscription", "status", "channel"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "subscription", visible_subscriptions(user=user))


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet[AlertDelivery]):
    """Alerts recorded for the subscriptions the user may see, and how each was delivered."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = DeliverySerializer
    permission_classes = [READ]
    filterset_class = DeliveryFilter
    ordering_fields = ["due_on", "created_at", "id"]
    ordering = ["-due_on", "-id"]

    def get_queryset(self) -> QuerySet[AlertDelivery]:
        return AlertDelivery.objects.filter(
            Q(subscription__department__in=visible_departments(self.request.user))
        )
