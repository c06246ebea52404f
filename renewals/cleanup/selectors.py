"""Reads of the account clean-up campaign: the seats a new checklist lists, campaigns, progress per
department, a department's checklist and the closing report, scoped to the departments a user may
see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Expression, F, Func, Q, QuerySet, Value
from django.shortcuts import get_object_or_404
from django.utils import timezone

from org.models import Department
from org.roles import SEE_ALL_ROLES, roles_of
from org.scoping import visible_departments
from renewals.cleanup.models import CleanupCampaign, CleanupItem
from renewals.inventory.money import MONEY, PeriodsPerYear, rate_to_base
from renewals.inventory.selectors import idle_cutoff
from renewals.usage.models import Seat

D = CleanupItem.Decision


def campaign_list() -> QuerySet[CleanupCampaign]:
    """Every campaign, newest first (campaigns belong to the whole organisation; what is
    inside them is scoped per department)."""
    return CleanupCampaign.objects.select_related("opened_by", "closed_by").annotate(
        item_count=Count("items")
    )


def open_campaign() -> CleanupCampaign | None:
    return CleanupCampaign.objects.filter(status=CleanupCampaign.Status.OPEN).first()


def get_campaign(pk: int) -> CleanupCampaign:
    return get_object_or_404(
        CleanupCampaign.objects.select_related("opened_by", "closed_by"), pk=pk
    )


def checklist_seats(*, today: dt.date | None = None) -> list[tuple[int, int, str, dt.date | None]]:
    """(seat, department, reason, last active) of every seat not revoked whose holder has left
    or that is idle by the idle setting; departed wins when both hold."""
    cutoff = idle_cutoff(today)
    idle = Q(last_active_on__lt=cutoff) | Q(last_active_on__isnull=True, assigned_on__lt=cutoff)
    rows = (
        Seat.objects.filter(revoked_on__isnull=True)
        .filter(Q(person__status="left") | idle)
        .order_by("subscription__department_id", "pk")
        .values_list("pk", "subscription__department_id", "person__status", "last_active_on")
    )
    return [
        (
            pk,
            department,
            CleanupItem.Reason.DEPARTED if status == "left" else CleanupItem.Reason.IDLE,
            last,
        )
        for pk, department, status, last in rows
    ]


def _scoped(items: QuerySet[CleanupItem], user: Any) -> QuerySet[CleanupItem]:
    if roles_of(user) & SEE_ALL_ROLES:
        return items
    return items.filter(department__in=visible_departments(user))


def seat_yearly_cost(*, on: dt.date) -> Expression:
    """What the item's seat costs a year in the base currency (unit price × billing periods a
    year × exchange rate on ``on``): the saving of revoking it. NULL when no rate is known."""
    p = "seat__subscription__"
    return Func(
        F(f"{p}unit_price")
        * PeriodsPerYear(prefix=p)
        * rate_to_base(currency_ref=f"{p}currency", on=on),
        Value(2),
        function="ROUND",
        output_field=MONEY,
    )


def _cost_day(campaign: CleanupCampaign) -> dt.date:
    if campaign.closed_at is not None:
        return timezone.localtime(campaign.closed_at).date()
    return timezone.localdate()


@dataclass
class Progress:
    """One department's progress (or the total when ``department`` is None)."""

    department_id: int | None
    name: str
    items: int = 0
    revoked: int = 0
    kept: int = 0
    pending: int = 0

    @property
    def done(self) -> int:
        return self.revoked + self.kept

    @property
    def percent(self) -> int:
        if not self.items:
            return 100
        return int((Decimal(self.done) * 100 / self.items).quantize(Decimal(1), ROUND_HALF_UP))


def campaign_progress(*, campaign: CleanupCampaign, user: Any) -> tuple[list[Progress], Progress]:
    """Items, revoked, kept and to decide per department the user may see, and their total;
    one query whatever the number of departments."""
    rows = (
        _scoped(CleanupItem.objects.filter(campaign=campaign), user)
        .order_by()
        .values("department_id", "department__name")
        .annotate(
            items=Count("pk"),
            revoked=Count("pk", filter=Q(decision=D.REVOKE)),
            kept=Count("pk", filter=Q(decision=D.KEEP)),
            pending=Count("pk", filter=Q(decision=D.PENDING)),
        )
        .order_by("department__name")
    )
    progress = [
        Progress(
            department_id=r["department_id"],
            name=r["department__name"],
            items=r["items"],
            revoked=r["revoked"],
            kept=r["kept"],
            pending=r["pending"],
        )  # fmt: skip
        for r in rows
    ]
    total = Progress(department_id=None, name="")
    for p in progress:
        total.items += p.items
        total.revoked += p.revoked
        total.kept += p.kept
        total.pending += p.pending
    return progress, total


def get_department_for_checklist(user: Any, pk: int) -> Department:
    """The department if the user may see it; 404 otherwise (never reveals it exists)."""
    return get_object_or_404(visible_departments(user), pk=pk)


def _with_details(items: QuerySet[CleanupItem], campaign: CleanupCampaign) -> QuerySet[CleanupItem]:
    return items.select_related(
        "department", "decided_by", "seat", "seat__person", "seat__subscription",
        "seat__subscription__vendor",
    ).annotate(yearly_cost=seat_yearly_cost(on=_cost_day(campaign)))  # fmt: skip


def checklist(*, campaign: CleanupCampaign, department: Department) -> QuerySet[CleanupItem]:
    """A department's accounts in the campaign, by product and holder, with their yearly cost."""
    items = CleanupItem.objects.filter(campaign=campaign, department=department)
    return _with_details(items, campaign).order_by(
        "seat__subscription__vendor__name", "seat__subscription__product", "seat__person__name",
        "pk",
    )  # fmt: skip


def get_item(*, campaign: CleanupCampaign, pk: int, user: Any) -> CleanupItem:
    """One item of the campaign in a department the user may see (404 otherwise)."""
    items = _scoped(CleanupItem.objects.filter(campaign=campaign), user)
    return get_object_or_404(_with_details(items, campaign), pk=pk)


def report_items(*, campaign: CleanupCampaign, user: Any) -> QuerySet[CleanupItem]:
    """Every item the user may see, by department, decision, product and holder."""
    items = _scoped(CleanupItem.objects.filter(campaign=campaign), user)
    return _with_details(items, campaign).order_by(
        "department__name", "decision", "seat__subscription__vendor__name",
        "seat__subscription__product", "seat__person__name", "pk",
    )  # fmt: skip


@dataclass
class DepartmentReport:
    """One department's part of the closing report."""

    department: Department
    revoked: list[CleanupItem] = field(default_factory=list)
    kept: list[CleanupItem] = field(default_factory=list)
    pending: list[CleanupItem] = field(default_factory=list)
    freed: Decimal = Decimal("0.00")
    unpriced: int = 0  # revoked seats whose yearly cost is unknown (no exchange rate)


@dataclass
class CampaignReport:
    campaign: CleanupCampaign
    departments: list[DepartmentReport]
    freed: Decimal
    unpriced: int
    revoked: int
    kept: int
    pending: int


def cleanup_report(*, campaign: CleanupCampaign, user: Any) -> CampaignReport:
    """The closing report: per department the revoked accounts (with dates), the kept ones
    (with reasons), the undecided ones, and the yearly cost freed by the revokes (CNY)."""
    parts: dict[int, DepartmentReport] = {}
    for item in report_items(campaign=campaign, user=user):
        part = parts.get(item.department_id)
        if part is None:
            part = parts[item.department_id] = DepartmentReport(department=item.department)
        if item.decision == D.REVOKE:
            part.revoked.append(item)
            cost = item.yearly_cost  # type: ignore[attr-defined]
            if cost is None:
                part.unpriced += 1
            else:
                part.freed += cost
        elif item.decision == D.KEEP:
            part.kept.append(item)
        else:
            part.pending.append(item)
    departments = list(parts.values())
    return CampaignReport(
        campaign=campaign,
        departments=departments,
        freed=sum((p.freed for p in departments), Decimal("0.00")),
        unpriced=sum(p.unpriced for p in departments),
        revoked=sum(len(p.revoked) for p in departments),
        kept=sum(len(p.kept) for p in departments),
        pending=sum(len(p.pending) for p in departments),
    )
