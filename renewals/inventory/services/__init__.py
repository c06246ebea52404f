"""Writes of the inventory: the term roll-over other features ask for (``terms``), and the
editing of vendors, subscriptions and modules (one module each)."""

from renewals.inventory.services.terms import (
    ModuleLine,
    NewTerm,
    PaidTerm,
    subscription_roll_over,
)

__all__ = ["ModuleLine", "NewTerm", "PaidTerm", "subscription_roll_over"]
