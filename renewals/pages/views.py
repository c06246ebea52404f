"""The pages that compose every feature, above them all: a subscription's page (seats, usage,
terms, alerts, requests, contracts, risks, seats to clean), a person's seats, the findings
(departed holders, under-used modules, overlapping tools), and my software: the seats a signed-in user holds,
whom to contact about each tool, and how to ask for a change (a suggestion, a seat returned,
a new tool)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from org.models import Person
from org.permissions import role_required, signed_in_user
from org.roles import DIRECTORY_ROLES, SEE_ALL_ROLES, Role, has_role
from org.scoping import can_manage_department, visible_departments
from renewals.alerts.models import AlertDelivery
from renewals.cleanup import policy as cleanup
from renewals.execution.services import may_archive
from renewals.inventory import overlap
from renewals.inventory import selectors as subs
from renewals.inventory.models import LIVE_STATUSES, Subscription
from renewals.inventory.policy import editable_fields
from renewals.pages import selectors
from renewals.requests.models.requests import RenewalRequest
from renewals.requests.selectors.requests import (
    get_request_for,
    my_new_purchases,
    term_payment,
)
from renewals.requests.services.intake import intake_departments
from renewals.risks import selectors as risk_selectors
from renewals.risks.models import Risk
from renewals.seats import selectors as seat_requests
from renewals.seats.services import seat_request_instead_of_purchase
from renewals.usage import reclaim
from renewals.usage import selectors as usage

CONTRACTS_SHOWN = 10
REQUESTS_SHOWN = 10


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
    return [current, *subs.past_terms(subscription)]


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


@require_GET
@role_required(*DIRECTORY_ROLES)
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = subs.get_subscription_for(request.user, pk)
    today = timezone.localdate()
    # The modules with their holder counts, read once for the module table and the trend.
    modules = subs.modules_with_holders(subscription)
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
        "renewals/pages/subscription_detail.html",
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
            "can_edit": bool(editable_fields(request.user, subscription)),
            "can_archive": subscription.archived_at is None and may_archive(request.user),
            "contracts": contracts,
            "trap": _contract_trap(subscription, contracts, today),
            "can_add_contract": has_role(request.user, Role.IT_ADMIN, Role.FINANCE),
            "total_saving": sum((r.yearly_saving or 0 for r in recommendations), start=Decimal(0)),
            "risks": _open_risks(subscription),
            "can_clean_seats": cleanup.may_decide(
                request.user,  # type: ignore[arg-type]
                subscription.department,
            ),
            "seat_ask": seat_requests.ask_state(user=request.user, subscription=subscription),
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
        "renewals/pages/person_detail.html",
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
    overlaps = overlap.overlaps_for(user=request.user)
    return render(
        request,
        "renewals/pages/findings.html",
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
            "category_overlaps": [g for g in overlaps if g.kind == overlap.Kind.CATEGORY],
            "duplicates": [g for g in overlaps if g.kind == overlap.Kind.DUPLICATE],
            "overlap_total": overlap.total_saving(overlaps),
            # Accounts in the tools that match nobody (usage connectors): IT maps or revokes them.
            "unknown_accounts": reclaim.unknown_accounts(visible),
            "may_open_connectors": has_role(request.user, Role.IT_ADMIN, Role.AUDITOR),
        },
    )


@require_GET
@login_required
def my_software(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "renewals/pages/my_software.html",
        {
            "mine": selectors.my_software(user=request.user),
            "may_open_subscriptions": has_role(request.user, *DIRECTORY_ROLES),
            # New-purchase intake: the link and the requests the user asked for.
            "may_ask_new": intake_departments(signed_in_user(request)).exists(),
            "new_purchases": my_new_purchases(user=request.user),
            "seat_ask": seat_requests.ask_panel(user=request.user),
        },
    )


# New-purchase intake (renewals.requests.views.intake): "join that subscription instead" turns
# the request into seat requests (renewals.seats, a level above requests), so it is composed here.
@require_POST
@login_required
def new_purchase_join(request: HttpRequest, pk: int, subscription_pk: int) -> HttpResponse:
    """Turn the new purchase into seat requests on a live subscription of the same product."""
    renewal = get_request_for(request.user, pk)
    subscription = get_object_or_404(
        Subscription.objects.filter(status__in=LIVE_STATUSES, archived_at__isnull=True),
        pk=subscription_pk,
    )
    try:
        created = seat_request_instead_of_purchase(
            user=signed_in_user(request), request=renewal, subscription=subscription
        )
    except ValidationError as exc:
        messages.error(request, " ".join(str(m) for m in exc.messages))
    else:
        messages.success(
            request,
            _(
                "Asked for %(count)d seat(s) of %(subscription)s; the new purchase is cancelled. "
                "The department's software admin will answer."
            )
            % {"count": len(created), "subscription": subscription.display_name},
        )
    return redirect(renewal)
