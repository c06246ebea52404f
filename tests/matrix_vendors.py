"""Permission-matrix rows of keeping vendors and modules in the app (#18; collected by
tests/test_permissions.py). Vendors: IT admins only. Modules: IT admins, and the head and the
software admin of the subscription's department; head B gets 404 for department A's (it does
not exist for them); finance, auditors and employees 403. The API's rows: tests/matrix_api.py."""

from __future__ import annotations

from django.utils import timezone

from renewals.inventory.models import Module, Vendor
from tests.conftest import Cast
from tests.matrix_common import LOGIN, ROLES, Row

IT_ONLY = {r: 403 for r in ROLES} | {"anonymous": LOGIN, "it_admin": 200}
IT_ONLY_POST = IT_ONLY | {"it_admin": 302}
MODULE_EDIT = {r: 403 for r in ROLES} | {
    "anonymous": LOGIN, "it_admin": 200, "head_a": 200, "software_admin": 200, "head_b": 404,
}  # fmt: skip
MODULE_EDIT_POST = MODULE_EDIT | {"it_admin": 302, "head_a": 302, "software_admin": 302}


def _fresh_vendor(c: Cast, *, archived: bool = False) -> dict[str, object]:
    """A vendor no subscription names (so it may be archived), one per role."""
    vendor = Vendor.objects.create(
        name=f"Matrix vendor {Vendor.objects.count()}",
        archived_at=timezone.now() if archived else None,
    )
    return {"pk": vendor.pk}


def _fresh_module(c: Cast, *, archived: bool = False) -> dict[str, object]:
    """A module of department A's subscription, one per role."""
    module = Module.objects.create(
        subscription=c.subscription_a,
        name=f"Matrix module {Module.objects.count()}",
        archived_at=timezone.now() if archived else None,
    )
    return {"pk": module.pk}


ROWS: dict[str, Row] = {
    "renewals:vendor-add": Row(IT_ONLY),
    "renewals:vendor-edit": Row(IT_ONLY, kwargs=lambda c: {"pk": c.subscription_a.vendor_id}),
    "renewals:vendor-archive": Row(IT_ONLY_POST, method="post", kwargs=_fresh_vendor),
    "renewals:vendor-restore": Row(
        IT_ONLY_POST, method="post", kwargs=lambda c: _fresh_vendor(c, archived=True)
    ),
    "renewals:module-add": Row(MODULE_EDIT, kwargs=lambda c: {"pk": c.subscription_a.pk}),
    "renewals:module-edit": Row(MODULE_EDIT, kwargs=_fresh_module),
    "renewals:module-archive": Row(MODULE_EDIT_POST, method="post", kwargs=_fresh_module),
    "renewals:module-restore": Row(
        MODULE_EDIT_POST, method="post", kwargs=lambda c: _fresh_module(c, archived=True)
    ),
}
