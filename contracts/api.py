"""REST API for the contract archive: contracts and their documents' metadata; files only through
the same permission-checked download as the pages."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request

from contracts import forms, selectors, views
from contracts.models import BillingCycle, Contract, ContractDocument, Termination
from core.api import LOOKUP, BooleanFilter, api_schema
from core.filtersets import ScopedIdFilter, set_queryset
from org.api_permissions import roles
from org.roles import DIRECTORY_ROLES
from renewals.inventory.models import Subscription
from renewals.inventory.selectors import visible_subscriptions


class DocumentSerializer(serializers.ModelSerializer[ContractDocument]):
    # Empty until the text is read: the schema says so ("" is one of the values).
    text_source = serializers.ChoiceField(
        choices=ContractDocument.Source.choices, allow_blank=True, read_only=True
    )
    text_note = serializers.ChoiceField(
        choices=ContractDocument.Note.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = ContractDocument
        fields = [
            "id", "kind", "version", "original_name", "content_type", "size", "sha256",
            "text_status", "text_source", "page_count", "text_note", "uploaded_by", "uploaded_at",
        ]  # fmt: skip
        read_only_fields = fields


class ContractSerializer(serializers.ModelSerializer[Contract]):
    documents = DocumentSerializer(many=True, read_only=True)
    billing_cycle = serializers.ChoiceField(
        choices=BillingCycle.choices, allow_blank=True, read_only=True
    )
    termination = serializers.ChoiceField(
        choices=Termination.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Contract
        fields = [
            "id", "subscription", "renewal_request", "number", "counterparty", "signed_on",
            "valid_from", "valid_to", "seats", "total_value", "currency", "price_terms",
            "auto_renew", "auto_renew_clause", "notice_period_days", "price_cap_percent",
            "payment_terms", "billing_cycle", "tax_included", "termination",
            "termination_clause", "data_return_clause", "personal_info_clause", "data_location",
            "tags", "status", "documents", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ContractFilter(forms.ContractFilter):
    """The archive's FilterSet (search inside PDFs too, department and vendor among the user's,
    validity, auto-renewal, expiring within), with a strict yes/no, the subscription and the
    status."""

    subscription = ScopedIdFilter(model=Subscription)
    status = django_filters.ChoiceFilter(choices=Contract.Status.choices)
    auto_renew = BooleanFilter()

    class Meta(forms.ContractFilter.Meta):
        fields = [*forms.ContractFilter.Meta.fields, "subscription", "status"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        set_queryset(self, "subscription", visible_subscriptions(user=user))


class DocumentFilter(django_filters.FilterSet):
    """A contract the user sees (any other id is refused like one that does not exist) and the
    kind of document."""

    contract = ScopedIdFilter(model=Contract)
    kind = django_filters.ChoiceFilter(choices=ContractDocument.Kind.choices)

    class Meta:
        model = ContractDocument
        fields = ["contract", "kind"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "contract", selectors.contract_list(user=user))


class ContractViewSet(viewsets.ReadOnlyModelViewSet[Contract]):
    """Contracts of the subscriptions the user may see, with their documents' metadata;
    ``?q=`` searches metadata and the PDFs' text like the archive page."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = ContractSerializer
    permission_classes = [roles(*DIRECTORY_ROLES)]
    filterset_class = ContractFilter
    ordering_fields = ["valid_to", "valid_from", "total_value", "id"]
    ordering = ["-valid_to", "-id"]

    def get_queryset(self) -> QuerySet[Contract]:
        documents = ContractDocument.objects.defer("text").order_by("kind", "version")
        return selectors.contract_list(user=self.request.user).prefetch_related(
            Prefetch("documents", queryset=documents)
        )


class DocumentViewSet(viewsets.ReadOnlyModelViewSet[ContractDocument]):
    """Documents of the contracts the user may see; ``download/`` returns the file."""

    schema = api_schema()
    lookup_value_regex = LOOKUP
    serializer_class = DocumentSerializer
    permission_classes = [roles(*DIRECTORY_ROLES)]
    ordering_fields = ["uploaded_at", "id"]
    ordering = ["-uploaded_at", "-id"]
    filterset_class = DocumentFilter

    def get_queryset(self) -> QuerySet[ContractDocument]:
        contracts = selectors.contract_list(user=self.request.user)
        return ContractDocument.objects.filter(contract__in=contracts.values("pk")).defer("text")

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        """The file, through the page's permission-checked download (same headers)."""
        # DRF has authenticated the token's user onto the underlying request.
        return views.document_download(request._request, int(self.get_object().pk))


ROUTES = [
    ("contracts", ContractViewSet, "contract"),
    ("documents", DocumentViewSet, "document"),
]
