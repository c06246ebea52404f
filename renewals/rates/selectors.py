"""The exchange-rates page: rates per currency, latest first, with who recorded each (from the
audit trail) and whether a quote or request records it."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils import timezone

from org.models import User
from renewals.inventory.models import CurrencyRate
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest

PAGE_SIZE = 50


def with_usage(rates: QuerySet[CurrencyRate]) -> QuerySet[CurrencyRate]:
    """Rates annotated with ``in_use`` (two EXISTS subqueries, no query per row)."""
    match = {"currency": OuterRef("currency"), "rate_valid_from": OuterRef("valid_from")}
    return rates.annotate(
        in_use=Exists(Quote.objects.filter(**match))
        | Exists(RenewalRequest.objects.filter(**match))
    )


def currencies() -> list[str]:
    return list(
        CurrencyRate.objects.order_by("currency").values_list("currency", flat=True).distinct()
    )


def in_force_ids() -> set[int]:
    """The ids of the rates in force today (the latest on or before today, per currency)."""
    today = timezone.localdate()
    latest = (
        CurrencyRate.objects.filter(valid_from__lte=today)
        .values("currency")
        .annotate(day=Max("valid_from"))
    )
    pairs = {(row["currency"], row["day"]) for row in latest}
    if not pairs:
        return set()
    rows = CurrencyRate.objects.filter(
        currency__in={c for c, _ in pairs}, valid_from__in={d for _, d in pairs}
    ).values_list("pk", "currency", "valid_from")
    return {pk for pk, currency, day in rows if (currency, day) in pairs}


def rates_page(*, currency: str | None, page_number: str | None) -> Page[CurrencyRate]:
    """One page of rates (of one currency, or of all), latest first within each currency; each
    with ``in_use`` and ``recorded_by`` / ``recorded_at`` (one query for the page's events)."""
    rates: QuerySet[CurrencyRate] = with_usage(CurrencyRate.objects.all()).order_by(
        "currency", "-valid_from"
    )
    if currency:
        rates = rates.filter(currency=currency)
    page = Paginator(rates, PAGE_SIZE).get_page(page_number)
    _attach_recorders(list(page.object_list))
    return page


def _attach_recorders(rates: list[CurrencyRate]) -> None:
    """Who recorded each rate and when: its insert event in the audit trail (pghistory), with
    the user the request's context names; None when the row came in another way (a migration,
    the demo, a shell) or the trail has no context."""
    events = CurrencyRate.audit_events.rel.related_model.objects.filter(  # type: ignore[attr-defined]
        pgh_obj__in=[r.pk for r in rates], pgh_label="insert"
    ).select_related("pgh_context")
    found = {}
    for event in events:
        metadata = event.pgh_context.metadata if event.pgh_context else {}
        found[event.pgh_obj_id] = (metadata.get("user"), event.pgh_created_at)
    users = User.objects.in_bulk([u for u, _ in found.values() if isinstance(u, int)])
    for rate in rates:
        user_id, when = found.get(rate.pk, (None, None))
        rate.recorded_by = users.get(user_id) if user_id is not None else None  # type: ignore[attr-defined]
        rate.recorded_at = when  # type: ignore[attr-defined]
