"""Writes of the inventory: the term roll-over other features ask for (``terms``), and the
editing of vendors, subscriptions and modules (one module each)."""

from renewals.inventory.services.modules import (
    module_archive,
    module_create,
    module_restore,
    module_update,
)
from renewals.inventory.services.terms import (
    ModuleLine,
    NewTerm,
    PaidTerm,
    subscription_roll_over,
)
from renewals.inventory.services.vendors import (
    vendor_archive,
    vendor_create,
    vendor_restore,
    vendor_update,
)

__all__ = [
    "ModuleLine",
    "NewTerm",
    "PaidTerm",
    "module_archive",
    "module_create",
    "module_restore",
    "module_update",
    "subscription_roll_over",
    "vendor_archive",
    "vendor_create",
    "vendor_restore",
    "vendor_update",
]
