"""The annual account clean-up campaign (数字办公日账号清理): open it, decide each account, close it.

Races are closed in the database:
- two "open" clicks: the partial unique constraint ``cleanup_one_open_campaign`` lets one insert
  through; the other gets IntegrityError and is told a campaign is already running;
- two admins deciding one account: the item row is locked (SELECT … FOR UPDATE) and the decision
  the admin saw is compared under the lock, so the second click is told "already decided";
- a decision racing the close: a decision share-locks the campaign row (FOR SHARE, decisions do
  not block each other), closing takes FOR UPDATE on it, so the close waits for decisions in
  flight and a decision after the close sees it closed and is refused.

Revoking sets the seat's ``revoked_on`` to today and asks every tool with a usage connector to
deactivate the holder's account there (renewals/usage/reclaim.py), in the same transaction.
Changing a revoked item back to "keep" or "to
decide" (allowed while the campaign is open) does NOT give the seat back: re-assigning an account
in the vendor's tool is a deliberate act, done on the subscription page.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Department, User
from renewals.cleanup.models import CleanupCampaign, CleanupItem
from renewals.cleanup.policy import may_decide, may_run_campaigns
from renewals.cleanup.selectors import checklist_seats
from renewals.risks import services as risk_services
from renewals.usage import reclaim
from renewals.usage.models import Seat

logger = logging.getLogger(__name__)

D = CleanupItem.Decision
KEEP_REASON_MAX = CleanupItem._meta.get_field("keep_reason").max_length


class CleanupRefused(ValidationError):
    """An action the campaign's state refuses; ``code`` says why (already_open, closed,
    already_decided, keep_reason)."""


@transaction.atomic
def campaign_open(
    *, user: User, name: str, due_on: dt.date, today: dt.date | None = None
) -> CleanupCampaign:
    """Open a campaign and build its checklist in one transaction; tell each department's
    software admins and heads once it has committed."""
    if not may_run_campaigns(user):
        raise PermissionDenied
    today = today or timezone.localdate()
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the campaign a name.")})
    if due_on < today:
        raise ValidationError({"due_on": _("The due date cannot be in the past.")})
    campaign = CleanupCampaign(
        name=name, due_on=due_on, idle_days=settings.IDLE_AFTER_DAYS, opened_by=user
    )
    campaign.full_clean(validate_constraints=False)  # the constraint is checked by the insert
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError:
        # A second click (or a colleague) got there first: one open campaign at a time.
        raise CleanupRefused(
            _("A clean-up campaign is already running."), code="already_open"
        ) from None
    CleanupItem.objects.bulk_create(
        [
            CleanupItem(
                campaign=campaign,
                seat_id=seat,
                department_id=department,
                reason=reason,
                last_active_on=last,
            )  # fmt: skip
            for seat, department, reason, last in checklist_seats(today=today)
        ],
        batch_size=1000,
    )
    pk = campaign.pk
    transaction.on_commit(lambda: _queue_notify(pk))
    return campaign


def _queue_notify(campaign_id: int) -> None:
    from django_q.tasks import async_task

    async_task(
        "renewals.cleanup.services.campaign_notify", campaign_id,
        task_name=f"cleanup-{campaign_id}-opened",
    )  # fmt: skip


def campaign_notify(campaign_id: int) -> str:
    """django-q2 task: tell every department on the checklist (software admins act, heads
    read) where their list is. Exits if the campaign is gone."""
    from renewals.notify.services import messaging

    campaign = CleanupCampaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return "gone"
    counts: dict[int, int] = {}
    for department_id in campaign.items.values_list("department_id", flat=True):
        counts[department_id] = counts.get(department_id, 0) + 1
    told = 0
    departments = Department.objects.filter(pk__in=counts).prefetch_related(
        "software_admins", "heads"
    )
    for department in departments:
        path = reverse("renewals:cleanup-checklist", args=[campaign.pk, department.pk])
        users = [*department.software_admins.all(), *department.heads.all()]
        told += messaging.notify_users(
            users, template="renewals/email/cleanup-opened",
            context={"campaign": campaign, "department": department,
                     "count": counts[department.pk], "url": settings.SITE_URL + path},
            url=path, subscription=None,
        )  # fmt: skip
    return f"{told} told"


def _share_lock_campaign(campaign_id: int) -> str:
    """The campaign's status, read under FOR SHARE (see the module docstring)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status FROM renewals_cleanupcampaign WHERE id = %s FOR SHARE", [campaign_id]
        )
        row = cursor.fetchone()
    return str(row[0]) if row else ""


def _seat_revoke(seat_id: int, today: dt.date) -> dt.date:
    """Revoke the seat today (or keep the date it was already revoked on); a seat assigned in
    the future is revoked on its assignment day (the constraint wants revoked ≥ assigned)."""
    seat = Seat.objects.select_for_update().get(pk=seat_id)
    if seat.revoked_on is None:
        seat.revoked_on = max(today, seat.assigned_on)
        seat.save(update_fields=["revoked_on"])
    return seat.revoked_on


def _refresh_risks_on_commit() -> None:
    """After a revoke, let the risk register close a departed-holder risk at once (the daily
    refresh would otherwise close it tomorrow). A failed refresh never undoes the revoke."""

    def refresh() -> None:
        try:
            risk_services.risks_refresh()
        except Exception:  # noqa: BLE001 - the daily refresh catches up; the revoke stands
            logger.exception("risks_refresh after a clean-up revoke failed")

    transaction.on_commit(refresh)


@transaction.atomic
def seat_revoke(*, seat: Seat, user: User, today: dt.date | None = None) -> bool:
    """Revoke one seat outside a campaign's checklist (the bulk action of the findings and
    subscription pages), by the same rules: who may decide, the revoke date, the risk refresh.
    False when the seat was already revoked (a replayed click changes nothing)."""
    locked = (
        Seat.objects.select_for_update(of=("self",))
        .select_related("subscription__department")
        .get(pk=seat.pk)
    )
    if not may_decide(user, locked.subscription.department):
        raise PermissionDenied
    if locked.revoked_on is not None:
        return False
    _seat_revoke(locked.pk, today or timezone.localdate())
    reclaim.revoke_in_tools(
        [locked.pk], user=user, source="seat",
        reason=_("Seat of %(subscription)s revoked") % {"subscription": locked.subscription.display_name},
    )  # fmt: skip
    _refresh_risks_on_commit()
    return True


@transaction.atomic
def item_decide(
    *,
    item: CleanupItem,
    user: User,
    decision: str,
    keep_reason: str = "",
    seen: str | None = None,
    today: dt.date | None = None,
) -> CleanupItem:
    """Revoke, keep (with a reason) or set back to "to decide" one account of an open campaign.
    ``seen`` is the decision the user's page showed: if someone else decided in between, the
    click is refused instead of overwriting their decision."""
    if decision not in D.values:
        raise CleanupRefused(_("Choose revoke or keep."), code="decision")
    if _share_lock_campaign(item.campaign_id) != CleanupCampaign.Status.OPEN:
        raise CleanupRefused(
            _("The campaign is closed; its decisions can no longer change."), code="closed"
        )
    locked = CleanupItem.objects.select_for_update().select_related("department").get(pk=item.pk)
    if not may_decide(user, locked.department):
        raise PermissionDenied
    if seen is not None and locked.decision != seen:
        raise CleanupRefused(
            _("Someone else decided this account a moment ago; see their decision."),
            code="already_decided",
        )
    keep_reason = " ".join((keep_reason or "").split())
    if decision == D.KEEP and not keep_reason:
        raise CleanupRefused(_("Say why the account is kept."), code="keep_reason")
    if len(keep_reason) > KEEP_REASON_MAX:  # type: ignore[operator]
        raise CleanupRefused(
            _("Keep the reason under %(max)s characters.") % {"max": KEEP_REASON_MAX},
            code="keep_reason",
        )
    today = today or timezone.localdate()
    locked.decision = decision
    locked.keep_reason = keep_reason if decision == D.KEEP else ""
    if decision == D.REVOKE:
        locked.revoked_on = _seat_revoke(locked.seat_id, today)
        campaign = CleanupCampaign.objects.only("name").get(pk=locked.campaign_id)
        reclaim.revoke_in_tools(
            [locked.seat_id], user=user, source="campaign",
            reason=_("Clean-up campaign %(name)s") % {"name": campaign.name},
        )  # fmt: skip
    else:
        locked.revoked_on = None  # the seat itself stays revoked (see the module docstring)
    if decision == D.PENDING:
        locked.decided_by, locked.decided_at = None, None
    else:
        locked.decided_by, locked.decided_at = user, timezone.now()
    locked.save(update_fields=["decision", "keep_reason", "revoked_on", "decided_by", "decided_at"])
    if decision == D.REVOKE:
        _refresh_risks_on_commit()
    return locked


@transaction.atomic
def campaign_close(*, campaign: CleanupCampaign, user: User) -> CleanupCampaign:
    """Close the campaign: its decisions freeze and the closing report is final. Accounts still
    to decide stay as they are (the report lists them)."""
    if not may_run_campaigns(user):
        raise PermissionDenied
    locked = CleanupCampaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status != CleanupCampaign.Status.OPEN:
        raise CleanupRefused(_("This campaign is already closed."), code="closed")
    locked.status = CleanupCampaign.Status.CLOSED
    locked.closed_by, locked.closed_at = user, timezone.now()
    locked.save(update_fields=["status", "closed_by", "closed_at"])
    return locked


def decision_error(exc: ValidationError) -> str:
    """One line for the user from a refused decision."""
    return " ".join(str(m) for m in exc.messages)
