"""What the company already has, shown before a new tool is bought: the same product in any
department (with its free seats and utilisation: joining it may do instead), and the live tools
of the same category. One query whatever the size of the inventory."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from renewals.inventory.models import LIVE_STATUSES, Subscription
from renewals.inventory.selectors import with_figures

# The panel lists at most this many tools (the most used first).
LIMIT = 30


@dataclass
class AlreadyHas:
    """The live subscriptions of the same product and those of the same category."""

    same_product: list[Subscription] = field(default_factory=list)
    same_category: list[Subscription] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.same_product or self.same_category)


def already_has(
    *, vendor_name: str, product: str, category: str = "", exclude_pk: int | None = None
) -> AlreadyHas:
    """Live subscriptions of ``product`` by ``vendor_name`` (both case-insensitive) in every
    department, and live tools of ``category``, with their figures (seats used, free seats,
    utilisation), in one query."""
    vendor_name, product = " ".join(vendor_name.split()), " ".join(product.split())
    same = Q(vendor__name__iexact=vendor_name, product__iexact=product) if product else Q(pk=None)
    wanted = same | Q(category=category) if category else same
    if not product and not category:
        return AlreadyHas()
    candidates = Subscription.objects.filter(wanted).filter(
        status__in=LIVE_STATUSES, archived_at__isnull=True
    )
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    rows = list(
        with_figures(candidates.select_related("vendor", "department")).order_by(
            "-seats_purchased", "pk"
        )[:LIMIT]
    )
    result = AlreadyHas()
    for sub in rows:
        is_same = (
            bool(product)
            and sub.vendor.name.casefold() == vendor_name.casefold()
            and sub.product.casefold() == product.casefold()
        )
        (result.same_product if is_same else result.same_category).append(sub)
    return result
