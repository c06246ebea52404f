"""The risk register (风险清单): risks generated from the data, manual risks, reviews.

Generated risks: each rule is one small query returning the conditions that hold today, keyed by
(rule, key). ``risks_refresh`` raises a risk for every condition without a not-closed risk and
closes, with an "auto_closed" review, every generated risk whose condition is gone. Two workers
may refresh at once: the partial unique constraint ``risk_one_open_per_condition`` and
``INSERT … ON CONFLICT DO NOTHING RETURNING id`` make the second insert a no-op, and closing
locks the rows first so only one worker writes the history row.

Texts: a generated risk stores its rule and key; its title and description are rendered at
display time through gettext (``renewals.risks.selectors.risk_text``), so each reader sees
their language. The stored ``title``/``description`` are a snapshot in the site language (admin,
search).

The rules and the conditions they find are in ``renewals.risks.rules``; who may change or review a
risk in ``renewals.risks.policy``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from org.models import Department, User
from org.roles import Role, has_role
from org.scoping import headed_departments
from renewals.risks.models import Risk, RiskReview
from renewals.risks.policy import can_change, can_review
from renewals.risks.rules import Condition, conditions_today
from renewals.risks.selectors import generated_texts, risks_due

# Fields anyone allowed to change a risk may change; generated risks keep their condition
# (category, title, description, department) as the rule set it.
MANUAL_FIELDS = (
    "category", "title", "description", "department", "likelihood", "impact", "owner",
    "mitigation", "status", "next_review_on",
)  # fmt: skip
GENERATED_FIELDS = ("likelihood", "impact", "owner", "mitigation", "status", "next_review_on")
REVIEW_FIELDS = ("likelihood", "impact", "owner", "mitigation", "status")


@dataclass(frozen=True)
class RefreshResult:
    raised: int
    closed: int
    open: int


def add_quarter(day: dt.date) -> dt.date:
    """The same day three months later (the last day of the month when it has fewer days)."""
    month = day.month + 3
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --- Refresh ----------------------------------------------------------------------------------

INSERT_SQL = """
INSERT INTO renewals_risk (
    category, title, description, subscription_id, department_id, likelihood, impact, owner_id,
    mitigation, status, next_review_on, rule, key, created_by_id, opened_at, updated_at,
    closed_at, closed_reason
) VALUES {values}
ON CONFLICT DO NOTHING
RETURNING id, rule, key
"""


def _snapshot(conditions: Iterable[Condition]) -> dict[tuple[str, str], tuple[str, str]]:
    """Title and description of each condition in the site language (the stored snapshot)."""
    with translation.override(settings.LANGUAGE_CODE):
        return generated_texts(list(conditions))


def risks_refresh(*, today: dt.date | None = None) -> RefreshResult:
    """Raise a risk for every condition that holds and has none open; close the generated risks
    whose condition is gone. Safe to run in several workers at once and to run again."""
    today = today or timezone.localdate()
    found = conditions_today(today)
    now = timezone.now()
    with transaction.atomic():
        open_rows = Risk.objects.exclude(rule="").exclude(status=Risk.Status.CLOSED)
        gone = [
            pk for pk, rule, key in open_rows.values_list("pk", "rule", "key")
            if (rule, key) not in found
        ]  # fmt: skip
        closed = _close_gone(gone, now) if gone else 0
        # Conditions whose risk is open stay as they are (owners may have changed their owner,
        # ratings or mitigation); only the department follows a subscription that moved.
        have = {(r, k): d for r, k, d in open_rows.values_list("rule", "key", "department_id")}
        for (rule, key), department_id in have.items():
            condition = found.get((rule, key))
            if condition and condition.department_id != department_id:
                Risk.objects.filter(rule=rule, key=key).exclude(status=Risk.Status.CLOSED).update(
                    department_id=condition.department_id
                )
        new = [c for rk, c in found.items() if rk not in have]
        raised = _insert(new, now) if new else 0
    return RefreshResult(raised=raised, closed=closed, open=len(found))


def _close_gone(ids: list[int], now: dt.datetime) -> int:
    # Race: two refreshes may both find the same risk gone. The rows are locked in id order and
    # re-read (FOR UPDATE re-checks the status after waiting), so the second worker finds them
    # closed and writes no second history row.
    locked = list(
        Risk.objects.select_for_update()
        .filter(pk__in=ids)
        .exclude(status=Risk.Status.CLOSED)
        .order_by("pk")
        .values_list("pk", "status")
    )
    if not locked:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        reason = gettext("The condition that raised this risk no longer holds.")
    Risk.objects.filter(pk__in=[pk for pk, _status in locked]).update(
        status=Risk.Status.CLOSED, closed_at=now, closed_reason=reason, updated_at=now
    )
    RiskReview.objects.bulk_create(
        RiskReview(
            risk_id=pk,
            reviewer=None,
            outcome=RiskReview.Outcome.AUTO_CLOSED,
            changes={"status": [status, Risk.Status.CLOSED]},
            note=reason,
        )
        for pk, status in locked
    )
    return len(locked)


def _insert(conditions: list[Condition], now: dt.datetime) -> int:
    texts = _snapshot(conditions)
    values, params = [], []
    for c in conditions:
        title, description = texts[(c.rule, c.key)]
        values.append("(" + ", ".join(["%s"] * 18) + ")")
        params += [
            c.category, title[:200], description, c.subscription_id, c.department_id,
            c.likelihood, c.impact, c.owner_id, "", Risk.Status.OPEN, c.review_on, c.rule,
            c.key, None, now, now, None, "",
        ]  # fmt: skip
    with connection.cursor() as cursor:
        # ON CONFLICT DO NOTHING: a racing refresh that inserted the same condition first wins;
        # RETURNING lists only the rows this call inserted.
        cursor.execute(INSERT_SQL.format(values=", ".join(values)), params)
        inserted = cursor.fetchall()
    if not inserted:
        return 0
    # A condition that comes back after its risk was closed: the new risk says so.
    conditions_q = Q()
    for _pk, rule, key in inserted:
        conditions_q |= Q(rule=rule, key=key)
    earlier = set(
        Risk.objects.filter(conditions_q, status=Risk.Status.CLOSED).values_list("rule", "key")
    )
    RiskReview.objects.bulk_create(
        RiskReview(
            risk_id=pk, reviewer=None, outcome=RiskReview.Outcome.REOPENED, changes={}, note=""
        )
        for pk, rule, key in inserted
        if (rule, key) in earlier
    )
    return len(inserted)


# --- Manual risks and edits --------------------------------------------------------------------


def _value(value: Any) -> Any:
    """A field value as the history stores it (JSON)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, User | Department):
        return str(value)
    return value


def risk_create(*, user: User, data: dict[str, Any]) -> Risk:
    """A manual risk. IT admins and finance for any department (or the whole company), heads for
    the departments they head."""
    department = data.get("department")
    if not has_role(user, Role.IT_ADMIN, Role.FINANCE):
        if (
            department is None
            or not has_role(user, Role.DEPARTMENT_HEAD)
            or not headed_departments(user).filter(pk=department.pk).exists()
        ):
            raise PermissionDenied
    risk = Risk(created_by=user, **{f: data[f] for f in MANUAL_FIELDS if f in data})
    if risk.next_review_on is None:
        risk.next_review_on = add_quarter(timezone.localdate())
    if risk.status == Risk.Status.CLOSED:
        risk.closed_at = timezone.now()
    risk.full_clean()
    with transaction.atomic():
        risk.save()
    return risk


def _apply(risk: Risk, changes: dict[str, Any], editable: tuple[str, ...]) -> dict[str, list]:
    """Set the editable fields that differ; return {field: [old, new]} for the history."""
    diff: dict[str, list[Any]] = {}
    for field in editable:
        if field not in changes:
            continue
        old = getattr(risk, field)
        new = changes[field]
        if old != new:
            diff[field] = [_value(old), _value(new)]
            setattr(risk, field, new)
    return diff


def _check_status(risk: Risk, old_status: str, note: str) -> None:
    """Closing: manual risks only (a generated one closes when its condition is gone — accept it
    instead); closing records when and why. Reopening a manual risk clears that."""
    if risk.status == old_status:
        return
    if risk.status == Risk.Status.CLOSED:
        if risk.rule:
            raise ValidationError(
                _(
                    "A generated risk closes by itself once its condition is gone; mark it "
                    "accepted or being mitigated instead."
                )
            )
        risk.closed_at = timezone.now()
        risk.closed_reason = note[:255]
    elif old_status == Risk.Status.CLOSED:
        if risk.rule:
            raise ValidationError(_("A closed generated risk cannot be reopened."))
        risk.closed_at = None
        risk.closed_reason = ""


def risk_update(*, user: User, risk_id: int, changes: dict[str, Any], note: str = "") -> Risk:
    """Change a risk (the edit page); the history gets an "updated" review with the changes."""
    with transaction.atomic():
        # Two people editing at once: the row lock makes the second edit see the first.
        risk = Risk.objects.select_for_update().get(pk=risk_id)
        if not can_change(user, risk):
            raise PermissionDenied
        old_status = risk.status
        diff = _apply(risk, changes, GENERATED_FIELDS if risk.rule else MANUAL_FIELDS)
        if not diff:
            return risk
        _check_status(risk, old_status, note)
        risk.full_clean()
        risk.save()
        outcome = _outcome(old_status, risk.status)
        RiskReview.objects.create(
            risk=risk, reviewer=user, outcome=outcome, changes=diff, note=note
        )
    return risk


def _outcome(old_status: str, new_status: str) -> str:
    if new_status == Risk.Status.CLOSED and old_status != new_status:
        return RiskReview.Outcome.CLOSED
    if old_status == Risk.Status.CLOSED and new_status != old_status:
        return RiskReview.Outcome.REOPENED
    return RiskReview.Outcome.UPDATED


def risk_review(
    *,
    user: User,
    risk_id: int,
    changes: dict[str, Any] | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> RiskReview:
    """The quarterly review of one risk: confirmed as it is (no changes) or updated. Either way
    a history row and the next review a quarter from today."""
    today = today or timezone.localdate()
    with transaction.atomic():
        # Two clicks (or the owner and IT at once) are serialised by the row lock.
        risk = Risk.objects.select_for_update().get(pk=risk_id)
        if not can_review(user, risk):
            raise PermissionDenied
        old_status = risk.status
        # The owner reviews their risk but hands it over only through someone who may change it.
        allowed = tuple(f for f in REVIEW_FIELDS if f != "owner" or can_change(user, risk))
        diff = _apply(risk, changes or {}, allowed)
        _check_status(risk, old_status, note)
        next_on = add_quarter(today)
        if risk.status != Risk.Status.CLOSED and risk.next_review_on != next_on:
            diff_next = [_value(risk.next_review_on), next_on.isoformat()]
            risk.next_review_on = next_on
        else:
            diff_next = None
        risk.full_clean()
        risk.save()
        outcome = _outcome(old_status, risk.status) if diff else RiskReview.Outcome.CONFIRMED
        if diff_next:
            diff["next_review_on"] = diff_next
        return RiskReview.objects.create(
            risk=risk, reviewer=user, outcome=outcome, changes=diff, note=note
        )


# --- Reminders ---------------------------------------------------------------------------------


def risks_remind_owners(*, today: dt.date | None = None) -> int:
    """Tell each owner with risks due for review, once per owner: in-app and by e-mail, in their
    language, linking to the review page. Returns how many owners were told."""
    from django.urls import reverse

    from renewals.notify.services.messaging import notify_users

    today = today or timezone.localdate()
    counts: dict[int, int] = {}
    for owner_id in risks_due(today=today).exclude(owner=None).values_list("owner_id", flat=True):
        counts[owner_id] = counts.get(owner_id, 0) + 1
    told = 0
    url = reverse("renewals:risk-review-list")
    for owner in User.objects.filter(pk__in=counts, is_active=True).order_by("pk"):
        told += notify_users(
            [owner],
            template="renewals/email/risk-review",
            context={"count": counts[owner.pk], "url": settings.SITE_URL.rstrip("/") + url},
            url=url,
            subscription=None,
        )
    return told
