"""REST API for the inventory, usage, renewal requests and alert deliveries. Reads go through
the same scoped selectors as the pages; every write calls a service."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.navigation import DIRECTORY_ROLES
from core.api import (
    CONFLICT,
    LOOKUP,
    BooleanFilter,
    ScopedPrimaryKeyField,
    api_schema,
    roles,
)
from core.filtersets import ScopedIdFilter, set_queryset
from org.models import Person, User
from org.roles import Role
from org.scoping import visible_departments
from renewals.alerts.models import AlertDelivery
from renewals.inventory import filters
from renewals.inventory.models import Module, Subscription, Vendor
from renewals.inventory.selectors import seat_holders, vendor_list, visible_subscriptions
from renewals.requests import tables as request_tables
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.quotes import Quote, QuoteModule
from renewals.requests.models.requests import Purpose, RenewalRequest
from renewals.requests.services import requests as request_services
from renewals.usage.models import MonthlyUsage, Seat
from renewals.usage.services import USAGE_BULK_MAX, UsageRow, usage_bulk_upsert

READ = roles(*DIRECTORY_ROLES)


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # the permission classes let only signed-in users through
    return user


# --- Inventory -------------------------------------------------------------------------------


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


# --- Usage -----------------------------------------------------------------------------------


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


# --- Renewal requests ------------------------------------------------------------------------


class StepSerializer(serializers.ModelSerializer[ApprovalStep]):
    class Meta:
        model = ApprovalStep
        fields = [
            "id", "round", "position", "role", "over_budget", "status", "pending_since",
            "decided_by", "decided_at", "comment",
        ]  # fmt: skip
        read_only_fields = fields


class QuoteModuleSerializer(serializers.ModelSerializer[QuoteModule]):
    class Meta:
        model = QuoteModule
        fields = ["name", "unit_price", "seats"]
        read_only_fields = fields


class QuoteSerializer(serializers.ModelSerializer[Quote]):
    """A quote as compared: what it includes (edition, modules with their prices in the quote's
    currency, cycle, term) and its totals in the base currency, modules included."""

    modules = QuoteModuleSerializer(many=True, read_only=True)
    chosen = serializers.SerializerMethodField()
    total_1y_base = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    total_3y_base = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = Quote
        fields = [
            "id", "vendor_name", "product", "edition", "is_incumbent", "seats", "unit_price",
            "currency", "rate_to_base", "rate_valid_from", "billing_cycle", "term_months",
            "discount_percent",
            "one_off_fees", "price_increase_cap_percent", "modules", "chosen", "total_1y_base",
            "total_3y_base",
        ]  # fmt: skip
        read_only_fields = fields

    def get_chosen(self, quote: Quote) -> bool:
        return bool(quote.request.chosen_quote_id == quote.pk)


class RequestSerializer(serializers.ModelSerializer[RenewalRequest]):
    """What a request proposes; status, amounts, approvers and department are the workflow's
    and are never taken from the client."""

    # Only subscriptions the user sees exist for them (the service checks "manage").
    subscription = ScopedPrimaryKeyField(
        queryset=Subscription.objects.all(),
        scope=lambda user: visible_subscriptions(user=user),
    )
    pending_steps = StepSerializer(many=True, read_only=True)
    quotes = QuoteSerializer(many=True, read_only=True)

    class Meta:
        model = RenewalRequest
        fields = [
            "id", "subscription", "department", "requested_by", "purpose", "justification",
            "proposed_seats", "proposed_modules", "proposed_edition", "proposed_term_start",
            "proposed_term_end", "status", "amount", "currency", "rate_to_base",
            "rate_valid_from", "amount_base", "fiscal_year", "budget_fit", "round", "submitted_at", "decided_at",
            "pending_steps", "quotes", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "department", "requested_by", "status", "amount", "currency",
            "rate_to_base", "rate_valid_from", "amount_base", "fiscal_year", "budget_fit", "round",
            "submitted_at", "decided_at", "pending_steps", "quotes", "created_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {
            "proposed_seats": {"required": False, "max_value": 10_000_000},
            "proposed_term_start": {"required": False},
            "proposed_term_end": {"required": False},
        }

    def validate_subscription(self, subscription: Subscription) -> Subscription:
        if self.instance is not None and subscription.pk != self.instance.subscription_id:
            raise serializers.ValidationError(_("A request stays with its subscription."))
        return subscription


class DecisionSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(choices=ApprovalStep.Decision.choices)
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    step = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_("The step you decide (as you saw it); a stale one is refused."),
    )


class RequestFilter(request_tables.RequestFilter):
    """The request list's FilterSet (search, department among the user's, status, purpose), and
    the subscription."""

    subscription = ScopedIdFilter(model=Subscription)

    class Meta(request_tables.RequestFilter.Meta):
        fields = [*request_tables.RequestFilter.Meta.fields, "subscription"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        set_queryset(self, "subscription", visible_subscriptions(user=user))


class RequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[RenewalRequest],
):
    """Renewal requests of the departments the user may see: open one (with the incumbent's
    quote and usage evidence filled in), change what it proposes, submit it, decide it."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = RequestSerializer
    permission_classes = [READ]
    filterset_class = RequestFilter
    ordering_fields = ["created_at", "submitted_at", "amount_base", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[RenewalRequest]:
        pending = ApprovalStep.objects.filter(status=ApprovalStep.Status.PENDING)
        return RenewalRequest.objects.filter(
            department__in=visible_departments(self.request.user)
        ).prefetch_related(
            Prefetch("steps", queryset=pending, to_attr="pending_steps"),
            Prefetch("quotes", queryset=Quote.objects.select_related("request")),
            "quotes__modules",
        )

    def _proposal(self, data: dict[str, Any]) -> dict[str, Any]:
        return {f: data[f] for f in request_services.EDITABLE_FIELDS if f in data}

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        user = _user(self.request)
        request = request_services.request_create(
            subscription=data["subscription"],
            user=user,
            purpose=data.get("purpose", Purpose.KEEP),
            justification=data.get("justification", ""),
        )
        proposal = self._proposal(data)
        if proposal:
            request = request_services.request_update(request=request, user=user, data=proposal)
        serializer.instance = self.get_queryset().get(pk=request.pk)

    def perform_update(self, serializer: Any) -> None:
        request = request_services.request_update(
            request=serializer.instance,
            user=_user(self.request),
            data=self._proposal(serializer.validated_data),
        )
        serializer.instance = self.get_queryset().get(pk=request.pk)

    @extend_schema(request=None, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Freeze the evidence and the amount and start the approval steps of its tier."""
        renewal = request_services.request_submit(request=self.get_object(), user=_user(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=renewal.pk)).data)

    @extend_schema(
        request=DecisionSerializer,
        responses={200: RequestSerializer, 409: CONFLICT},
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[roles(Role.IT_ADMIN, Role.FINANCE, Role.DEPARTMENT_HEAD)],
    )
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Approve, reject or return the pending step: the same checks as the page (your role
        for the department, never your own request, never twice in a round)."""
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        renewal = self.get_object()
        request_services.step_decide(
            request=renewal,
            user=_user(request),
            decision=form.validated_data["decision"],
            comment=form.validated_data.get("comment", ""),
            step_id=form.validated_data.get("step"),
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=renewal.pk)).data)


# --- Alerts ----------------------------------------------------------------------------------


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


ROUTES = [
    ("vendors", VendorViewSet, "vendor"),
    ("subscriptions", SubscriptionViewSet, "subscription"),
    ("seats", SeatViewSet, "seat"),
    ("usage", UsageViewSet, "usage"),
    ("requests", RequestViewSet, "request"),
    ("deliveries", DeliveryViewSet, "delivery"),
]
