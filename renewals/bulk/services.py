"""Bulk actions on the lists: approve several steps of the inbox, change the owner of several
subscriptions, revoke or keep several idle/departed seats.

Every bulk action is a loop over the single action's own service, one transaction per row:
a row refused (no permission, already decided, a rule of the single action) is listed with
its reason and never changed, and it does not undo the rows before it. The ids come from a
form: they are read strictly (``read_ids``) before anything changes.

Races are closed where the single actions close them: ``step_decide`` locks the request row
and compares the step the approver saw, so two bulk approvals of the same requests decide each
step once (the second is told "already decided"); ``cleanup.item_decide`` locks the item; an
owner change is a conditional UPDATE whose row count says whether it changed anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Department, User
from org.scoping import managed_departments, visible_departments
from renewals.cleanup import services as cleanup
from renewals.cleanup.models import CleanupItem
from renewals.cleanup.policy import may_decide
from renewals.inventory.models import Subscription
from renewals.inventory.policy import owner_candidate
from renewals.inventory.selectors import idle_cutoff, seat_is_idle
from renewals.requests import services as request_services
from renewals.requests.models.approvals import ApprovalStep
from renewals.usage.models import Seat

# More ids than this in one POST is refused as a whole (two full pages of a list).
MAX_ROWS = 100
# Ids are bigint primary keys: anything longer is not one of ours.
_MAX_ID = 2**63 - 1


class BulkRefused(ValidationError):
    """The whole POST is refused and nothing changed (no rows, too many, a malformed id)."""


@dataclass
class RowResult:
    """What happened to one row: ``outcome`` is done, unchanged (already so) or refused."""

    pk: int
    label: str
    outcome: str
    message: str = ""

    DONE = "done"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


def read_ids(values: Iterable[str]) -> list[int]:
    """The ids of a bulk form, in order, each once. Refuses the whole POST (nothing changes)
    when there are none, too many or one is not a row number."""
    values = list(values)
    if not values:
        raise BulkRefused(_("Select at least one row."), code="empty")
    if len(values) > MAX_ROWS:
        raise BulkRefused(
            _("Select at most %(max)s rows at a time (%(count)s were sent); nothing was changed.")
            % {"max": MAX_ROWS, "count": len(values)},
            code="too_many",
        )
    ids: list[int] = []
    for value in values:
        text = str(value).strip()
        if not text.isascii() or not text.isdigit() or not 0 < int(text) <= _MAX_ID:
            raise BulkRefused(
                _("“%(value)s” is not a row of this list; nothing was changed.")
                % {"value": text[:20]},
                code="bad_id",
            )
        if int(text) not in ids:
            ids.append(int(text))
    return ids


def _not_found(pk: int) -> RowResult:
    # The same answer for a row that does not exist and one the user may not see.
    return RowResult(pk, f"#{pk}", RowResult.REFUSED, _("Not found, or not yours to see."))


def _each(ids: list[int], rows: dict[int, Any], act: Callable[[Any], RowResult]) -> list[RowResult]:
    """``act`` on every row in its own transaction; a refusal rolls back only its own row."""
    results = []
    for pk in ids:
        if pk not in rows:
            results.append(_not_found(pk))
            continue
        try:
            with transaction.atomic():
                results.append(act(rows[pk]))
        except PermissionDenied:
            results.append(
                RowResult(pk, str(rows[pk]), RowResult.REFUSED, _("You may not change this row."))
            )
    return results


# --- The approval inbox ----------------------------------------------------------------------


def steps_approve(*, user: User, step_ids: list[int], comment: str = "") -> list[RowResult]:
    """Approve each pending step through ``step_decide`` (every check of a single decision), one
    transaction per request."""
    steps = {
        step.pk: step
        for step in ApprovalStep.objects.filter(
            pk__in=step_ids, request__department__in=visible_departments(user)
        ).select_related("request", "request__subscription__vendor")
    }

    def approve(step: ApprovalStep) -> RowResult:
        request = step.request
        label = _("Request #%(pk)s: %(subscription)s") % {
            "pk": request.pk,
            "subscription": f"{request.subscription.vendor.name} {request.subscription.product}",
        }
        try:
            request_services.step_decide(
                request=request,
                user=user,
                decision=ApprovalStep.Decision.APPROVE,
                comment=comment,
                step_id=step.pk,
            )
        except request_services.DecisionRefused as exc:
            outcome = RowResult.UNCHANGED if exc.code == "already_decided" else RowResult.REFUSED
            return RowResult(step.pk, label, outcome, _join(exc))
        request.refresh_from_db(fields=["status"])
        return RowResult(step.pk, label, RowResult.DONE, str(request.get_status_display()))

    return _each(step_ids, steps, approve)


# --- Subscriptions ---------------------------------------------------------------------------


def subscriptions_set_owner(
    *, user: User, subscription_ids: list[int], owner: User
) -> list[RowResult]:
    """Make ``owner`` the owner of each subscription the user may change, when the owner belongs
    to that subscription's department (see selectors.owners)."""
    rows = {
        s.pk: s
        for s in Subscription.objects.filter(
            pk__in=subscription_ids, department__in=visible_departments(user)
        ).select_related("department", "vendor")
    }
    managed = set(managed_departments(user).values_list("pk", flat=True))

    def set_owner(subscription: Subscription) -> RowResult:
        label = f"{subscription.ref} {subscription.vendor.name} {subscription.product}"
        department: Department = subscription.department
        if department.pk not in managed:
            return RowResult(
                subscription.pk,
                label,
                RowResult.REFUSED,
                _("You may not change subscriptions of %(department)s.")
                % {"department": department},
            )
        if not owner_candidate(owner, department):
            return RowResult(
                subscription.pk,
                label,
                RowResult.REFUSED,
                _("%(owner)s cannot own a subscription of %(department)s.")
                % {"owner": owner, "department": department},
            )
        # Conditional UPDATE: the row count says whether the owner changed (a replayed POST or
        # a colleague's identical change counts as "already so").
        changed = (
            Subscription.objects.filter(pk=subscription.pk)
            .exclude(owner=owner)
            .update(owner=owner, updated_at=timezone.now())
        )
        if not changed:
            return RowResult(
                subscription.pk, label, RowResult.UNCHANGED, _("Already owned by %(owner)s.")
                % {"owner": owner},
            )  # fmt: skip
        return RowResult(
            subscription.pk, label, RowResult.DONE, _("Owner now %(owner)s.") % {"owner": owner}
        )

    return _each(subscription_ids, rows, set_owner)


# --- Seats -----------------------------------------------------------------------------------


def seats_decide(
    *,
    user: User,
    seat_ids: list[int],
    decision: str,
    reason: str = "",
    today: dt.date | None = None,
) -> list[RowResult]:
    """Revoke or keep (with a reason) each idle or departed seat, through the clean-up rules:
    a seat on the open campaign's checklist is decided there (``cleanup.item_decide``); any
    other idle or departed seat can be revoked (``cleanup.seat_revoke``), and keeping it needs
    the campaign (its checklist is where the reason is kept)."""
    if decision not in (CleanupItem.Decision.REVOKE, CleanupItem.Decision.KEEP):
        raise BulkRefused(_("Choose revoke or keep."), code="decision")
    reason = " ".join((reason or "").split())
    if decision == CleanupItem.Decision.KEEP and not reason:
        raise BulkRefused(_("Say why the accounts are kept."), code="keep_reason")
    today = today or timezone.localdate()
    cutoff = idle_cutoff(today)
    seats = {
        seat.pk: seat
        for seat in Seat.objects.filter(
            pk__in=seat_ids, subscription__department__in=visible_departments(user)
        ).select_related("person", "subscription__vendor", "subscription__department")
    }
    items = {
        item.seat_id: item
        for item in CleanupItem.objects.filter(
            seat_id__in=seat_ids, campaign__status="open"
        ).select_related("campaign")
    }
    decisions = dict(CleanupItem.Decision.choices)

    def decide(seat: Seat) -> RowResult:
        sub = seat.subscription
        label = f"{seat.person.name} · {sub.vendor.name} {sub.product}"
        if not may_decide(user, sub.department):
            return RowResult(
                seat.pk, label, RowResult.REFUSED,
                _("Only IT admins and the software admins of %(department)s clean up its seats.")
                % {"department": sub.department},
            )  # fmt: skip
        item = items.get(seat.pk)
        if item is not None:
            if item.decision == decision:
                return RowResult(
                    seat.pk, label, RowResult.UNCHANGED,
                    _("Already decided: %(decision)s.") % {"decision": decisions[decision]},
                )  # fmt: skip
            try:
                cleanup.item_decide(
                    item=item, user=user, decision=decision, keep_reason=reason,
                    seen=CleanupItem.Decision.PENDING, today=today,
                )  # fmt: skip
            except cleanup.CleanupRefused as exc:
                if exc.code == "already_decided":
                    item.refresh_from_db(fields=["decision"])
                    return RowResult(
                        seat.pk, label, RowResult.UNCHANGED,
                        _("Already decided in the clean-up campaign: %(decision)s.")
                        % {"decision": decisions[item.decision]},
                    )  # fmt: skip
                return RowResult(seat.pk, label, RowResult.REFUSED, _join(exc))
            return RowResult(seat.pk, label, RowResult.DONE, str(decisions[decision]))
        if seat.revoked_on is not None:
            return RowResult(seat.pk, label, RowResult.UNCHANGED, _("Already revoked."))
        if not (seat.person.has_left or seat_is_idle(seat, cutoff)):
            return RowResult(
                seat.pk, label, RowResult.REFUSED,
                _("This seat is in use: only idle seats and seats of people who left are cleaned up."),
            )  # fmt: skip
        if decision == CleanupItem.Decision.KEEP:
            return RowResult(
                seat.pk, label, RowResult.REFUSED,
                _("No open clean-up campaign lists this seat: keeping it (with its reason) is "
                  "recorded on the campaign's checklist."),
            )  # fmt: skip
        revoked = cleanup.seat_revoke(seat=seat, user=user, today=today)
        if not revoked:
            return RowResult(seat.pk, label, RowResult.UNCHANGED, _("Already revoked."))
        return RowResult(seat.pk, label, RowResult.DONE, str(decisions[decision]))

    return _each(seat_ids, seats, decide)


def _join(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)
