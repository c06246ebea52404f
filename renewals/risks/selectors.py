"""Reads of the risk register: who sees which risk, the register page's rows, the texts of
generated risks in the reader's language, a risk's history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext

from org.roles import SEE_ALL_ROLES, roles_of
from org.scoping import visible_departments
from renewals.inventory.models import Subscription
from renewals.inventory.models.subscriptions import Category
from renewals.risks.models import Risk, RiskCategory, RiskReview
from renewals.risks.rules import LIVE, REGISTERED_TEXTS, RULE_LABELS, Condition, Rule
from renewals.usage.models import Seat


def visible_risks(*, user: Any) -> QuerySet[Risk]:
    """Risks the user may read. IT admins, finance and auditors: all. Heads and software admins:
    their departments' risks, plus the version-inconsistency risks (which belong to no single
    department) of products one of their departments uses. Company-wide manual risks (no
    department) only for the roles that see all; and the risks the user owns. Everyone else: none.
    The overlap risks across departments (no department) show to the heads and software admins
    of a department with a live subscription in the group: the category, or the product."""
    risks = Risk.objects.all()
    if roles_of(user) & SEE_ALL_ROLES:
        return risks
    departments = visible_departments(user)
    involved = Subscription.objects.filter(
        vendor_id=OuterRef("subscription__vendor_id"),
        product__iexact=OuterRef("subscription__product"),
        status__in=LIVE,
        department__in=departments,
    )
    in_category = Subscription.objects.filter(
        category=OuterRef("key"), status__in=LIVE, archived_at__isnull=True,
        department__in=departments,
    )  # fmt: skip
    return risks.filter(
        Q(department__in=departments)
        | (Q(department__isnull=True, rule__in=(Rule.EDITIONS, Rule.DUPLICATE)) & Exists(involved))
        | (Q(department__isnull=True, rule=Rule.OVERLAP) & Exists(in_category))
        | Q(owner=user)
    )


def register(*, user: Any) -> QuerySet[Risk]:
    """The register's rows: visible risks with what the row shows, highest score first."""
    return (
        visible_risks(user=user)
        .select_related("subscription__vendor", "subscription__department", "department", "owner")
        .annotate(score_value=F("likelihood") * F("impact"))
        .order_by("-score_value", "next_review_on", "pk")
    )


def get_risk_for(user: Any, pk: int) -> Risk:
    """The risk if the user may see it; 404 otherwise (another department's risk does not
    exist for them)."""
    risk = get_object_or_404(
        visible_risks(user=user).select_related(
            "subscription__vendor", "subscription__department", "department", "owner",
            "created_by",
        ),
        pk=pk,
    )  # fmt: skip
    attach_subjects([risk])
    return risk


def history(risk: Risk) -> QuerySet[RiskReview]:
    return risk.reviews.select_related("reviewer").order_by("-reviewed_at", "-pk")


def history_rows(risk: Risk) -> list[RiskReview]:
    """The risk's reviews, each with ``change_rows``: (field label, old, new) as a reader
    understands them (choice labels, not stored values)."""
    labels = {f.name: f.verbose_name for f in Risk._meta.fields}
    shown: dict[str, dict[Any, Any]] = {
        "status": dict(Risk.Status.choices),
        "category": dict(RiskCategory.choices),
        "likelihood": dict(Risk.Level.choices),
        "impact": dict(Risk.Level.choices),
    }
    reviews = list(history(risk))
    for review in reviews:
        rows = []
        for field, pair in (review.changes or {}).items():
            old, new = (list(pair) + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            choices = shown.get(field, {})
            rows.append((labels.get(field, field), choices.get(old, old), choices.get(new, new)))
        review.change_rows = rows  # type: ignore[attr-defined]
    return reviews


def edition_group(risk: Risk) -> list[Subscription]:
    """The live subscriptions of the product a version-inconsistency risk is about."""
    if risk.rule != Rule.EDITIONS or risk.subscription is None:
        return []
    anchor = risk.subscription
    return list(
        Subscription.objects.filter(
            vendor_id=anchor.vendor_id, product__iexact=anchor.product, status__in=LIVE
        )
        .select_related("department")
        .order_by("edition", "department__name")
    )


def attach_subjects(risks: Sequence[Risk]) -> None:
    """Give the departed-holder risks their seat (with its person): one query for all of them."""
    seat_ids = [int(r.key) for r in risks if r.rule == Rule.DEPARTED_HOLDER and r.key.isdigit()]
    seats = Seat.objects.select_related("person").in_bulk(seat_ids) if seat_ids else {}
    for risk in risks:
        if risk.rule == Rule.DEPARTED_HOLDER:
            risk._seat = seats.get(int(risk.key)) if risk.key.isdigit() else None  # type: ignore[attr-defined]


def _name(sub: Subscription | None) -> str:
    return sub.display_name if sub is not None else "—"


def _texts(
    rule: str, sub: Subscription | None, seat: Seat | None, key: str = ""
) -> tuple[str, str]:
    """Title and description of a generated risk, in the active language."""
    name = _name(sub)
    if rule in (Rule.OVERLAP, Rule.DUPLICATE):
        return _overlap_texts(rule, name, key)
    dept = sub.department.name if sub is not None else "—"
    if rule == Rule.CONTRACT_TRAP:
        deadline = sub.cancellation_deadline if sub is not None else None
        date = deadline.isoformat() if isinstance(deadline, dt.date) else "—"
        end = sub.term_end.isoformat() if sub is not None else "—"
        return (
            gettext("%(name)s renews automatically unless cancelled by %(date)s")
            % {"name": name, "date": date},
            gettext(
                "%(name)s (%(dept)s) renews by itself at the end of its term on %(end)s; a "
                "cancellation must reach the vendor by %(date)s. Decide now whether to renew, "
                "renegotiate or cancel, or the company is bound for another term."
            )
            % {"name": name, "dept": dept, "end": end, "date": date},
        )
    if rule == Rule.DEPARTED_HOLDER:
        person = seat.person.name if seat is not None else "—"
        account = (seat.account or person) if seat is not None else "—"
        left = (
            seat.person.left_on.isoformat()
            if seat is not None and seat.person.left_on is not None
            else "—"
        )
        return (
            gettext("%(person)s has left but still holds a %(name)s seat")
            % {"person": person, "name": name},
            gettext(
                "The account %(account)s of %(person)s, who left on %(left)s, is still active in "
                "%(name)s (%(dept)s): company data stays within reach of a former employee and "
                "the seat is paid for nothing. Revoke the seat or hand the account over."
            )
            % {"account": account, "person": person, "left": left, "name": name, "dept": dept},
        )
    if rule == Rule.NO_OWNER:
        return (
            gettext("%(name)s (%(dept)s) has no active owner") % {"name": name, "dept": dept},
            gettext(
                "Nobody is responsible for this subscription: renewal alerts reach no owner and "
                "the renewal may be forgotten. Name an owner on the subscription."
            ),
        )
    if rule == Rule.EDITIONS:
        return (
            gettext("Different editions of %(name)s across departments") % {"name": name},
            gettext(
                "Departments use different editions of %(name)s: files and features may not "
                "work the same between them and prices differ. Agree on one edition at the "
                "next renewals."
            )
            % {"name": name},
        )
    if rule == Rule.EXPIRED:
        end = sub.term_end.isoformat() if sub is not None else "—"
        return (
            gettext("%(name)s (%(dept)s) expired on %(date)s without a renewal decision")
            % {"name": name, "dept": dept, "date": end},
            gettext(
                "The term ended, nobody decided not to renew and no renewal request is under "
                "way: its users may have lost the service. Renew it or record that it ends."
            ),
        )
    if rule in REGISTERED_TEXTS:
        return REGISTERED_TEXTS[rule](name, dept, key)
    if rule in RULE_LABELS:  # a rule an app above registered without its own words
        return f"{RULE_LABELS[rule]}: {name} ({dept})", ""
    return rule, ""


def _overlap_texts(rule: str, name: str, key: str) -> tuple[str, str]:
    if rule == Rule.OVERLAP:
        category = str(dict(Category.choices).get(key, key))
        return (
            gettext("Several tools of one category are paid for: %(category)s")
            % {"category": category},
            gettext(
                "Departments pay for different tools that do the same job (%(category)s), the "
                "most used being %(name)s. The findings page lists them with the yearly saving "
                "of moving their users onto the most used one. Agree on one tool before the "
                "next renewals."
            )
            % {"category": category, "name": name},
        )
    return (
        gettext("%(name)s is bought by several departments") % {"name": name},
        gettext(
            "Several departments each pay for %(name)s. One subscription with everyone's seats "
            "usually costs less and is easier to keep; the findings page lists them with the "
            "yearly saving of moving the users onto the largest one."
        )
        % {"name": name},
    )


def risk_text(risk: Risk) -> tuple[str, str]:
    """What the reader sees as title and description: generated risks are rendered in the active
    language from their rule and subject; manual risks are shown as written."""
    if not risk.rule:
        return risk.title, risk.description
    seat = getattr(risk, "_seat", None)
    return _texts(risk.rule, risk.subscription, seat, risk.key)


def generated_texts(conditions: Iterable[Condition]) -> dict[tuple[str, str], tuple[str, str]]:
    """Title and description of conditions about to be raised (two queries for all)."""
    conditions = list(conditions)
    subs = Subscription.objects.select_related("vendor", "department").in_bulk(
        {c.subscription_id for c in conditions if c.subscription_id}
    )
    seats = Seat.objects.select_related("person").in_bulk(
        [int(c.key) for c in conditions if c.rule == Rule.DEPARTED_HOLDER]
    )
    texts = {}
    for c in conditions:
        sub = subs.get(c.subscription_id) if c.subscription_id else None
        seat = seats.get(int(c.key)) if c.rule == Rule.DEPARTED_HOLDER else None
        texts[(c.rule, c.key)] = _texts(c.rule, sub, seat, c.key)
    return texts


def due_for_review(*, user: Any, today: dt.date, everyone: bool) -> QuerySet[Risk]:
    """Risks due for review that the user reviews: their own, or (``everyone``, for IT admins
    and finance) every visible one."""
    risks = register(user=user).exclude(status=Risk.Status.CLOSED)
    risks = risks.filter(Q(next_review_on__lte=today) | Q(next_review_on__isnull=True))
    if not everyone:
        risks = risks.filter(owner=user)
    return risks


def risks_due(*, today: dt.date) -> Any:
    """Risks not closed whose review date has come (or that never got one)."""
    return Risk.objects.exclude(status=Risk.Status.CLOSED).filter(
        Q(next_review_on__lte=today) | Q(next_review_on__isnull=True)
    )
