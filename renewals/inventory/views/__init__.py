"""The inventory's pages: the lists (``lists``), and the forms that add and edit vendors,
subscriptions and modules (one module each)."""

from renewals.inventory.views.lists import subscription_list, vendor_detail, vendor_list
from renewals.inventory.views.modules import (
    module_add,
    module_archive,
    module_edit,
    module_restore,
)
from renewals.inventory.views.subscriptions import subscription_add, subscription_edit
from renewals.inventory.views.vendors import (
    vendor_add,
    vendor_archive,
    vendor_edit,
    vendor_restore,
)

__all__ = [
    "module_add",
    "module_archive",
    "module_edit",
    "module_restore",
    "subscription_add",
    "subscription_edit",
    "subscription_list",
    "vendor_add",
    "vendor_archive",
    "vendor_detail",
    "vendor_edit",
    "vendor_list",
    "vendor_restore",
]
