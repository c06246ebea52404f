"""REST API for the inventory, usage, renewal requests and alert deliveries. Reads go through
the same scoped selectors as the pages; every write calls a service.

One module per feature (inventory, subscriptions, seats, usage, requests, alerts); ``ROUTES`` is what
``config/api_urls.py`` registers on the one router."""

from __future__ import annotations

from renewals.api.alerts import DeliveryFilter, DeliverySerializer, DeliveryViewSet
from renewals.api.base import READ
from renewals.api.inventory import (
    ModuleSerializer,
    VendorSerializer,
)
from renewals.api.requests import (
    DecisionSerializer,
    QuoteModuleSerializer,
    QuoteSerializer,
    RequestFilter,
    RequestSerializer,
    RequestViewSet,
    StepSerializer,
)
from renewals.api.seat_requests import (
    AnswerSerializer,
    SeatAskSerializer,
    SeatRequestSerializer,
    SeatRequestViewSet,
)
from renewals.api.seats import (
    SeatAssignSerializer,
    SeatFilter,
    SeatReassignSerializer,
    SeatRevokeSerializer,
    SeatSerializer,
    SeatViewSet,
)
from renewals.api.subscriptions import (
    SubscriptionFilter,
    SubscriptionSerializer,
    SubscriptionViewSet,
    SubscriptionWriteSerializer,
)
from renewals.api.usage import (
    UsageBulkSerializer,
    UsageFilter,
    UsageRowSerializer,
    UsageSerializer,
    UsageViewSet,
    UsageWrittenSerializer,
)
from renewals.api.vendors import (
    ModuleFilter,
    ModuleRecordSerializer,
    ModuleViewSet,
    VendorFilter,
    VendorRecordSerializer,
    VendorViewSet,
)

ROUTES = [
    ("vendors", VendorViewSet, "vendor"),
    ("modules", ModuleViewSet, "module"),
    ("subscriptions", SubscriptionViewSet, "subscription"),
    ("seats", SeatViewSet, "seat"),
    ("usage", UsageViewSet, "usage"),
    ("requests", RequestViewSet, "request"),
    ("deliveries", DeliveryViewSet, "delivery"),
    ("seat-requests", SeatRequestViewSet, "seat-request"),
]

__all__ = [
    "READ",
    "ROUTES",
    "AnswerSerializer",
    "DecisionSerializer",
    "DeliveryFilter",
    "DeliverySerializer",
    "DeliveryViewSet",
    "ModuleFilter",
    "ModuleRecordSerializer",
    "ModuleSerializer",
    "ModuleViewSet",
    "QuoteModuleSerializer",
    "QuoteSerializer",
    "RequestFilter",
    "RequestSerializer",
    "RequestViewSet",
    "SeatAssignSerializer",
    "SeatAskSerializer",
    "SeatFilter",
    "SeatReassignSerializer",
    "SeatRevokeSerializer",
    "SeatSerializer",
    "SeatRequestSerializer",
    "SeatRequestViewSet",
    "SeatViewSet",
    "StepSerializer",
    "SubscriptionFilter",
    "SubscriptionSerializer",
    "SubscriptionViewSet",
    "SubscriptionWriteSerializer",
    "UsageBulkSerializer",
    "UsageFilter",
    "UsageRowSerializer",
    "UsageSerializer",
    "UsageViewSet",
    "UsageWrittenSerializer",
    "VendorFilter",
    "VendorRecordSerializer",
    "VendorSerializer",
    "VendorViewSet",
]
