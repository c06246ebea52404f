"""Every write of the renewal loop: open, change, quote, submit, decide, cancel, execute.

Races are closed in the database: each action locks the request row (SELECT … FOR UPDATE) and
re-reads its state under the lock, so a second click, a racing approver or a retried call sees
the first one's result and is told "already decided". The final approval commits the budget and
execution books the actual in the same transaction as the status change (budgets.services lock
the budget row, so two requests cannot both take the last money). Notices go out from django-q2
tasks queued on commit: a failed e-mail never undoes a decision, a rolled-back decision sends
nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from budgets import services as budgets
from budgets.money import cents
from org.models import Department, User
from org.roles import Role, has_role
from org.scoping import can_manage_department, headed_departments
from renewals.alerts.models import AlertDelivery
from renewals.inventory.models import CurrencyRate, Subscription, Vendor
from renewals.inventory.money import rate_row
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
from renewals.requests.selectors.requests import tier_for, usage_evidence
from renewals.requests.services.execution import (
    ModuleLine,
    archive_term,
    conversion,
    periods_per_year,
    recorded_rate,
    set_modules,
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


def quote_rate(quote: Quote, *, on: dt.date | None = None, lock: bool = False) -> None:
    """Set the quote's rate from the rates table (kept by finance): 1 for the base currency,
    else the table's latest rate of its currency on ``on`` (today) and that row's date. Never
    from the requester (a form, the API or a script): with no recorded rate the quote is refused
    (translated) and the caller's transaction writes nothing. With ``lock`` (inside the saving
    transaction) the rate's row stays locked until the quote commits (see _locked_rate_row)."""
    if quote.currency == settings.BASE_CURRENCY:
        quote.rate_to_base, quote.rate_valid_from = Decimal(1), None
        return
    row = _locked_rate_row(quote.currency, on) if lock else rate_row(quote.currency, on)
    if row is None:
        raise ValidationError(
            _(
                "No exchange rate for %(currency)s is recorded in the rates table, so the quote "
                "cannot be converted to %(base)s. Finance must add the rate first."
            )
            % {"currency": quote.currency, "base": settings.BASE_CURRENCY},
            code="no_rate",
        )
    quote.rate_to_base, quote.rate_valid_from = row.rate_to_base, row.valid_from


def _locked_rate_row(currency: str, on: dt.date | None) -> CurrencyRate | None:
    """The rate in force, its row locked FOR NO KEY UPDATE. Race: finance correcting or deleting
    the rate (renewals.rates.services locks it FOR UPDATE, then checks no quote records it) while a quote
    takes it; whoever locks second sees the other's committed work. A row changed or deleted
    while we waited is looked up again."""
    for _attempt in range(3):
        row = rate_row(currency, on)
        if row is None:
            return None
        same = {"currency": row.currency, "valid_from": row.valid_from}
        locked = (
            CurrencyRate.objects.select_for_update(no_key=True)
            .filter(pk=row.pk, rate_to_base=row.rate_to_base, **same)
            .first()
        )
        if locked is not None:
            return locked
    return None


# Set by quote_rate from the rates table, never from what a caller sends.
RATE_FIELDS = ("rate_to_base", "rate_valid_from")


class DecisionRefused(ValidationError):
    """A decision that may not be taken; ``code`` says why (already_decided, own_request,
    not_your_step, signed_earlier, budget, comment_required)."""


def _event(request: RenewalRequest, user: User | None, kind: str, note: str = "") -> None:
    RequestEvent.objects.create(request=request, actor=user, kind=kind, note=note)


def _locked(request: RenewalRequest) -> RenewalRequest:
    return RenewalRequest.objects.select_for_update().get(pk=request.pk)


def _notify_on_commit(
    request: RenewalRequest,
    event: str,
    actor: User | None,
    *,
    step: ApprovalStep | None = None,
    awaiting: ApprovalStep | None = None,
) -> None:
    """Queue the notices of ``event`` once it has committed. The task carries the round, the
    step the event was about and the step it opened: it must not work out "the current step"
    when it runs, which may be a later event's (that event's own task tells its approvers)."""
    args = (
        request.pk,
        event,
        actor.pk if actor else None,
        request.round,
        step.pk if step else None,
        awaiting.pk if awaiting else None,
    )
    transaction.on_commit(
        lambda: async_task(
            "renewals.tasks.request_notify", *args, task_name=f"request-{args[0]}-{event}"
        )
    )


def may_change(user: User, request: RenewalRequest) -> bool:
    """Who may change, submit or cancel a request: its requester and IT admins (an approver
    decides on someone else's proposal, never edits or withdraws it)."""
    return request.requested_by_id == user.pk or has_role(user, Role.IT_ADMIN)


def _require_change(user: User, request: RenewalRequest) -> None:
    if not may_change(user, request):
        raise PermissionDenied
    if request.status not in RenewalRequest.EDITABLE:
        raise ValidationError(_("This request can no longer be changed."))


# --- Opening and editing ---------------------------------------------------------------------


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
    # Lock the subscription so two people opening a request at once cannot both succeed.
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.status == Subscription.Status.CANCELLED:
        raise ValidationError(_("This subscription is cancelled."))
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
    _event(request, user, RequestEvent.Kind.CREATED)
    return request


@transaction.atomic
def request_update(*, request: RenewalRequest, user: User, data: dict[str, Any]) -> RenewalRequest:
    """Change what the request proposes; during approval the change re-routes it (the earlier
    approvals were given to something else)."""
    request = _locked(request)
    _require_change(user, request)
    changed = [f for f in EDITABLE_FIELDS if f in data and getattr(request, f) != data[f]]
    if not changed:
        return request
    for field in changed:
        setattr(request, field, data[field])
    request.full_clean(exclude=["chosen_quote"])
    request.save()
    _event(request, user, RequestEvent.Kind.EDITED, ", ".join(changed))
    if request.status in RenewalRequest.DECIDING:
        _route(request, user, rerouted=True)
    return request


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
    request = _locked(request)
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
        _event(request, user, RequestEvent.Kind.QUOTE, str(quote))
        if request.chosen_quote_id == quote.pk and request.status in RenewalRequest.DECIDING:
            _route(request, user, rerouted=True)
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
    request = _locked(request)
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
    _event(request, user, RequestEvent.Kind.QUOTE, str(quote))


@transaction.atomic
def quote_choose(*, request: RenewalRequest, user: User, quote: Quote) -> RenewalRequest:
    request = _locked_with_quote(request, user, quote)
    if request.chosen_quote_id == quote.pk:
        return request
    request.chosen_quote = quote
    request.save(update_fields=["chosen_quote", "updated_at"])
    _event(request, user, RequestEvent.Kind.QUOTE, _("Chose %(quote)s") % {"quote": quote})
    if request.status in RenewalRequest.DECIDING:
        _route(request, user, rerouted=True)
    return request


@transaction.atomic
def assessment_add(
    *, request: RenewalRequest, user: User, perspective: str, recommendation: str, comment: str
) -> Assessment:
    """IT, finance and the project-management side each say what they recommend."""
    request = _locked(request)
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
    _event(request, user, RequestEvent.Kind.ASSESSED, assessment.get_perspective_display())
    return assessment


def perspectives_for(user: User, request: RenewalRequest) -> list[str]:
    """The sides a user may assess from: IT admins for IT, finance for finance, the department's
    heads and software admins (and IT admins) for project management."""
    result: list[str] = []
    if has_role(user, Role.IT_ADMIN):
        result.append(Assessment.Perspective.IT)
    if has_role(user, Role.FINANCE):
        result.append(Assessment.Perspective.FINANCE)
    if can_manage_department(user, request.department):
        result.append(Assessment.Perspective.PROJECT)
    return result


# --- Submission and routing ------------------------------------------------------------------


@transaction.atomic
def request_submit(
    *, request: RenewalRequest, user: User, today: dt.date | None = None
) -> RenewalRequest:
    """Freeze the evidence and the amount in the base currency, and create the approval steps
    of the tier that amount falls in."""
    request = _locked(request)
    if not may_change(user, request):
        raise PermissionDenied
    if request.status not in (S.DRAFT, S.RETURNED):
        raise ValidationError(_("Only a draft or a returned request can be submitted."))
    _route(request, user, today=today)
    return request


def _freeze(request: RenewalRequest, today: dt.date | None) -> None:
    if request.purpose == Purpose.CANCEL:
        request.amount, request.amount_base = Decimal("0.00"), Decimal("0.00")
        request.currency, request.rate_to_base = settings.BASE_CURRENCY, Decimal(1)
        request.rate_valid_from = None
    else:
        quote = request.chosen_quote
        if quote is None:
            raise ValidationError(_("Choose the quote to approve first."))
        # Today's rate from the table (recorded on the quote), and the quote's cost over the
        # proposed term: tiers and the budget see the whole term, converted.
        before = (quote.rate_to_base, quote.rate_valid_from)
        quote_rate(quote, on=today, lock=True)
        if (quote.rate_to_base, quote.rate_valid_from) != before:
            quote.save(update_fields=list(RATE_FIELDS))
        months = term_months(request.proposed_term_start, request.proposed_term_end)
        request.amount, request.currency = quote.amount_over(months), quote.currency
        request.rate_to_base, request.rate_valid_from = quote.rate_to_base, quote.rate_valid_from
        request.amount_base = cents(request.amount * quote.rate_to_base)
    request.fiscal_year = request.proposed_term_start.year
    request.evidence = usage_evidence(request.subscription, today=today)


def _route(
    request: RenewalRequest, user: User, *, rerouted: bool = False, today: dt.date | None = None
) -> None:
    """(Re-)submit: supersede the current round's steps, freeze, create the new round's steps.
    The caller holds the request's lock."""
    request.steps.filter(round=request.round).exclude(
        status__in=[STEP.REJECTED, STEP.RETURNED]
    ).update(status=STEP.SUPERSEDED)
    _freeze(request, today)
    assert request.amount_base is not None
    tier = tier_for(request.amount_base)
    if tier is None:
        raise ValidationError(
            _("No approval tier covers %(amount)s %(currency)s; finance must configure the tiers.")
            % {"amount": request.amount_base, "currency": settings.BASE_CURRENCY}
        )
    roles: list[tuple[str, bool]] = [(role, False) for role in tier.roles]
    fit = budgets.Fit.FITS
    if request.amount_base > 0:
        fit = budgets.budget_check(
            department=request.department, amount=request.amount_base, year=request.budget_year
        )
    request.budget_fit = fit.value
    if fit != budgets.Fit.FITS:
        if settings.APPROVAL_OVER_BUDGET == "refuse":
            raise ValidationError(
                _(
                    "The amount does not fit the department's %(year)s budget; finance must add "
                    "budget before this request can be submitted."
                )
                % {"year": request.fiscal_year}
            )
        if Role.FINANCE not in tier.roles:
            roles.append((Role.FINANCE, True))
    request.round += 1
    request.status = S.SUBMITTED
    request.submitted_at = timezone.now()
    request.decided_at = None
    request.full_clean(exclude=["chosen_quote"])
    request.save()
    steps = ApprovalStep.objects.bulk_create(
        ApprovalStep(
            request=request,
            round=request.round,
            position=position,
            role=role,
            over_budget=over_budget,
            status=STEP.PENDING if position == 1 else STEP.WAITING,
            pending_since=request.submitted_at if position == 1 else None,
        )
        for position, (role, over_budget) in enumerate(roles, start=1)
    )
    kind = RequestEvent.Kind.REROUTED if rerouted else RequestEvent.Kind.SUBMITTED
    _event(request, user, kind)
    _notify_on_commit(request, "submitted", user, step=steps[0], awaiting=steps[0])


# --- Decisions -------------------------------------------------------------------------------


def holds_step_role(user: User, role: str, department: Department) -> bool:
    """Whether ``user`` may sign a step of ``role`` for ``department`` (heads: their own
    departments and those below; finance and IT admins: every department)."""
    if role == Role.DEPARTMENT_HEAD:
        return headed_departments(user).filter(pk=department.pk).exists()
    return has_role(user, role)


@transaction.atomic
def step_decide(
    *,
    request: RenewalRequest,
    user: User,
    decision: str,
    comment: str = "",
    step_id: int | None = None,
) -> ApprovalStep:
    """Approve, reject or return the request's pending step. ``step_id`` (what the approver
    saw) makes a stale click fail instead of deciding the next step."""
    request = _locked(request)  # the race between approvers ends here
    step = request.steps.filter(status=STEP.PENDING).first()
    if (
        request.status not in RenewalRequest.DECIDING
        or step is None
        or (step_id is not None and step.pk != step_id)
    ):
        raise DecisionRefused(_("This step was already decided."), code="already_decided")
    if request.requested_by_id == user.pk:
        raise DecisionRefused(_("You cannot decide on your own request."), code="own_request")
    if not holds_step_role(user, step.role, request.department):
        raise DecisionRefused(
            _("This step is for %(role)s of the department.") % {"role": step.get_role_display()},
            code="not_your_step",
        )
    if request.steps.filter(round=request.round, decided_by=user, status=STEP.APPROVED).exists():
        raise DecisionRefused(
            _("You already signed an earlier step of this request; another person must sign."),
            code="signed_earlier",
        )
    comment = comment.strip()
    if decision != ApprovalStep.Decision.APPROVE and not comment:
        raise DecisionRefused(
            _("Say why in the comment when you reject or return a request."),
            code="comment_required",
        )
    now = timezone.now()
    step.status = {
        ApprovalStep.Decision.APPROVE: STEP.APPROVED,
        ApprovalStep.Decision.REJECT: STEP.REJECTED,
        ApprovalStep.Decision.RETURN: STEP.RETURNED,
    }[ApprovalStep.Decision(decision)]
    step.decided_by, step.decided_at, step.comment = user, now, comment[:4000]
    step.save()
    waiting = request.steps.filter(round=request.round, status=STEP.WAITING)
    following: ApprovalStep | None = None
    if step.status == STEP.APPROVED:
        following = waiting.order_by("position").first()
        if following is not None:
            following.status, following.pending_since = STEP.PENDING, now
            following.save(update_fields=["status", "pending_since"])
            request.status = S.IN_APPROVAL
            event = "approved_step"
        else:
            request.status, request.decided_at = S.APPROVED, now
            _commit_budget(request, user)
            if request.purpose == Purpose.CANCEL:
                Subscription.objects.filter(pk=request.subscription_id).update(
                    ends_at_term_end=True
                )
            event = "approved"
        _event(request, user, RequestEvent.Kind.APPROVED, comment)
    else:
        waiting.update(status=STEP.SUPERSEDED)
        request.status = S.REJECTED if step.status == STEP.REJECTED else S.RETURNED
        request.decided_at = now if request.status == S.REJECTED else None
        kind = (
            RequestEvent.Kind.REJECTED
            if request.status == S.REJECTED
            else RequestEvent.Kind.RETURNED
        )
        _event(request, user, kind, comment)
        event = request.status
    request.save(update_fields=["status", "decided_at", "updated_at"])
    _notify_on_commit(request, event, user, step=step, awaiting=following)
    return step


def _commit_budget(request: RenewalRequest, user: User) -> None:
    """Commit the frozen amount against the department's budget (final approval only). Finance's
    signature in this round is the explicit approval to use the reserve."""
    if not request.amount_base:
        return
    finance_signed = request.steps.filter(
        round=request.round, role=Role.FINANCE, status=STEP.APPROVED
    ).exists()
    try:
        budgets.budget_commit(
            department=request.department,
            year=request.budget_year,
            amount=request.amount_base,
            reference=request.budget_reference,
            user=user,
            memo=_("Renewal request #%(pk)s: %(subscription)s")
            % {"pk": request.pk, "subscription": request.subscription},
            use_reserve=finance_signed,
        )
    except budgets.BudgetExceeded as exc:
        raise DecisionRefused(
            _(
                "The amount does not fit the department's %(year)s budget any more. Finance must "
                "add budget (allocation or adjustment) before the final approval."
            )
            % {"year": request.fiscal_year},
            code="budget",
        ) from exc


@transaction.atomic
def request_cancel(*, request: RenewalRequest, user: User, reason: str) -> RenewalRequest:
    """Withdraw a request that is still open; budget it committed is released."""
    request = _locked(request)
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
    _event(request, user, RequestEvent.Kind.CANCELLED, reason.strip())
    _notify_on_commit(request, "cancelled", user)
    return request


# --- Execution -------------------------------------------------------------------------------


def may_execute(user: User) -> bool:
    return has_role(user, Role.IT_ADMIN, Role.FINANCE)


@transaction.atomic
def request_execute(
    *,
    request: RenewalRequest,
    user: User,
    order_ref: str,
    fapiao_no: str,
    actual_amount: Decimal,
    actual_currency: str,
    term_start: dt.date,
    term_end: dt.date,
    seats: int,
    edition: str,
    modules: Sequence[ModuleLine | str],
    unit_price: Decimal | None = None,
    currency: str | None = None,
    billing_cycle: str | None = None,
) -> RenewalRequest:
    """Record the executed renewal. In one transaction: the old term goes to history with what
    was paid for it, the subscription moves to the new term with what was chosen (price,
    currency, cycle, edition, seats, modules; None takes the chosen quote's), prices not given
    are converted with the recorded rates when the currency changes, the commitment is released
    and the actual booked, and pending alerts of the old term stop. Seat holders are told
    afterwards (a task)."""
    if not may_execute(user):
        raise PermissionDenied
    request = _locked(request)
    if request.status != S.APPROVED:
        raise ValidationError(_("Only an approved request can be executed."))
    if request.purpose == Purpose.CANCEL:
        raise ValidationError(
            _("A decision not to renew is not executed; the subscription ends at its term end.")
        )
    if term_end <= term_start:
        raise ValidationError(_("The new term must end after it starts."))
    subscription = Subscription.objects.select_for_update().get(pk=request.subscription_id)
    if term_start <= subscription.term_start:
        raise ValidationError(_("The new term must start after the current term started."))
    quote = request.chosen_quote
    new_currency = currency or (quote.currency if quote else subscription.currency)
    new_cycle = billing_cycle or (quote.billing_cycle if quote else subscription.billing_cycle)
    # Prices not given move to the new currency (refused before anything is written when a
    # rate is missing) and to the new billing period (3.50 a month is 42.00 a year).
    factor = conversion(subscription.currency, new_currency, quote)
    factor *= subscription_periods(subscription) / periods_per_year(
        new_cycle, days=(term_end - term_start).days
    )
    if unit_price is None:
        unit_price = quote.unit_price if quote else cents(subscription.unit_price * factor)
    # The invoice is converted with the recorded rate (the chosen quote's, from the rates table,
    # for its currency; else the table's latest), never a typed one; what it differs from the
    # commitment is booked here, as the actual replaces the commitment.
    actual_base = cents(actual_amount * recorded_rate(actual_currency, quote))
    archive_term(subscription)
    old_term_end = subscription.term_end
    if quote is not None and (
        request.purpose == Purpose.SWITCH
        and (quote.vendor_name != subscription.vendor.name or quote.product != subscription.product)
    ):
        subscription.vendor, _created = Vendor.objects.get_or_create(name=quote.vendor_name)
        subscription.product = quote.product
    subscription.unit_price = unit_price
    subscription.currency = new_currency
    subscription.billing_cycle = new_cycle
    subscription.term_start, subscription.term_end = term_start, term_end
    subscription.seats_purchased = seats
    subscription.edition = edition
    subscription.status = Subscription.Status.ACTIVE
    subscription.ends_at_term_end = False
    subscription.full_clean(exclude=["owner"])
    subscription.save()
    set_modules(subscription, modules, factor)
    AlertDelivery.objects.filter(
        subscription=subscription, term_end=old_term_end, status=AlertDelivery.Status.PENDING
    ).update(status=AlertDelivery.Status.STOPPED, last_error=_("renewal executed"))
    if actual_base or request.amount_base:
        budgets.budget_book_actual(
            department=request.department,
            year=request.budget_year,
            amount=actual_base,
            reference=request.budget_reference,
            user=user,
            memo=_("Renewal request #%(pk)s executed: order %(order)s, fapiao %(fapiao)s")
            % {"pk": request.pk, "order": order_ref, "fapiao": fapiao_no},
        )
    request.status = S.EXECUTED
    request.order_ref, request.fapiao_no = order_ref, fapiao_no
    request.actual_amount, request.actual_currency = actual_amount, actual_currency
    request.actual_amount_base = actual_base
    request.executed_term_start = term_start
    request.executed_by, request.executed_at = user, timezone.now()
    request.full_clean(exclude=["chosen_quote"])
    request.save()
    _event(request, user, RequestEvent.Kind.EXECUTED, order_ref)
    _notify_on_commit(request, "executed", user)
    pk = request.pk
    transaction.on_commit(
        lambda: async_task(
            "renewals.tasks.notify_seat_holders", pk, task_name=f"request-{pk}-holders"
        )
    )
    return request


def seat_holders_notify(*, request_id: int) -> int:
    """Tell everyone holding a seat that the service continues, once (a retried task is a no-op)."""
    from renewals.notify.services import messaging

    claimed = RenewalRequest.objects.filter(
        pk=request_id, status=S.EXECUTED, holders_notified_at__isnull=True
    ).update(holders_notified_at=timezone.now())
    if not claimed:
        return 0
    request = RenewalRequest.objects.select_related("subscription", "subscription__vendor").get(
        pk=request_id
    )
    subscription = request.subscription
    holders = (
        subscription.seats.filter(revoked_on__isnull=True)
        .select_related("person", "person__user")
        .order_by("person__name")
    )
    context = {"request": request, "subscription": subscription}
    url = subscription.get_absolute_url()
    users = [s.person.user for s in holders if s.person.user is not None]
    told = messaging.notify_users(
        users, template="renewals/email/renewal-done", context=context, url=url,
        subscription=subscription,
    )  # fmt: skip
    for seat in holders:
        if seat.person.user is None and seat.person.email:
            subject, text, html = messaging.render_message(
                "renewals/email/renewal-done", context, settings.LANGUAGE_CODE
            )
            told += messaging.send_email(seat.person.email, subject, text, html)
    return told


def subscriptions_expire_ended(*, today: dt.date | None = None) -> int:
    """Subscriptions decided not to be renewed become expired after their last day."""
    today = today or timezone.localdate()
    return Subscription.objects.filter(
        ends_at_term_end=True, term_end__lt=today, status__in=["active", "renewing"]
    ).update(status=Subscription.Status.EXPIRED)
