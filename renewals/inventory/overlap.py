"""Overlapping tools: what the company pays for twice.

Two kinds, both over the live subscriptions (active or renewing, not archived):

- **category overlaps**: a category (``Subscription.category``) in which two or more different
  products (vendor + product name, case-insensitive) are live, in one department or several
  (the demo's Jira / Asana / ClickUp / Monday / Teambition: all project management);
- **duplicate purchases**: one product live in two or more departments, each paying for it.

The projected saving of consolidating a group: the users of the smaller tools move onto the
largest one (most active users). A *tool* is a product in a category overlap (all its
subscriptions together) and a subscription in a duplicate purchase. The target price is the
seat's yearly price of the largest tool's largest subscription (the one the users would join):

    saving = Σ yearly cost of the smaller tools − (their active users × target seat yearly price)

never below zero. Active users are those of the latest monthly usage report; a subscription
that never reported usage counts its assigned seats. Money is in the base currency at the
recorded rates (``Subscription.annual_cost`` / ``seat_annual_cost``): a subscription whose
currency has no rate has no cost, so it is left out of the saving (and said so). Migration and
training costs are not counted.

A duplicate purchase whose product is one of the smaller tools of a category overlap is already
moved, whole, by that overlap's saving: it is shown but not added to the total (``counted``).

Two queries whatever the size of the inventory: the live subscriptions of the groups, with
their figures, and (for users who do not see every department) the departments they see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext, ngettext, pgettext

from core.money import format_money
from org.roles import SEE_ALL_ROLES, roles_of
from org.scoping import visible_departments
from renewals.inventory.models import LIVE_STATUSES_SQL, Subscription
from renewals.inventory.models.subscriptions import Category
from renewals.inventory.selectors import with_figures

ZERO = Decimal(0)
CENT = Decimal("0.01")


class Kind:
    CATEGORY = "category"
    DUPLICATE = "duplicate"


# The live subscriptions in a group: a category with two or more different products, or a
# product live in two or more departments. One query (the subscriptions are then loaded with
# their figures by primary key).
_GROUPED_SQL = f"""
WITH live AS (
    SELECT id, category, vendor_id, lower(product) AS product, department_id
    FROM renewals_subscription
    WHERE status IN {LIVE_STATUSES_SQL} AND archived_at IS NULL
), categories AS (
    SELECT category FROM live WHERE category <> ''
    GROUP BY category HAVING COUNT(DISTINCT (vendor_id, product)) > 1
), products AS (
    SELECT vendor_id, product FROM live
    GROUP BY vendor_id, product HAVING COUNT(DISTINCT department_id) > 1
)
SELECT id FROM live
WHERE category IN (SELECT category FROM categories)
   OR (vendor_id, product) IN (SELECT vendor_id, product FROM products)
"""


def product_key(vendor_id: int, product: str) -> str:
    """One product's key: the vendor and a hash of its lower-cased name (names run to 120
    characters; the risk register keeps the key)."""
    digest = hashlib.sha256(product.strip().lower().encode()).hexdigest()[:16]
    return f"{vendor_id}:{digest}"


def active_of(sub: Subscription) -> int:
    """The subscription's active users: the latest usage report, else its assigned seats."""
    active = getattr(sub, "active_users", None)
    if active is None:
        active = getattr(sub, "used_seats", None)
    return int(active or 0)


@dataclass
class Tool:
    """One tool of a group: a product (category overlap) or a subscription (duplicate)."""

    name: str
    subscriptions: list[Subscription]

    @property
    def active_users(self) -> int:
        return sum(active_of(s) for s in self.subscriptions)

    @property
    def seats(self) -> int:
        return sum(s.seats_purchased for s in self.subscriptions)

    @property
    def yearly_cost(self) -> Decimal | None:
        """In the base currency; None when a subscription's currency has no recorded rate."""
        costs = [s.annual_cost for s in self.subscriptions]
        if any(c is None for c in costs):
            return None
        return sum((c for c in costs if c is not None), start=ZERO)

    @property
    def main(self) -> Subscription:
        """The subscription users would join: most active users, then most seats, then oldest."""
        return min(self.subscriptions, key=lambda s: (-active_of(s), -s.seats_purchased, s.pk))

    @property
    def department_ids(self) -> set[int]:
        return {s.department_id for s in self.subscriptions}

    def order(self) -> tuple[int, int, str]:
        return (-self.active_users, -self.seats, self.name)


@dataclass(frozen=True)
class Row:
    """One subscription of a group as a page shows it."""

    tool: Tool
    subscription: Subscription
    may_open: bool  # the reader may open its page; else it is named, its figures not shown
    target: bool  # the subscription the others' users would join (the target tool's main)

    @property
    def active_users(self) -> int:
        return active_of(self.subscription)


@dataclass
class Overlap:
    """A category overlap or a duplicate purchase, with the projected saving of consolidating."""

    kind: str
    key: str
    label: str
    tools: list[Tool]  # largest first: tools[0] is the one the others move onto
    counted: bool = True  # added to the total saving (see the module's docstring)
    # Set per reader by ``overlaps_for``: the departments the reader sees (None: all).
    seen: frozenset[int] | None = field(default=None, repr=False)

    @property
    def target(self) -> Tool:
        return self.tools[0]

    @property
    def others(self) -> list[Tool]:
        return self.tools[1:]

    @property
    def subscriptions(self) -> list[Subscription]:
        return [s for tool in self.tools for s in tool.subscriptions]

    @property
    def department_ids(self) -> set[int]:
        return {s.department_id for s in self.subscriptions}

    @property
    def departments(self) -> list[str]:
        return sorted({s.department.name for s in self.subscriptions})

    @property
    def seat_price(self) -> Decimal | None:
        """What a seat of the target costs a year (its main subscription's seat)."""
        return self.target.main.seat_annual_cost

    @property
    def priced_others(self) -> list[Tool]:
        """The smaller tools whose yearly cost is known (the others cannot be priced)."""
        return [t for t in self.others if t.yearly_cost is not None]

    @property
    def moved_users(self) -> int:
        return sum(t.active_users for t in self.priced_others)

    @property
    def saving(self) -> Decimal | None:
        """Yearly, in the base currency, never negative; None when the target has no price."""
        price = self.seat_price
        if price is None:
            return None
        cost = sum((t.yearly_cost or ZERO for t in self.priced_others), start=ZERO)
        return max(ZERO, cost - self.moved_users * price).quantize(CENT)

    @property
    def unpriced(self) -> list[Tool]:
        return [t for t in self.others if t.yearly_cost is None]

    def may_open(self, sub: Subscription) -> bool:
        """Whether the reader may open the subscription's page (its department is one they see)."""
        return self.seen is None or sub.department_id in self.seen

    @property
    def rows(self) -> list[Row]:
        """Every subscription of the group, tool by tool (the target first)."""
        return [
            Row(tool, sub, self.may_open(sub), index == 0 and sub == tool.main)
            for index, tool in enumerate(self.tools)
            for sub in sorted(tool.subscriptions, key=lambda s: (-active_of(s), s.pk))
        ]

    @property
    def assumptions(self) -> str:
        """The saving's assumptions, in the active language."""
        separator = pgettext("list separator", ", ")
        price = self.seat_price
        if price is None:
            return gettext(
                "No saving is worked out: %(target)s's currency has no recorded exchange rate."
            ) % {"target": self.target.name}
        text = ngettext(
            "Moves %(count)s active user of %(others)s onto %(target)s at %(price)s %(currency)s "
            "per seat a year; ignores migration and training cost.",
            "Moves %(count)s active users of %(others)s onto %(target)s at %(price)s "
            "%(currency)s per seat a year; ignores migration and training cost.",
            self.moved_users,
        ) % {
            "count": self.moved_users,
            "others": separator.join(t.name for t in self.priced_others) or "—",
            "target": self.target.name,
            "price": format_money(price),
            "currency": settings.BASE_CURRENCY,
        }
        if self.unpriced:
            text += " " + gettext("Left out (no recorded exchange rate): %(tools)s.") % {
                "tools": separator.join(t.name for t in self.unpriced)
            }
        if not self.counted:
            text += " " + gettext(
                "Not added to the total: the category overlap already moves these users."
            )
        return text


def _category_groups(subs: list[Subscription]) -> list[Overlap]:
    by_category: dict[str, dict[str, list[Subscription]]] = {}
    for sub in subs:
        if sub.category:
            products = by_category.setdefault(sub.category, {})
            products.setdefault(product_key(sub.vendor_id, sub.product), []).append(sub)
    labels = dict(Category.choices)
    groups = []
    for category, by_product in by_category.items():
        if len(by_product) < 2:
            continue
        tools = sorted(
            (Tool(rows[0].display_name, rows) for rows in by_product.values()), key=Tool.order
        )
        groups.append(Overlap(Kind.CATEGORY, category, str(labels.get(category, category)), tools))
    return groups


def _duplicate_groups(subs: list[Subscription]) -> list[Overlap]:
    by_product: dict[str, list[Subscription]] = {}
    for sub in subs:
        by_product.setdefault(product_key(sub.vendor_id, sub.product), []).append(sub)
    groups = []
    for key, rows in by_product.items():
        if len({s.department_id for s in rows}) < 2:
            continue
        tools = sorted(
            (Tool(f"{s.display_name} · {s.department.name}", [s]) for s in rows), key=Tool.order
        )
        groups.append(Overlap(Kind.DUPLICATE, key, rows[0].display_name, tools))
    return groups


def find_overlaps(*, today: dt.date | None = None) -> list[Overlap]:
    """Every overlap in the company, category overlaps first, largest saving first in each."""
    today = today or timezone.localdate()
    subs = list(
        with_figures(
            Subscription.objects.filter(pk__in=RawSQL(_GROUPED_SQL, ())), today=today
        ).select_related("vendor", "department")
    )
    categories = _category_groups(subs)
    moved = {
        product_key(s.vendor_id, s.product)
        for group in categories
        for tool in group.others
        for s in tool.subscriptions
    }
    duplicates = _duplicate_groups(subs)
    for group in duplicates:
        group.counted = group.key not in moved

    def order(group: Overlap) -> tuple[Decimal, str]:
        return (-(group.saving or ZERO), group.label)

    return sorted(categories, key=order) + sorted(duplicates, key=order)


def involving(overlaps: Iterable[Overlap], departments: Iterable[int] | None) -> list[Overlap]:
    """The overlaps with a subscription in one of ``departments`` (None: every overlap)."""
    if departments is None:
        return list(overlaps)
    wanted = set(departments)
    return [group for group in overlaps if group.department_ids & wanted]


def seen_departments(user: Any) -> frozenset[int] | None:
    """The departments the user sees, None for the roles that see every department."""
    if roles_of(user) & SEE_ALL_ROLES:
        return None
    return frozenset(visible_departments(user).values_list("pk", flat=True))


def overlaps_for(*, user: Any, today: dt.date | None = None) -> list[Overlap]:
    """The overlaps involving a department the user sees; each knows which of its
    subscriptions the user may open (``may_open``): the others are named, not linked."""
    seen = seen_departments(user)
    groups = involving(find_overlaps(today=today), seen)
    for group in groups:
        group.seen = seen
    return groups


def total_saving(overlaps: Iterable[Overlap]) -> Decimal:
    """The yearly saving of the overlaps counted in totals (see ``Overlap.counted``)."""
    return sum((g.saving or ZERO for g in overlaps if g.counted), start=ZERO)
