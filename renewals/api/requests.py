"""API for renewal requests: open, change, submit and decide one through the request services;
steps and quotes are read with it."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import CONFLICT, LOOKUP, ScopedPrimaryKeyField, api_schema
from core.filtersets import ScopedIdFilter, set_queryset
from org.api_permissions import roles
from org.roles import Role
from org.scoping import visible_departments
from renewals.api.base import READ, _user
from renewals.api.intake import NewPurchaseSerializer
from renewals.inventory.models import Subscription
from renewals.inventory.selectors import visible_subscriptions
from renewals.requests import services as request_services
from renewals.requests import tables as request_tables
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.quotes import Quote, QuoteModule
from renewals.requests.models.requests import Purpose, RenewalRequest
from renewals.requests.services.intake import new_purchase_create


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

    @extend_schema(request=NewPurchaseSerializer, responses={201: RequestSerializer})
    @action(
        detail=False,
        methods=["post"],
        url_path="new-purchase",
        permission_classes=[IsAuthenticated],
    )
    def new_purchase(self, request: Request) -> Response:
        """Ask for a tool not yet in the inventory (新购申请): a proposed subscription and a
        draft request with its first quote; then quotes, submit and decide as for a renewal.
        Any person of the directory, for their own department (or one they manage)."""
        form = NewPurchaseSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        created = new_purchase_create(user=_user(request), **form.validated_data)
        pending = ApprovalStep.objects.filter(status=ApprovalStep.Status.PENDING)
        renewal = RenewalRequest.objects.prefetch_related(
            Prefetch("steps", queryset=pending, to_attr="pending_steps"),
            Prefetch("quotes", queryset=Quote.objects.select_related("request")),
            "quotes__modules",
        ).get(pk=created.pk)
        return Response(self.get_serializer(renewal).data, status=201)

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
