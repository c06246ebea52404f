"""Deciding a renewal request: submit it (freeze the evidence and the amount, create the approval
steps of its tier), decide its steps round by round. The final approval commits the budget in the
same transaction as the status change (budgets.services lock the budget row, so two requests
cannot both take the last money).

Races are closed in the database: each action locks the request row (SELECT … FOR UPDATE) and
re-reads its state under the lock, so a second click, a racing approver or a retried call sees
the first one's result and is told "already decided".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from budgets import services as budgets
from budgets.money import cents
from org.models import User
from org.roles import Role
from renewals.inventory.models import Subscription
from renewals.requests.legal import legal_reasons
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import Purpose, RenewalRequest, RequestEvent, term_months
from renewals.requests.policy import holds_step_role, may_change
from renewals.requests.selectors.requests import tier_for, usage_evidence
from renewals.requests.services.common import (
    archive_proposed,
    locked,
    notify_on_commit,
    record_event,
)
from renewals.requests.services.pricing import RATE_FIELDS, quote_rate

S = RenewalRequest.Status
STEP = ApprovalStep.Status


class DecisionRefused(ValidationError):
    """A decision that may not be taken; ``code`` says why (already_decided, own_request,
    not_your_step, signed_earlier, budget, comment_required)."""


@transaction.atomic
def request_submit(
    *, request: RenewalRequest, user: User, today: dt.date | None = None
) -> RenewalRequest:
    """Freeze the evidence and the amount in the base currency, and create the approval steps
    of the tier that amount falls in."""
    request = locked(request)
    if not may_change(user, request):
        raise PermissionDenied
    if request.status not in (S.DRAFT, S.RETURNED):
        raise ValidationError(_("Only a draft or a returned request can be submitted."))
    route(request, user, today=today)
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


def route(
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
    roles: list[tuple[str, bool, bool]] = [(role, False, False) for role in tier.roles]
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
            roles.append((Role.FINANCE, True, False))
    if Role.LEGAL not in tier.roles and legal_reasons(request, tier):
        # Legal reads the clauses before finance signs (or last, where finance does not sign).
        at = next((i for i, (role, *_rest) in enumerate(roles) if role == Role.FINANCE), len(roles))
        roles.insert(at, (Role.LEGAL, False, True))
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
            legal_review=legal,
            status=STEP.PENDING if position == 1 else STEP.WAITING,
            pending_since=request.submitted_at if position == 1 else None,
        )
        for position, (role, over_budget, legal) in enumerate(roles, start=1)
    )
    kind = RequestEvent.Kind.REROUTED if rerouted else RequestEvent.Kind.SUBMITTED
    record_event(request, user, kind)
    notify_on_commit(request, "submitted", user, step=steps[0], awaiting=steps[0])


@transaction.atomic
def step_decide(
    *,
    request: RenewalRequest,
    user: User,
    decision: str,
    comment: str = "",
    step_id: int | None = None,
    round_no: int | None = None,
    via: str = "",
) -> ApprovalStep:
    """Approve, reject or return the request's pending step. ``step_id`` (what the approver
    saw) makes a stale click fail instead of deciding the next step; ``round_no`` likewise for
    a card of an earlier round. ``via``: where it was decided (approvals.Via; a chat card)."""
    request = locked(request)  # the race between approvers ends here
    step = request.steps.filter(status=STEP.PENDING).first()
    if round_no is not None and round_no != request.round:
        raise DecisionRefused(
            _("The request changed since this was sent; open it on the web."), code="changed"
        )
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
    step.via = via
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
        record_event(request, user, RequestEvent.Kind.APPROVED, comment, via=via)
    else:
        waiting.update(status=STEP.SUPERSEDED)
        request.status = S.REJECTED if step.status == STEP.REJECTED else S.RETURNED
        request.decided_at = now if request.status == S.REJECTED else None
        if request.status == S.REJECTED:
            archive_proposed(request)
        kind = (
            RequestEvent.Kind.REJECTED
            if request.status == S.REJECTED
            else RequestEvent.Kind.RETURNED
        )
        record_event(request, user, kind, comment, via=via)
        event = request.status
    request.save(update_fields=["status", "decided_at", "updated_at"])
    notify_on_commit(request, event, user, step=step, awaiting=following)
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
