"""Inventory pages: subscriptions, vendors, a person's seats, findings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from config.navigation import DIRECTORY_ROLES
from core.exports import SafeTableExport
from org.models import Person
from org.permissions import role_required
from org.roles import SEE_ALL_ROLES, Role, has_role
from org.scoping import can_manage_department, visible_departments
from renewals.alerts.models import AlertDelivery
from renewals.cleanup import policy as cleanup
from renewals.inventory import selectors as subs
from renewals.inventory.filters import SubscriptionFilter
from renewals.inventory.models import Module, Subscription
from renewals.inventory.money import cents
from renewals.inventory.owners import owner_choices
from renewals.inventory.tables import SubscriptionTable, VendorTable
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.services.execution import term_payment
from renewals.risks import selectors as risk_selectors
from renewals.risks.models import Risk
from renewals.usage import selectors as usage

PAGE_SIZE = 50
CONTRACTS_SHOWN = 10
REQUESTS_SHOWN = 10


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
    rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
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
        },
    )


def _contract_trap(
    subscription: Subscription, contracts: list[Any], today: dt.date
) -> dict[str, Any] | None:
    """The contract trap: an auto-renewing subscription, its cancellation deadline, the newest
    active contract's price cap, and the days left to cancel.

    ``contracts``: the newest contracts the page lists (newest first); the newest active one is
    among them unless all of them are not active, and only then is it read separately (the
    page's query count otherwise depended on the auto-renew flag)."""
    if not subscription.auto_renew:
        return None
    newest = next((c for c in contracts if c.status == "active"), None)
    if newest is None and len(contracts) == CONTRACTS_SHOWN:
        newest = (
            subscription.contracts.filter(status="active").order_by("-valid_from", "-pk").first()
        )
    deadline = subscription.cancellation_deadline
    return {
        "deadline": deadline,
        "days_left": (deadline - today).days if deadline else None,
        "price_cap": newest.price_cap_percent if newest else None,
        "contract": newest,
    }


def _term_history(subscription: Subscription) -> list[dict[str, Any]]:
    """Current term first, then every past term, each with its cost in the base currency and
    what was paid for it (amount and currency, order and fapiao numbers)."""
    paid = term_payment(subscription)
    current = {
        "term_start": subscription.term_start,
        "term_end": subscription.term_end,
        "seats": subscription.seats_purchased,
        "unit_price": subscription.unit_price,
        "currency": subscription.currency,
        "amount": subscription.annual_cost,
        "actual": paid.actual_amount_base if paid else None,
        "actual_amount": paid.actual_amount if paid else None,
        "actual_currency": paid.actual_currency if paid else "",
        "order_ref": paid.order_ref if paid else "",
        "fapiao_no": paid.fapiao_no if paid else "",
        "current": True,
    }
    # Plain SQL: the same query through the ORM took longer to build than to run.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT term_start, term_end, seats, unit_price, currency, actual_amount, "
            "rate_to_base, order_ref, actual_currency, fapiao_no FROM renewals_subscriptionterm "
            "WHERE subscription_id = %s "
            "ORDER BY term_start DESC",
            [subscription.pk],
        )
        rows = cursor.fetchall()
    past = [
        {
            "term_start": start,
            "term_end": end,
            "seats": seats,
            "unit_price": unit_price,
            "currency": currency,
            "amount": None,
            "actual": cents(actual * rate) if actual is not None else None,
            "actual_amount": actual,
            "actual_currency": actual_currency or currency,
            "current": False,
            "order_ref": order_ref,
            "fapiao_no": fapiao_no,
        }
        for (
            start, end, seats, unit_price, currency, actual, rate, order_ref, actual_currency,
            fapiao_no,
        ) in rows
    ]  # fmt: skip
    return [current, *past]


def _deadlines(subscription: Subscription, today: dt.date) -> list[dict[str, Any]]:
    dates = [("term_end", subscription.term_end)]
    if subscription.auto_renew:
        dates.append(("cancel_by", subscription.cancellation_deadline))
    return [
        {
            "label": label,
            "date": day,
            "days": (day - today).days,
            "abs_days": abs((day - today).days),
        }
        for label, day in sorted(dates, key=lambda item: item[1])
    ]


# A subscription's modules with how many active seats hold each, by name. Plain SQL: through
# the ORM (a prefetch with the count annotated) it took a millisecond more to build than to run.
_MODULES_SQL = (
    "SELECT m.*, (SELECT count(*) FROM renewals_seat_modules sm "
    "JOIN renewals_seat st ON st.id = sm.seat_id "
    "WHERE sm.module_id = m.id AND st.revoked_on IS NULL) AS holder_count "
    "FROM renewals_module m WHERE m.subscription_id = %s ORDER BY m.name, m.id"
)


@require_GET
@role_required(*DIRECTORY_ROLES)
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = subs.get_subscription_for(request.user, pk)
    today = timezone.localdate()
    # The modules with their holder counts, read once for the module table and the trend.
    modules = list(Module.objects.raw(_MODULES_SQL, [subscription.pk]))
    trend = usage.usage_trend(subscription, today=today, modules=modules)
    chart = {
        "labels": [p.month.strftime("%Y-%m") for p in next(iter(trend.values()))],
        "series": [
            # Percentages as decimal strings; the chart script parses them for drawing only.
            {
                "name": name,
                "values": [
                    str(p.utilisation) if p.utilisation is not None else None for p in points
                ],
            }
            for name, points in trend.items()
        ],
    }
    recommendations = usage.recommendations(subscription, today=today)
    # Contracts are shown through the reverse relation (renewals never imports them).
    contracts = list(subscription.contracts.order_by("-valid_from", "-pk")[:CONTRACTS_SHOWN])
    # The newest requests, with the columns the page shows (frozen evidence stays in the
    # database); the open one is the newest, read apart only if the list has none.
    renewal_requests = list(
        subscription.renewal_requests.only(
            "pk", "subscription_id", "purpose", "status", "created_at"
        )[:REQUESTS_SHOWN]
    )
    open_request = next((r for r in renewal_requests if r.status in RenewalRequest.OPEN), None)
    if open_request is None and len(renewal_requests) == REQUESTS_SHOWN:
        open_request = subscription.renewal_requests.filter(status__in=RenewalRequest.OPEN).first()
    return render(
        request,
        "renewals/inventory/subscription_detail.html",
        {
            "subscription": subscription,
            "seats": usage.seats_of(subscription, today=today),
            "modules": modules,
            "terms": _term_history(subscription),
            "trend": trend,
            "chart": chart,
            "recommendations": recommendations,
            "alerts": AlertDelivery.objects.filter(subscription=subscription)
            .select_related("recipient", "chat_channel")
            .order_by("-due_on", "kind", "threshold", "channel")[:50],
            "deadlines": _deadlines(subscription, today),
            "renewal_requests": renewal_requests,
            "open_request": open_request,
            "can_request": can_manage_department(request.user, subscription.department),
            "contracts": contracts,
            "trap": _contract_trap(subscription, contracts, today),
            "can_add_contract": has_role(request.user, Role.IT_ADMIN, Role.FINANCE),
            "total_saving": sum((r.yearly_saving or 0 for r in recommendations), start=Decimal(0)),
            "risks": _open_risks(subscription),
            "can_clean_seats": cleanup.may_decide(
                request.user,  # type: ignore[arg-type]
                subscription.department,
            ),
        },
    )


def _open_risks(subscription: Subscription) -> list[tuple[Risk, str]]:
    """The subscription's risks that are not closed, most serious first, with their titles in
    the reader's language (one query; one more when a departed holder's seat is named)."""
    risks = list(
        Risk.objects.filter(subscription=subscription)
        .exclude(status=Risk.Status.CLOSED)
        .order_by("-likelihood", "-impact", "pk")[:10]
    )
    for risk in risks:
        risk.subscription = subscription  # the page's own, with vendor and department loaded
    risk_selectors.attach_subjects(risks)
    return [(risk, risk_selectors.risk_text(risk)[0]) for risk in risks]


@require_GET
@role_required(*DIRECTORY_ROLES)
def vendor_list(request: HttpRequest) -> HttpResponse:
    vendors = subs.vendor_list(user=request.user)
    # ?q= (the global search's "see all"): vendors whose name contains the text.
    query = " ".join(request.GET.get("q", "").replace("\x00", " ").split())[:100]
    if query:
        vendors = vendors.filter(name__icontains=query)
    table = VendorTable(vendors)
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    return render(request, "renewals/inventory/vendor_list.html", {"table": table, "query": query})


@require_GET
@role_required(*DIRECTORY_ROLES)
def vendor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = get_object_or_404(subs.vendor_list(user=request.user), pk=pk)
    table = SubscriptionTable(subs.visible_subscriptions(user=request.user).filter(vendor=vendor))
    _paginate_with_figures(request, table)
    return render(
        request, "renewals/inventory/vendor_detail.html", {"vendor": vendor, "table": table}
    )


@require_GET
@role_required(*DIRECTORY_ROLES)
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(
        Person.objects.filter(department__in=visible_departments(request.user)).select_related(
            "department"
        ),
        pk=pk,
    )
    cutoff = subs.idle_cutoff()
    # Only seats of subscriptions the user may see: a person of the user's department may hold
    # seats of other departments' tools, which stay out of sight like on the API.
    seats = (
        person.seats.filter(subscription__in=subs.visible_subscriptions(user=request.user))
        .select_related("subscription", "subscription__vendor", "subscription__department")
        .prefetch_related("modules")
        .order_by("revoked_on", "subscription__ref")
    )
    return render(
        request,
        "renewals/inventory/person_detail.html",
        {
            "person": person,
            "seats": seats,
            "idle_cutoff": cutoff,
            # Said to everyone who does not see every department, whatever the person holds.
            "seats_scoped": not has_role(request.user, *SEE_ALL_ROLES),
        },
    )


@require_GET
@role_required(*DIRECTORY_ROLES)
def findings(request: HttpRequest) -> HttpResponse:
    visible = Subscription.objects.filter(department__in=visible_departments(request.user))
    underused = usage.underused_modules(visible)
    departed = list(usage.departed_holders(user=request.user))
    return render(
        request,
        "renewals/inventory/findings.html",
        {
            "departed": departed,
            # Departments whose listed seats the user may revoke or keep (bulk form).
            "clean_departments": {
                department.pk
                for department in {seat.subscription.department for seat in departed}
                if cleanup.may_decide(request.user, department)  # type: ignore[arg-type]
            },
            "underused": underused,
            "underused_total": sum((m.yearly_cost or 0 for m in underused), start=Decimal(0)),
        },
    )
