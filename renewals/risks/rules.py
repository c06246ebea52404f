"""The rule vocabulary of the risk register (风险清单): the names of the rules that generate risks,
their labels, the conditions each rule finds, and the queries that find them.

Each rule is one small query returning the conditions that hold today, keyed by (rule, key).
``renewals.risks.services.risks_refresh`` raises and closes risks from them; the selectors use the
names (``Rule``, ``LIVE``) to scope and render generated risks. This module imports neither.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from org.models import Department, Person, User
from org.roles import Role
from renewals.inventory.models import LIVE_STATUSES, Subscription
from renewals.inventory.overlap import Kind, find_overlaps
from renewals.requests.models.requests import RenewalRequest
from renewals.risks.models import RiskCategory
from renewals.usage.models import Seat


class Rule:
    """Names of the rules that generate risks (stored in ``Risk.rule``)."""

    CONTRACT_TRAP = "auto_renew_deadline"
    DEPARTED_HOLDER = "departed_holder"
    NO_OWNER = "no_owner"
    EDITIONS = "edition_mismatch"
    EXPIRED = "expired_undecided"
    OVERLAP = "overlapping_tools"
    DUPLICATE = "duplicate_purchase"


RULE_LABELS: dict[str, Any] = {
    Rule.CONTRACT_TRAP: _("Auto-renewal with a cancellation deadline within 30 days"),
    Rule.DEPARTED_HOLDER: _("Seat still held by someone who left"),
    Rule.NO_OWNER: _("Active subscription without an active owner"),
    Rule.EDITIONS: _("Different editions of one product across departments"),
    Rule.EXPIRED: _("Expired without a renewal decision"),
    Rule.OVERLAP: _("Several tools of one category are paid for"),
    Rule.DUPLICATE: _("One product bought by several departments"),
}

# Days ahead the contract-trap rule looks for cancellation deadlines.
DEADLINE_WINDOW_DAYS = 30
# Subscriptions that are still in use (the one definition is the inventory's).
LIVE = LIVE_STATUSES


@dataclass(frozen=True)
class Condition:
    """One condition found by a rule today: what the raised risk will look like."""

    rule: str
    key: str
    category: str
    likelihood: int
    impact: int
    subscription_id: int | None
    department_id: int | None
    owner_id: int | None
    review_on: dt.date


# --- Owners -------------------------------------------------------------------------------


def _department_heads() -> dict[int, int]:
    """The first active head (lowest id) of every department: one query."""
    heads: dict[int, int] = {}
    rows = Department.heads.through.objects.filter(user__is_active=True).order_by(
        "department_id", "user_id"
    )
    for department_id, user_id in rows.values_list("department_id", "user_id"):
        heads.setdefault(department_id, user_id)
    return heads


def _subscription_owner(
    sub: dict[str, Any], heads: dict[int, int]
) -> int | None:  # owner, else a head of the department, else nobody
    if sub["owner_id"] and sub["owner__is_active"]:
        return int(sub["owner_id"])
    return heads.get(sub["department_id"])


# --- Rules: each one query, returning the conditions that hold on ``today`` ----------------

SUB_FIELDS = ("pk", "department_id", "owner_id", "owner__is_active")


def _rule_contract_trap(today: dt.date, heads: dict[int, int]) -> list[Condition]:
    """Auto-renewing, not ending at term end, cancellation deadline in the next 30 days."""
    rows = Subscription.objects.filter(
        status=Subscription.Status.ACTIVE,
        auto_renew=True,
        ends_at_term_end=False,
        cancellation_deadline__gte=today,
        cancellation_deadline__lte=today + dt.timedelta(days=DEADLINE_WINDOW_DAYS),
    ).values(*SUB_FIELDS, "cancellation_deadline")
    return [
        Condition(
            Rule.CONTRACT_TRAP,
            str(s["pk"]),
            RiskCategory.CONTRACT_TRAP,
            4,
            3,
            s["pk"],
            s["department_id"],
            _subscription_owner(s, heads),
            # Reviewed a week before the deadline (or now when it is closer than that).
            max(today, s["cancellation_deadline"] - dt.timedelta(days=7)),
        )  # fmt: skip
        for s in rows
    ]


def _rule_departed_holder(today: dt.date, heads: dict[int, int]) -> list[Condition]:
    """A seat not revoked whose holder has left (key: the seat)."""
    rows = Seat.objects.filter(revoked_on__isnull=True, person__status=Person.Status.LEFT).values(
        "pk", "subscription_id", "subscription__department_id", "subscription__owner_id",
        "subscription__owner__is_active",
    )  # fmt: skip
    return [
        Condition(
            Rule.DEPARTED_HOLDER,
            str(s["pk"]),
            RiskCategory.ACCOUNT_CHAOS,
            3,
            4,
            s["subscription_id"],
            s["subscription__department_id"],
            _subscription_owner(
                {
                    "owner_id": s["subscription__owner_id"],
                    "owner__is_active": s["subscription__owner__is_active"],
                    "department_id": s["subscription__department_id"],
                },
                heads,
            ),
            today + dt.timedelta(days=14),
        )  # fmt: skip
        for s in rows
    ]


def _rule_no_owner(today: dt.date, heads: dict[int, int]) -> list[Condition]:
    """A live subscription without an owner, or whose owner's account is deactivated."""
    rows = Subscription.objects.filter(
        Q(owner__isnull=True) | Q(owner__is_active=False), status__in=LIVE
    ).values("pk", "department_id")
    return [
        Condition(
            Rule.NO_OWNER,
            str(s["pk"]),
            RiskCategory.FORGOTTEN_RENEWAL,
            3,
            3,
            s["pk"],
            s["department_id"],
            heads.get(s["department_id"]),
            today + dt.timedelta(days=14),
        )  # fmt: skip
        for s in rows
    ]


def _it_owner() -> int | None:
    """The first active IT admin: owns the risks that belong to no single department."""
    return (
        User.objects.filter(is_active=True, groups__name=Role.IT_ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def edition_key(vendor_id: int, product: str) -> str:
    """The key of one product: vendor and the product name's hash (names are up to 120 chars)."""
    digest = hashlib.sha256(product.lower().encode()).hexdigest()[:16]
    return f"{vendor_id}:{digest}"


def _rule_editions(today: dt.date, heads: dict[int, int]) -> list[Condition]:
    """The same vendor and product (case-insensitive) bought in different (non-empty) editions
    by live subscriptions. The risk belongs to no single department; its subscription is the
    group's first (an anchor for the vendor and product names); IT owns it."""
    groups = (
        Subscription.objects.filter(status__in=LIVE)
        .exclude(edition="")
        .annotate(name=Lower("product"))
        .values("vendor_id", "name")
        .annotate(editions=Count(Lower("edition"), distinct=True))
        .filter(editions__gt=1)
    )
    if not groups:
        return []
    it_owner = _it_owner()
    wanted = Q()
    for g in groups:
        wanted |= Q(vendor_id=g["vendor_id"], product__iexact=g["name"])
    anchors: dict[str, int] = {}
    for pk, vendor_id, product in (
        Subscription.objects.filter(wanted, status__in=LIVE)
        .exclude(edition="")
        .order_by("pk")
        .values_list("pk", "vendor_id", "product")
    ):
        anchors.setdefault(edition_key(vendor_id, product), pk)
    return [
        Condition(
            Rule.EDITIONS,
            key,
            RiskCategory.VERSION_INCONSISTENCY,
            3,
            2,
            anchor,
            None,
            it_owner,
            today + dt.timedelta(days=30),
        )  # fmt: skip
        for key, anchor in anchors.items()
    ]


def _rule_expired(today: dt.date, heads: dict[int, int]) -> list[Condition]:
    """Expired (term ended), nobody decided not to renew, and no renewal request under way."""
    under_way = RenewalRequest.objects.filter(
        subscription=OuterRef("pk"), status__in=RenewalRequest.OPEN
    )
    rows = (
        Subscription.objects.filter(
            status=Subscription.Status.EXPIRED, term_end__lt=today, ends_at_term_end=False
        )
        .filter(~Exists(under_way))
        .values(*SUB_FIELDS)
    )
    return [
        Condition(
            Rule.EXPIRED,
            str(s["pk"]),
            RiskCategory.FORGOTTEN_RENEWAL,
            4,
            4,
            s["pk"],
            s["department_id"],
            _subscription_owner(s, heads),
            today + dt.timedelta(days=7),
        )  # fmt: skip
        for s in rows
    ]


def _rule_overlaps(today: dt.date, heads: dict[int, int]) -> list[Condition]:
    """Overlapping tools (key: the category) and duplicate purchases (key: the product,
    ``renewals.inventory.overlap.product_key``), as the findings page shows them. A group in
    one department belongs to it (its head owns the risk); a group across departments belongs
    to none and IT owns it. Its subscription is the tool the others would move onto."""
    groups = find_overlaps(today=today)
    if not groups:
        return []
    it_owner = _it_owner()
    found = []
    for group in groups:
        departments = group.department_ids
        department = next(iter(departments)) if len(departments) == 1 else None
        category = group.kind == Kind.CATEGORY
        found.append(
            Condition(
                Rule.OVERLAP if category else Rule.DUPLICATE,
                group.key,
                RiskCategory.OTHER,
                4,
                2,
                group.target.main.pk,
                department,
                (heads.get(department) or it_owner) if department else it_owner,
                today + dt.timedelta(days=30),
            )
        )
    return found


RULES: tuple[Callable[[dt.date, dict[int, int]], list[Condition]], ...] = (
    _rule_contract_trap,
    _rule_departed_holder,
    _rule_no_owner,
    _rule_editions,
    _rule_expired,
    _rule_overlaps,
)


RuleFunction = Callable[[dt.date, dict[int, int]], list[Condition]]
# Rules an app above renewals adds (integrations: unknown accounts, seats over the purchase),
# registered when the apps are ready; see ``register_rule``.
_REGISTERED: dict[str, RuleFunction] = {}
# A registered rule's risk title and description: (subscription name, department, key) -> texts.
TextsFunction = Callable[[str, str, str], tuple[str, str]]
REGISTERED_TEXTS: dict[str, TextsFunction] = {}


def register_rule(
    name: str, label: Any, rule: RuleFunction, texts: TextsFunction | None = None
) -> None:
    """Add a rule whose conditions are named ``name`` (its risks' ``rule``), shown as ``label``;
    ``texts`` words its risks (else the label and the subscription name)."""
    RULE_LABELS[name] = label
    _REGISTERED[name] = rule
    if texts is not None:
        REGISTERED_TEXTS[name] = texts


def owner_of(subscription: dict[str, Any], heads: dict[int, int]) -> int | None:
    """A rule's owner for a subscription's risk: its owner, else a head of its department
    (``subscription``: pk-less values with owner_id, owner__is_active, department_id)."""
    return _subscription_owner(subscription, heads)


def conditions_today(today: dt.date) -> dict[tuple[str, str], Condition]:
    """Every condition that holds on ``today``, by (rule, key)."""
    heads = _department_heads()
    found: dict[tuple[str, str], Condition] = {}
    for rule in (*RULES, *_REGISTERED.values()):
        for condition in rule(today, heads):
            found[(condition.rule, condition.key)] = condition
    return found
