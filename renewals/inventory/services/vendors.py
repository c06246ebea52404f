"""Keeping the vendor list: add, change, archive and restore a vendor (IT admins only).

A vendor is never deleted: subscriptions, quotes and past terms name it. Archiving takes it out
of the list and of every picker, and is refused while a subscription that is not archived
still names it. Names are unique whatever their case (renewals.inventory.rules).

Races, closed in the database:
- two people adding "Atlassian" and "atlassian" at once: both take a transaction-level
  advisory lock on the lower-cased name before checking, so the second sees the first's row;
- archiving while someone adds a subscription of the vendor: the archive locks the vendor's
  row FOR UPDATE, which a new subscription's foreign key (FOR KEY SHARE) waits for, and counts
  the subscriptions after it holds the lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from org.roles import Role, has_role
from renewals.inventory import rules
from renewals.inventory.models import Subscription, Vendor

VENDOR_FIELDS = ("name", "website", "contacts", "notes")


def may_edit_vendors(user: Any) -> bool:
    """Vendors are shared by every department: only IT admins keep them."""
    return has_role(user, Role.IT_ADMIN)


def _require_editor(user: Any) -> None:
    if not may_edit_vendors(user):
        raise PermissionDenied(_("Only IT admins may change vendors."))


def clean_vendor(data: Mapping[str, Any], *, current: Vendor | None = None) -> dict[str, str]:
    """The vendor's fields after the rules, the current values where ``data`` has none; every
    refused field named (one ValidationError with a message per field)."""
    checks = {
        "name": lambda v: rules.clean_name(v, label=_("Name"), max_length=rules.VENDOR_NAME_MAX),
        "website": rules.check_website,
        "contacts": lambda v: rules.clean_text(v, label=_("Contacts"), max_length=rules.TEXT_MAX),
        "notes": lambda v: rules.clean_text(v, label=_("Notes"), max_length=rules.TEXT_MAX),
    }
    cleaned: dict[str, str] = {}
    errors: dict[str, list[ValidationError]] = {}
    for field, check in checks.items():
        if field in data:
            raw = data[field]
        else:
            raw = getattr(current, field) if current is not None else ""
        try:
            cleaned[field] = check(raw)
        except ValidationError as exc:
            errors[field] = [exc]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _lock_name(name: str) -> None:
    """Serialise the writers of one name (case-insensitively) until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", ["renewals.vendor:" + name.lower()]
        )


def _check_name(name: str, *, exclude: int | None) -> None:
    try:
        rules.check_vendor_name_free(name, exclude=exclude)
    except ValidationError as exc:
        raise ValidationError({"name": [exc]}) from None


@transaction.atomic
def vendor_create(*, user: Any, data: Mapping[str, Any]) -> Vendor:
    """Add a vendor with ``data`` (name, website, contacts, notes)."""
    _require_editor(user)
    values = clean_vendor(data)
    _lock_name(values["name"])
    _check_name(values["name"], exclude=None)
    vendor = Vendor(**values)
    vendor.full_clean()
    vendor.save()
    return vendor


@transaction.atomic
def vendor_update(*, user: Any, vendor: Vendor, data: Mapping[str, Any]) -> Vendor:
    """Change the fields given in ``data``; the others keep their values."""
    _require_editor(user)
    locked = Vendor.objects.select_for_update().get(pk=vendor.pk)
    values = clean_vendor(data, current=locked)
    if values["name"].lower() != locked.name.lower():
        _lock_name(values["name"])
    _check_name(values["name"], exclude=locked.pk)
    changed = [f for f in VENDOR_FIELDS if getattr(locked, f) != values[f]]
    for field in changed:
        setattr(locked, field, values[field])
    if changed:
        locked.full_clean()
        locked.save(update_fields=changed)
    return locked


def vendor_for_name(name: str) -> Vendor:
    """The vendor a typed name means, inside the caller's transaction (a renewal switching to
    another vendor's quote): the one of that name whatever its case, brought back if it was
    archived (the company buys from it again), or a new one."""
    cleaned = " ".join(name.replace("\x00", "").split())[: rules.VENDOR_NAME_MAX]
    _lock_name(cleaned)
    existing = (
        Vendor.objects.filter(name__iexact=cleaned)
        .order_by(F("archived_at").asc(nulls_first=True), "pk")
        .first()
    )
    if existing is None:
        vendor = Vendor(name=cleaned)
        vendor.full_clean()
        vendor.save()
        return vendor
    if existing.archived_at is not None:
        existing.archived_at = None
        existing.save(update_fields=["archived_at"])
    return existing


def open_subscription_count(vendor: Vendor) -> int:
    """Subscriptions of the vendor that are not archived (proposed ones included)."""
    return Subscription.objects.filter(vendor=vendor, archived_at__isnull=True).count()


@transaction.atomic
def vendor_archive(*, user: Any, vendor: Vendor) -> Vendor:
    """Take the vendor out of the list and the pickers; refused while a subscription that is
    not archived names it (the message says how many)."""
    _require_editor(user)
    locked = Vendor.objects.select_for_update().get(pk=vendor.pk)
    if locked.archived_at is not None:
        return locked
    error = rules.vendor_archive_error(open_subscription_count(locked))
    if error is not None:
        raise error
    locked.archived_at = timezone.now()
    locked.save(update_fields=["archived_at"])
    return locked


@transaction.atomic
def vendor_restore(*, user: Any, vendor: Vendor) -> Vendor:
    """Bring an archived vendor back into the list and the pickers."""
    _require_editor(user)
    locked = Vendor.objects.select_for_update().get(pk=vendor.pk)
    if locked.archived_at is not None:
        locked.archived_at = None
        locked.save(update_fields=["archived_at"])
    return locked
