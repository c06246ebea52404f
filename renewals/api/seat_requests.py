"""API for seat requests: ask a seat for oneself, list and read one's own and those of the
departments one sees, and grant, decline, escalate or withdraw one through the same services
as the pages."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import CONFLICT, LOOKUP, api_schema
from org.api_permissions import roles
from renewals.api.base import _user
from renewals.inventory.models import Module
from renewals.seats import policy, selectors, services
from renewals.seats.models import SeatRequest

ID = {"min_value": 1, "max_value": 2**63 - 1}


class SeatRequestSerializer(serializers.ModelSerializer[SeatRequest]):
    modules = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = SeatRequest
        fields = [
            "id", "subscription", "person", "requested_by", "modules", "reason", "status",
            "decided_by", "decided_at", "answer", "seat", "renewal_request", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class SeatAskSerializer(serializers.Serializer[Any]):
    """A seat for the signed-in user: a subscription of their department or a shared one."""

    subscription = serializers.IntegerField(**ID)
    modules = serializers.ListField(
        child=serializers.IntegerField(**ID), required=False, max_length=200, default=list
    )
    reason = serializers.CharField(
        max_length=services.REASON_MAX, required=False, allow_blank=True, default=""
    )


class AnswerSerializer(serializers.Serializer[Any]):
    answer = serializers.CharField(
        max_length=services.ANSWER_MAX, required=False, allow_blank=True, default=""
    )


DECIDERS = roles(*policy.DECIDER_ROLES)


class SeatRequestFilter(django_filters.FilterSet):
    """By status (no choice of objects to leak: the list itself is scoped)."""

    status = django_filters.ChoiceFilter(choices=SeatRequest.Status.choices)

    class Meta:
        model = SeatRequest
        fields = ["status"]


class SeatRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet[SeatRequest],
):
    """Seat requests: everyone signed in sees their own (and those of the departments they
    see) and asks for seats for themselves; the departments' software admins, heads and IT
    admins decide them."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    queryset = SeatRequest.objects.none()  # the schema's id type; get_queryset scopes it
    serializer_class = SeatRequestSerializer
    permission_classes = [IsAuthenticated]
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    filterset_class = SeatRequestFilter

    def get_queryset(self) -> QuerySet[SeatRequest]:
        user = self.request.user
        if self.action in ("grant", "decline", "escalate"):
            return selectors.decidable_requests(user=user)
        if self.action == "withdraw":
            return selectors.own_requests(user=user)
        return selectors.visible_requests(user=user)

    def _answer(self, seat_request: SeatRequest) -> Response:
        fresh = selectors.visible_requests(user=self.request.user).get(pk=seat_request.pk)
        return Response(SeatRequestSerializer(fresh).data)

    @extend_schema(request=SeatAskSerializer, responses={201: SeatRequestSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Ask a seat for yourself (you must be in the company directory)."""
        form = SeatAskSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = _user(request)
        data = form.validated_data
        person = policy.person_of(user)
        if person is None:
            raise services.no_person()
        subscription = (
            selectors.askable_subscriptions(person).filter(pk=data["subscription"]).first()
        )
        if subscription is None:
            message = _("No subscription with this id that you may ask a seat of.")
            raise serializers.ValidationError({"subscription": [message]})
        wanted = set(data["modules"])
        modules = list(Module.objects.filter(pk__in=wanted, subscription=subscription))
        if len(modules) != len(wanted):
            raise serializers.ValidationError(
                {"modules": [_("Choose modules of this subscription.")]}
            )
        seat_request = services.seat_request_ask(
            user=user,
            subscription=subscription,
            modules=modules,
            reason=data["reason"],
        )
        fresh = selectors.visible_requests(user=user).get(pk=seat_request.pk)
        return Response(SeatRequestSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AnswerSerializer, responses={200: SeatRequestSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], permission_classes=[DECIDERS])
    def grant(self, request: Request, pk: str | None = None) -> Response:
        """Give the person a free seat with the modules asked for; a full subscription is
        refused (400, code seat_limit): escalate instead."""
        form = AnswerSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        done = services.seat_request_grant(
            user=_user(request),
            seat_request=self.get_object(),
            answer=form.validated_data["answer"],
        )
        return self._answer(done)

    @extend_schema(request=AnswerSerializer, responses={200: SeatRequestSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], permission_classes=[DECIDERS])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """Refuse the request; the answer (required) tells the requester why."""
        form = AnswerSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        done = services.seat_request_decline(
            user=_user(request),
            seat_request=self.get_object(),
            answer=form.validated_data["answer"],
        )
        return self._answer(done)

    @extend_schema(request=AnswerSerializer, responses={200: SeatRequestSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], permission_classes=[DECIDERS])
    def escalate(self, request: Request, pk: str | None = None) -> Response:
        """No seat is free: join the subscription's open renewal request, or draft a "more
        seats" one (``renewal_request`` in the answer)."""
        form = AnswerSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        done = services.seat_request_escalate(
            user=_user(request),
            seat_request=self.get_object(),
            answer=form.validated_data["answer"],
        )
        return self._answer(done)

    @extend_schema(request=None, responses={200: SeatRequestSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        """Take back your own open or waiting request."""
        done = services.seat_request_withdraw(user=_user(request), seat_request=self.get_object())
        return self._answer(done)
