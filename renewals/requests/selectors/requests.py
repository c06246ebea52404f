"""Renewal requests as pages, the inbox, the PDF and the API read them: scoped to the user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation

from org.roles import Role, roles_of
from org.scoping import headed_departments, visible_departments
from renewals.inventory.models import Subscription
from renewals.inventory.selectors import with_figures
from renewals.requests.models.approvals import ApprovalStep, ApprovalTier
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import Purpose, RenewalRequest, money_json, term_after
from renewals.usage.selectors import recommendations, underused_modules, usage_trend

# What the list, its filters and its exports read; the rest (frozen evidence, justification,
# the requester's password hash …) stays in the database.
LIST_FIELDS = (
    "pk", "status", "purpose", "amount_base", "proposed_term_start", "created_at",
    "subscription_id", "department_id", "requested_by_id",
    "subscription__product", "subscription__vendor_id", "subscription__vendor__name",
    "department__name", "requested_by__username", "requested_by__display_name",
    "requested_by__first_name", "requested_by__last_name",
)  # fmt: skip


def request_list(*, user: Any) -> QuerySet[RenewalRequest]:
    """Requests of the departments the user may see, ready for a table (fixed query count)."""
    return (
        RenewalRequest.objects.filter(department__in=visible_departments(user))
        .select_related("subscription__vendor", "department", "requested_by")
        .only(*LIST_FIELDS)
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=ApprovalStep.objects.filter(status=ApprovalStep.Status.PENDING),
                to_attr="pending_steps",
            )
        )
    )


def readable_requests(user: Any) -> QuerySet[RenewalRequest]:
    """Requests of the departments the user may see, and the new purchases they asked for
    themselves (an employee follows their own 新购申请; nothing else of requests is theirs)."""
    own = Q(purpose=Purpose.NEW, requested_by=user) if user.is_authenticated else Q(pk__in=[])
    return RenewalRequest.objects.filter(Q(department__in=visible_departments(user)) | own)


def my_new_purchases(*, user: Any, limit: int = 20) -> list[RenewalRequest]:
    """The new purchases the user asked for, newest first ("my software" lists them)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        RenewalRequest.objects.filter(purpose=Purpose.NEW, requested_by=user)
        .select_related("subscription__vendor", "department")
        .order_by("-created_at", "-pk")[:limit]
    )


def get_request_for(user: Any, pk: int) -> RenewalRequest:
    """The request if the user may see it; 404 otherwise (never reveals that it exists)."""
    return get_object_or_404(
        readable_requests(user).select_related(
            "subscription",
            "subscription__vendor",
            "subscription__department",
            "subscription__owner",
            "department",
            "requested_by",
            "chosen_quote",
        ),
        pk=pk,
    )


# What the inbox shows (the frozen evidence and the requester's password hash stay behind).
INBOX_FIELDS = (
    "pk", "role", "status", "round", "pending_since", "request_id",
    "request__purpose", "request__amount_base", "request__status", "request__submitted_at",
    "request__subscription_id", "request__department_id", "request__requested_by_id",
    "request__subscription__product", "request__subscription__vendor_id",
    "request__subscription__vendor__name", "request__department__name",
    "request__requested_by__username", "request__requested_by__display_name",
    "request__requested_by__first_name", "request__requested_by__last_name",
)  # fmt: skip


def steps_awaiting(*, user: Any) -> QuerySet[ApprovalStep]:
    """Pending steps this user may decide: their role, their department, not their own request,
    and not a request they already signed in this round."""
    roles = roles_of(user)
    mine = Q(pk__in=[])
    if Role.DEPARTMENT_HEAD in roles:
        mine |= Q(role=Role.DEPARTMENT_HEAD, request__department__in=headed_departments(user))
    for role in (Role.FINANCE, Role.IT_ADMIN, Role.LEGAL):
        if role in roles:
            mine |= Q(role=role)
    signed_earlier = ApprovalStep.objects.filter(
        request=OuterRef("request"),
        round=OuterRef("round"),
        decided_by=user,
        status=ApprovalStep.Status.APPROVED,
    )
    return (
        ApprovalStep.objects.filter(mine, status=ApprovalStep.Status.PENDING)
        .exclude(request__requested_by=user)
        .filter(~Exists(signed_earlier))
        .select_related(
            "request__subscription__vendor", "request__department", "request__requested_by"
        )
        .only(*INBOX_FIELDS)
        .order_by("pending_since", "pk")
    )


def tier_for(amount_base: Decimal) -> ApprovalTier | None:
    """The tier whose [from, up to) range holds ``amount_base``."""
    return (
        ApprovalTier.objects.filter(min_amount__lte=amount_base)
        .filter(Q(max_amount__isnull=True) | Q(max_amount__gt=amount_base))
        .first()
    )


def usage_evidence(subscription: Subscription, *, today: dt.date | None = None) -> dict[str, Any]:
    """What the inventory says about the subscription, as JSON (frozen into a request when it is
    submitted). Recommendations are kept in every interface language, so the frozen report reads
    the same in both."""
    today = today or timezone.localdate()
    sub = (
        with_figures(Subscription.objects.filter(pk=subscription.pk), today=today)
        .select_related("vendor", "department")
        .get()
    )
    texts: dict[str, list[dict[str, Any]]] = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            texts[language] = [
                {"kind": r.kind, "text": str(r.text), "saving": money_json(r.yearly_saving)}
                for r in recommendations(sub, today=today)
            ]
    trend = usage_trend(sub, months=12, today=today)
    underused = {m.module for m in underused_modules(Subscription.objects.filter(pk=sub.pk))}
    return {
        "as_of": today.isoformat(),
        "seats_purchased": sub.seats_purchased,
        "used_seats": sub.used_seats,  # type: ignore[attr-defined]
        "free_seats": sub.free_seats,
        "idle_seats": sub.idle_seats,  # type: ignore[attr-defined]
        "departed_holders": sub.departed_holders,  # type: ignore[attr-defined]
        "active_users": sub.active_users,  # type: ignore[attr-defined]
        "usage_month": sub.usage_month.isoformat() if sub.usage_month else None,  # type: ignore[attr-defined]
        "utilisation": money_json(sub.utilisation),
        "annual_cost": money_json(sub.annual_cost),
        "monthly_cost_per_active_user": money_json(sub.monthly_cost_per_active_user),
        "recommendations": texts,
        "months": [p.month.isoformat() for p in trend[""]],
        "series": [
            {
                "name": name,
                "seats": points[-1].seats if points else None,
                "active": [p.active_users for p in points],
                "utilisation": [money_json(p.utilisation) for p in points],
                "underused": name in underused,
            }
            for name, points in trend.items()
        ],
    }


def term_payment(subscription: Subscription) -> RenewalRequest | None:
    """The executed request that paid for the subscription's current term, if any."""
    return (
        RenewalRequest.objects.filter(
            Q(executed_term_start=subscription.term_start)
            | Q(executed_term_start__isnull=True, proposed_term_start=subscription.term_start),
            subscription=subscription,
            status=RenewalRequest.Status.EXECUTED,
        )
        .order_by("-executed_at")
        .first()
    )


@dataclass(frozen=True)
class QuoteRow:
    """A quote on the comparison scale, with the marks the page and the PDF show."""

    quote: Quote
    seat_year: Decimal
    total_1y: Decimal
    total_3y: Decimal
    per_active_user: Decimal | None
    cheapest: bool
    best_value: bool
    chosen: bool


def quote_comparison(request: RenewalRequest, quotes: list[Quote]) -> list[QuoteRow]:
    """Quotes side by side in the base currency; the cheapest over 3 years and the best value
    per active user are marked (ties mark every quote that ties)."""
    active = request.evidence.get("active_users") if request.evidence else None
    rows = [(q, q.total_3y_base, q.yearly_per_active_user(active)) for q in quotes]
    cheapest = min((total for _q, total, _v in rows), default=None)
    best = min((v for _q, _t, v in rows if v is not None), default=None)
    return [
        QuoteRow(
            quote=q,
            seat_year=q.seat_year_base,
            total_1y=q.total_1y_base,
            total_3y=total,
            per_active_user=value,
            cheapest=len(rows) > 1 and total == cheapest,
            best_value=len(rows) > 1 and value is not None and value == best,
            chosen=q.pk == request.chosen_quote_id,
        )
        for q, total, value in rows
    ]


def execution_initial(request: RenewalRequest) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What the execution form starts from: the chosen quote (edition, seats, price, currency,
    cycle, its modules, its term after the current term's end, its amount and rate), so that
    saving it unchanged records what was approved. Without a quote: the proposal and today's
    subscription. Returns the form's initial values and the module rows'."""
    subscription = request.subscription
    quote = request.chosen_quote
    if quote is None:
        current = {m.name: m for m in subscription.modules.all()}
        return {
            "actual_amount": request.amount,
            "actual_currency": request.currency,
            "term_start": request.proposed_term_start,
            "term_end": request.proposed_term_end,
            "seats": request.proposed_seats,
            "edition": request.proposed_edition or subscription.edition,
            "unit_price": subscription.unit_price,
            "currency": subscription.currency,
            "billing_cycle": subscription.billing_cycle,
        }, [
            {"name": name, "seats": getattr(current.get(name), "licensed_seats", None) or None}
            for name in request.proposed_modules
        ]
    start, end = term_after(subscription.term_end, quote.term_months)
    if request.purpose == Purpose.NEW:  # a first term: from the wished start
        start, end = term_after(
            request.proposed_term_start - dt.timedelta(days=1), quote.term_months
        )
    same_product = (quote.vendor_name, quote.product) == (
        subscription.vendor.name,
        subscription.product,
    )
    edition = quote.edition or (
        (request.proposed_edition or subscription.edition) if same_product else ""
    )
    initial = {
        "actual_amount": quote.term_amount,
        "actual_currency": quote.currency,
        "term_start": start,
        "term_end": end,
        "seats": quote.seats,
        "edition": edition,
        "unit_price": quote.unit_price,
        "currency": quote.currency,
        "billing_cycle": quote.billing_cycle,
    }
    rows = [
        {"name": m.name, "unit_price": m.unit_price, "seats": m.seats} for m in quote.modules.all()
    ]
    if not rows:
        # A quote listing no modules (one from before quotes had them): the proposal's modules
        # at today's prices, converted at execution when the currency changes.
        current = {m.name: m for m in subscription.modules.all()}
        rows = [
            {"name": name, "seats": getattr(current.get(name), "licensed_seats", None) or None}
            for name in request.proposed_modules
        ]
    return initial, rows


def quote_module_rows(request: RenewalRequest, quote: Quote | None) -> list[dict[str, Any]]:
    """The module rows a quote form starts with: the quote's own; for a new quote the
    subscription's priced modules without a price (saved at today's price, converted)."""
    if quote is not None:
        return [
            {"name": m.name, "unit_price": m.unit_price, "seats": m.seats}
            for m in quote.modules.all()
        ]
    return [
        {"name": m.name, "seats": m.licensed_seats}
        for m in request.subscription.modules.exclude(licensed_seats=0).filter(
            unit_price__isnull=False
        )
    ]
