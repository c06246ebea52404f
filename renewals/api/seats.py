"""API for seats: the list (of the subscriptions the user may see), and assigning, revoking and
reassigning a seat through the same usage services as the seats panel. A full subscription is
a 409 with the service's message (code "seat_limit")."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import LOOKUP, BooleanFilter, RefusalSerializer, ScopedPrimaryKeyField, api_schema
from core.filtersets import ScopedIdFilter, set_queryset
from org.api_permissions import roles
from org.models import Person
from org.roles import Role
from org.scoping import managed_departments, visible_departments
from renewals.api.base import READ, _user
from renewals.inventory.models import Module, Subscription
from renewals.inventory.selectors import seat_holders, visible_subscriptions
from renewals.usage import services
from renewals.usage.models import Seat

WRITE = roles(Role.IT_ADMIN, Role.DEPARTMENT_HEAD, Role.SOFTWARE_ADMIN)
FULL = OpenApiResponse(RefusalSerializer, "The subscription is full (code seat_limit).")


class SeatSerializer(serializers.ModelSerializer[Seat]):
    employee_no = serializers.CharField(source="person.employee_no", read_only=True)
    person_left = serializers.SerializerMethodField()

    class Meta:
        model = Seat
        fields = [
            "id", "subscription", "person", "employee_no", "person_left", "account",
            "assigned_on", "revoked_on", "revoke_reason", "last_active_on",
        ]  # fmt: skip
        read_only_fields = fields

    def get_person_left(self, seat: Seat) -> bool:
        return seat.person.has_left


def _people(user: Any) -> QuerySet[Person]:
    return Person.objects.filter(department__in=visible_departments(user))


class SeatAssignSerializer(serializers.Serializer[Any]):
    """A new seat: a subscription the user may change, a person they may see (the service
    refuses a leaver or a holder), modules of that subscription, the login in the tool."""

    subscription = ScopedPrimaryKeyField(
        queryset=Subscription.objects.all(),
        scope=lambda user: Subscription.objects.filter(department__in=managed_departments(user)),
    )
    person = ScopedPrimaryKeyField(queryset=Person.objects.all(), scope=_people)
    modules = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=200,
        default=list,
    )
    account = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class SeatRevokeSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=services.SEAT_REASON_MAX)


class SeatReassignSerializer(serializers.Serializer[Any]):
    person = ScopedPrimaryKeyField(queryset=Person.objects.all(), scope=_people)
    reason = serializers.CharField(max_length=services.SEAT_REASON_MAX)


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


def _full(exc: services.SeatLimitReached) -> Response:
    return Response(
        {"detail": [str(m) for m in exc.messages], "code": "seat_limit"},
        status=status.HTTP_409_CONFLICT,
    )


class SeatViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[Seat],
):
    """Seats of the subscriptions the user may see; IT admins and the departments' heads and
    software admins assign, revoke (with a reason) and reassign them."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = SeatSerializer
    permission_classes = [READ]
    filterset_class = SeatFilter
    ordering_fields = ["assigned_on", "last_active_on", "id"]
    ordering = ["id"]

    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.action in ("create", "revoke", "reassign"):
            return [WRITE()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Seat]:
        return Seat.objects.filter(
            subscription__department__in=visible_departments(self.request.user)
        ).select_related("person")

    def _answer(self, seat: Seat, code: int = status.HTTP_200_OK) -> Response:
        return Response(SeatSerializer(self.get_queryset().get(pk=seat.pk)).data, status=code)

    @extend_schema(request=SeatAssignSerializer, responses={201: SeatSerializer, 409: FULL})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Give a person a seat (and modules) of a subscription."""
        form = SeatAssignSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        subscription = data["subscription"]
        ids = set(data["modules"])
        modules = list(Module.objects.filter(pk__in=ids, subscription=subscription))
        if len(modules) != len(ids):
            raise ValidationError({"modules": [_("Choose modules of this subscription.")]})
        try:
            seat = services.seat_assign(
                user=_user(request),
                subscription=subscription,
                person=data["person"],
                modules=modules,
                account=data["account"],
            )
        except services.SeatLimitReached as exc:
            return _full(exc)
        return self._answer(seat, status.HTTP_201_CREATED)

    @extend_schema(request=SeatRevokeSerializer, responses=SeatSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """End the seat today, with the reason kept in its history."""
        seat = self.get_object()  # another department's seat: 404 before any field check
        form = SeatRevokeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        seat = services.seat_revoke(
            user=_user(request), seat=seat, reason=form.validated_data["reason"]
        )
        return self._answer(seat)

    @extend_schema(request=SeatReassignSerializer, responses={200: SeatSerializer, 409: FULL})
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk: str | None = None) -> Response:
        """Revoke the seat with the reason and give the person a seat with the same modules,
        in one step; answers the new seat."""
        seat = self.get_object()
        form = SeatReassignSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        try:
            seat = services.seat_reassign(
                user=_user(request),
                seat=seat,
                person=form.validated_data["person"],
                reason=form.validated_data["reason"],
            )
        except services.SeatLimitReached as exc:
            return _full(exc)
        return self._answer(seat)
