"""The inventory's pages: the lists (``lists``), and the forms that add and edit vendors,
subscriptions and modules (one module each)."""

from renewals.inventory.views.lists import subscription_list, vendor_detail, vendor_list

__all__ = ["subscription_list", "vendor_detail", "vendor_list"]
