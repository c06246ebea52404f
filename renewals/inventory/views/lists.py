"""Inventory pages: the subscription and vendor lists, a vendor's subscriptions (the pages
that compose other features, such as a subscription's page, are in renewals/pages/views.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from core.exports import SafeTableExport
from org.permissions import role_required
from org.roles import DIRECTORY_ROLES
from org.scoping import requestable_departments
from renewals.inventory import selectors as subs
from renewals.inventory.filters import SubscriptionFilter, live, without_proposed
from renewals.inventory.policy import may_create_subscription, owner_choices
from renewals.inventory.services.vendors import may_edit_vendors
from renewals.inventory.tables import SubscriptionTable, VendorTable

PAGE_SIZE = 50


def _paginate_with_figures(request: HttpRequest, table: SubscriptionTable) -> None:
    """Sort and paginate the table on the plain rows, then give the page's rows their figures
    (one query for the page: the figures' subqueries never run for rows not shown)."""
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    subs.add_figures([row.record for row in table.page.object_list])


@require_GET
@role_required(*DIRECTORY_ROLES)
def subscription_list(request: HttpRequest) -> HttpResponse:
    queryset = subs.visible_subscriptions(user=request.user)
    filterset = SubscriptionFilter(request.GET or None, queryset=queryset, user=request.user)
    # Proposed (under approval) and archived subscriptions only when the filter asks for them.
    rows = (
        filterset.qs
        if filterset.is_bound and filterset.is_valid()
        else live(without_proposed(queryset))
    )
    export_format = request.GET.get("_export")
    if export_format in ("csv", "xlsx"):
        table = SubscriptionTable(subs.with_figures(rows))
        RequestConfig(request, paginate=False).configure(table)
        stamp = timezone.localdate().isoformat()
        return SafeTableExport(export_format, table).response(
            f"subscriptions-{stamp}.{export_format}"
        )
    table = SubscriptionTable(rows, selectable=True)
    _paginate_with_figures(request, table)
    query = request.GET.copy()
    for key in ("page", "_export"):
        query.pop(key, None)
    return render(
        request,
        "renewals/inventory/subscription_list.html",
        {
            "filter": filterset,
            "table": table,
            "querystring": query.urlencode(),
            # The bulk "change owner" choices (empty for a user who changes no department).
            "owners": owner_choices(actor=request.user),
            # "Ask for a new tool" (新购申请), for who may ask for one.
            "may_ask_new": requestable_departments(request.user).exists(),
            "can_add": may_create_subscription(request.user),
        },
    )


@require_GET
@role_required(*DIRECTORY_ROLES)
def vendor_list(request: HttpRequest) -> HttpResponse:
    # ?archived=1: the archived vendors (hidden from the list by default).
    archived = request.GET.get("archived") == "1"
    vendors = subs.vendor_list(user=request.user, archived=archived)
    # ?q= (the global search's "see all"): vendors whose name contains the text.
    query = " ".join(request.GET.get("q", "").replace("\x00", " ").split())[:100]
    if query:
        vendors = vendors.filter(name__icontains=query)
    table = VendorTable(vendors)
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    return render(
        request,
        "renewals/inventory/vendor_list.html",
        {
            "table": table,
            "query": query,
            "archived": archived,
            "can_edit": may_edit_vendors(request.user),
        },
    )


@require_GET
@role_required(*DIRECTORY_ROLES)
def vendor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = get_object_or_404(subs.vendor_list(user=request.user), pk=pk)
    table = SubscriptionTable(subs.visible_subscriptions(user=request.user).filter(vendor=vendor))
    _paginate_with_figures(request, table)
    return render(
        request,
        "renewals/inventory/vendor_detail.html",
        {"vendor": vendor, "table": table, "can_edit": may_edit_vendors(request.user)},
    )
