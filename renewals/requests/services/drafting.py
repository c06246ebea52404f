"""Drafting a renewal request: open it, change what it proposes, add and choose quotes, assess it,
cancel it. A change to a request under approval re-routes it (deciding.route): the earlier
approvals were given to something else.

Races are closed in the database: each action locks the request row (SELECT … FOR UPDATE) and
re-reads its state under the lock (see renewals.requests.services).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from budgets import services as budgets
from budgets.money import cents
from org.models import Person, User
from org.scoping import can_manage_department
from renewals.inventory.models import Subscription
from renewals.inventory.services import ModuleLine
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.quotes import Quote, QuoteModule
from renewals.requests.models.requests import (
    Assessment,
    Purpose,
    RenewalRequest,
    RequestEvent,
    default_new_term,
    term_months,
)
from renewals.requests.policy import may_change, perspectives_for
from renewals.requests.services.common import (
    archive_proposed,
    locked,
    notify_on_commit,
    record_event,
)
from renewals.requests.services.deciding import route
from renewals.requests.services.intake import resolve_people
from renewals.requests.services.pricing import (
    RATE_FIELDS,
    conversion,
    periods_per_year,
    quote_rate,
    subscription_periods,
)

S = RenewalRequest.Status
STEP = ApprovalStep.Status

# What a request's fields may be set to through request_update (anything else is ignored:
# status, amounts, department and approvers are never mass-assigned).
EDITABLE_FIELDS = (
    "purpose",
    "justification",
    "proposed_seats",
    "proposed_modules",
    "proposed_edition",
    "proposed_term_start",
    "proposed_term_end",
)


QUOTE_FIELDS = (
    "vendor_name",
    "product",
    "edition",
    "seats",
    "unit_price",
    "currency",
    "billing_cycle",
    "term_months",
    "discount_percent",
    "one_off_fees",
    "price_increase_cap_percent",
    "notes",
)


def _require_change(user: User, request: RenewalRequest) -> None:
    if not may_change(user, request):
        raise PermissionDenied
    if request.status not in RenewalRequest.EDITABLE:
        raise ValidationError(_("This request can no longer be changed."))


@transaction.atomic
def request_create(
    *,
    subscription: Subscription,
    user: User,
    purpose: str = Purpose.KEEP,
    justification: str = "",
) -> RenewalRequest:
    """Open a draft for the subscription's next term, with the incumbent's quote filled in."""
    if not can_manage_department(user, subscription.department):
        raise PermissionDenied
    if purpose == Purpose.NEW:
        raise ValidationError(_("A new purchase is asked for through the new-purchase form."))
    # Lock the subscription so two people opening a request at once cannot both succeed.
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.status == Subscription.Status.CANCELLED:
        raise ValidationError(_("This subscription is cancelled."))
    if subscription.status == Subscription.Status.PROPOSED:
        raise ValidationError(_("This tool is not bought yet: its new-purchase request is open."))
    if subscription.renewal_requests.filter(status__in=RenewalRequest.OPEN).exists():
        raise ValidationError(_("This subscription already has a renewal request under way."))
    start, end = default_new_term(subscription.term_start, subscription.term_end)
    request = RenewalRequest(
        subscription=subscription,
        department_id=subscription.department_id,
        requested_by=user,
        purpose=purpose,
        justification=justification,
        proposed_seats=subscription.seats_purchased,
        proposed_modules=list(subscription.modules.values_list("name", flat=True)),
        proposed_edition=subscription.edition,
        proposed_term_start=start,
        proposed_term_end=end,
        currency=subscription.currency,
    )
    request.full_clean()
    request.save()
    incumbent = Quote(
        request=request,
        vendor_name=subscription.vendor.name,
        product=subscription.product,
        edition=subscription.edition,
        is_incumbent=True,
        seats=subscription.seats_purchased,
        unit_price=subscription.unit_price,
        currency=subscription.currency,
        billing_cycle=subscription.billing_cycle,
        term_months=term_months(start, end),
        notes=_("Current price, from the inventory."),
    )
    quote_rate(incumbent, lock=True)  # refused (nothing written) when the table has no rate for it
    incumbent.full_clean()
    incumbent.save()
    # Like for like: the incumbent's quote includes the modules the subscription pays for.
    QuoteModule.objects.bulk_create(
        QuoteModule(
            quote=incumbent,
            name=m.name,
            unit_price=m.unit_price or Decimal(0),
            seats=m.licensed_seats,
        )  # fmt: skip
        for m in subscription.modules.exclude(licensed_seats=0).filter(unit_price__isnull=False)
    )
    request.chosen_quote = incumbent
    request.save(update_fields=["chosen_quote"])
    record_event(request, user, RequestEvent.Kind.CREATED)
    return request


@transaction.atomic
def request_update(*, request: RenewalRequest, user: User, data: dict[str, Any]) -> RenewalRequest:
    """Change what the request proposes; during approval the change re-routes it (the earlier
    approvals were given to something else)."""
    request = locked(request)
    _require_change(user, request)
    changed = [f for f in EDITABLE_FIELDS if f in data and getattr(request, f) != data[f]]
    people = _people_change(request, data)
    if not changed and people is None:
        return request
    if "purpose" in changed and Purpose.NEW in (request.purpose, data["purpose"]):
        raise ValidationError(_("A new purchase stays a new purchase (and a renewal a renewal)."))
    for field in changed:
        setattr(request, field, data[field])
    request.full_clean(exclude=["chosen_quote"])
    request.save()
    if people is not None:
        if len(people) > request.proposed_seats:
            raise ValidationError(
                _("%(people)d people are named for %(seats)d seats: ask for more seats or name "
                  "fewer.") % {"people": len(people), "seats": request.proposed_seats}
            )  # fmt: skip
        request.proposed_people.set(people)
        changed.append("proposed_people")
    record_event(request, user, RequestEvent.Kind.EDITED, ", ".join(changed))
    if request.status in RenewalRequest.DECIDING:
        route(request, user, rerouted=True)
    return request


def _people_change(request: RenewalRequest, data: dict[str, Any]) -> list[Person] | None:
    """Who a new purchase gives seats to, when ``data["people"]`` (employee numbers or e-mails)
    names others than today's; None: unchanged (or not a new purchase)."""
    if request.purpose != Purpose.NEW or "people" not in data:
        return None
    people = resolve_people(data["people"])
    current = set(request.proposed_people.values_list("pk", flat=True))
    return None if {p.pk for p in people} == current else people


@transaction.atomic
def quote_save(
    *,
    request: RenewalRequest,
    user: User,
    data: dict[str, Any],
    quote: Quote | None = None,
    modules: list[ModuleLine] | None = None,
) -> Quote:
    """Add or change a quote; changing the chosen one during approval re-routes the request.
    ``modules`` (None: unchanged) replaces the quote's modules; a module without a price is
    priced as the subscription pays for it today, converted with the recorded rates."""
    request = locked(request)
    _require_change(user, request)
    if quote is None:
        quote = Quote(request=request)
    elif quote.request_id != request.pk:
        raise PermissionDenied
    # The rate is not among QUOTE_FIELDS: whatever rate ``data`` carries is ignored.
    before = {f: getattr(quote, f) for f in (*QUOTE_FIELDS, *RATE_FIELDS)}
    for field in QUOTE_FIELDS:
        if field in data:
            setattr(quote, field, data[field])
    quote_rate(quote, lock=True)
    quote.full_clean()
    changed = quote.pk is None or any(getattr(quote, f) != v for f, v in before.items())
    quote.save()
    if modules is not None:
        changed = _quote_modules_save(request, quote, modules) or changed
    if request.chosen_quote_id is None:
        request.chosen_quote = quote
        request.save(update_fields=["chosen_quote", "updated_at"])
    if changed:
        record_event(request, user, RequestEvent.Kind.QUOTE, str(quote))
        if request.chosen_quote_id == quote.pk and request.status in RenewalRequest.DECIDING:
            route(request, user, rerouted=True)
    return quote


def _quote_modules_save(request: RenewalRequest, quote: Quote, lines: list[ModuleLine]) -> bool:
    """Replace the quote's modules; True when they changed. The caller's transaction undoes
    everything when one is refused."""
    subscription = request.subscription
    current = {m.name: m for m in subscription.modules.all()}
    wanted: list[QuoteModule] = []
    for line in lines:
        price = line.unit_price
        if price is None:
            today = current.get(line.name)
            if today is None or today.unit_price is None:
                raise ValidationError(
                    _("Enter the price of the module %(name)s (0 when it is included).")
                    % {"name": line.name}
                )
            # Today's price per the subscription's period, in the quote's currency and period.
            factor = conversion(subscription.currency, quote.currency, quote)
            factor *= subscription_periods(subscription) / periods_per_year(
                quote.billing_cycle, months=quote.term_months
            )
            price = cents(today.unit_price * factor)
        wanted.append(QuoteModule(quote=quote, name=line.name, unit_price=price, seats=line.seats))
    before = sorted((m.name, m.unit_price, m.seats) for m in quote.modules.all())
    after = sorted((m.name, m.unit_price, m.seats) for m in wanted)
    if before == after:
        return False
    quote.modules.all().delete()
    for row in wanted:
        row.full_clean(exclude=["quote"])
    QuoteModule.objects.bulk_create(wanted)
    return True


def _locked_with_quote(request: RenewalRequest, user: User, quote: Quote) -> RenewalRequest:
    """The request locked for a change of one of its own quotes."""
    request = locked(request)
    _require_change(user, request)
    if quote.request_id != request.pk:
        raise PermissionDenied
    return request


@transaction.atomic
def quote_delete(*, request: RenewalRequest, user: User, quote: Quote) -> None:
    request = _locked_with_quote(request, user, quote)
    if quote.pk == request.chosen_quote_id and request.status in RenewalRequest.DECIDING:
        raise ValidationError(_("Choose another quote before deleting the one under approval."))
    quote.delete()
    record_event(request, user, RequestEvent.Kind.QUOTE, str(quote))


@transaction.atomic
def quote_choose(*, request: RenewalRequest, user: User, quote: Quote) -> RenewalRequest:
    request = _locked_with_quote(request, user, quote)
    if request.chosen_quote_id == quote.pk:
        return request
    request.chosen_quote = quote
    request.save(update_fields=["chosen_quote", "updated_at"])
    record_event(request, user, RequestEvent.Kind.QUOTE, _("Chose %(quote)s") % {"quote": quote})
    if request.status in RenewalRequest.DECIDING:
        route(request, user, rerouted=True)
    return request


@transaction.atomic
def assessment_add(
    *, request: RenewalRequest, user: User, perspective: str, recommendation: str, comment: str
) -> Assessment:
    """IT, finance and the project-management side each say what they recommend."""
    request = locked(request)
    if perspective not in perspectives_for(user, request):
        raise PermissionDenied
    if request.status in (S.EXECUTED, S.CANCELLED, S.REJECTED):
        raise ValidationError(_("This request is closed."))
    assessment = Assessment(
        request=request,
        author=user,
        perspective=perspective,
        recommendation=recommendation,
        comment=comment,
    )
    assessment.full_clean()
    assessment.save()
    record_event(request, user, RequestEvent.Kind.ASSESSED, assessment.get_perspective_display())
    return assessment


@transaction.atomic
def request_cancel(*, request: RenewalRequest, user: User, reason: str) -> RenewalRequest:
    """Withdraw a request that is still open; budget it committed is released."""
    request = locked(request)
    if not may_change(user, request):
        raise PermissionDenied
    if request.status not in RenewalRequest.OPEN:
        raise ValidationError(_("This request is already closed."))
    if not reason.strip():
        raise ValidationError(_("Say why the request is cancelled."))
    was_approved = request.status == S.APPROVED
    request.steps.filter(status__in=[STEP.PENDING, STEP.WAITING]).update(status=STEP.SUPERSEDED)
    request.status, request.decided_at = S.CANCELLED, timezone.now()
    request.save(update_fields=["status", "decided_at", "updated_at"])
    if was_approved and request.amount_base:
        budgets.budget_release(
            department=request.department,
            year=request.budget_year,
            reference=request.budget_reference,
            user=user,
            memo=_("Renewal request #%(pk)s cancelled: %(reason)s")
            % {"pk": request.pk, "reason": reason.strip()[:200]},
        )
    if was_approved and request.purpose == Purpose.CANCEL:
        Subscription.objects.filter(pk=request.subscription_id).update(ends_at_term_end=False)
    archive_proposed(request)
    record_event(request, user, RequestEvent.Kind.CANCELLED, reason.strip())
    notify_on_commit(request, "cancelled", user)
    return request
