"""A subscription's modules kept by hand: add, change (name, unit price, licensed seats),
archive and restore. IT admins, and heads and software admins for the subscriptions of the
departments they manage (org.scoping.managed_departments).

Archiving keeps the module's row, its usage and the seats that held it: the database leaves
archived modules out of the subscription's ``modules_cost`` (trigger of migration renewals 0019),
so the yearly cost drops at once. Every write locks the subscription's row first, so the seat
count a module is checked against and the names it is compared with cannot change meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.scoping import managed_departments
from renewals.inventory import rules
from renewals.inventory.models import Module, Subscription

MODULE_FIELDS = ("name", "unit_price", "licensed_seats")


def may_edit_modules(user: Any, subscription: Subscription) -> bool:
    """Whether the user changes this subscription's department's inventory."""
    return managed_departments(user).filter(pk=subscription.department_id).exists()


def _locked_subscription(user: Any, subscription_id: int) -> Subscription:
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    if not may_edit_modules(user, subscription):
        raise PermissionDenied(_("You may not change this subscription's modules."))
    if subscription.archived_at is not None:
        raise ValidationError(
            _("This subscription is archived: its modules can no longer change."),
            code="archived",
        )
    return subscription


def clean_module(
    data: Mapping[str, Any], *, subscription: Subscription, current: Module | None = None
) -> dict[str, Any]:
    """The module's fields after the rules (current values where ``data`` has none), every
    refused field named."""
    checks = {
        "name": lambda v: rules.clean_name(v, label=_("Name"), max_length=rules.MODULE_NAME_MAX),
        "unit_price": lambda v: rules.check_amount(v, _("Unit price")),
        "licensed_seats": lambda v: rules.check_module_seats(v, subscription.seats_purchased),
    }
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[ValidationError]] = {}
    for field, check in checks.items():
        raw = data[field] if field in data else getattr(current, field, None)
        try:
            cleaned[field] = check(raw)
        except ValidationError as exc:
            errors[field] = [exc]
    if "name" in cleaned:
        exclude = current.pk if current is not None else None
        try:
            rules.check_module_name_free(subscription, cleaned["name"], exclude=exclude)
        except ValidationError as exc:
            errors["name"] = [exc]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def module_create(*, user: Any, subscription: Subscription, data: Mapping[str, Any]) -> Module:
    """Add a module (name, unit price or empty when included, licensed seats or empty for
    every seat) to ``subscription``."""
    locked = _locked_subscription(user, subscription.pk)
    module = Module(subscription=locked, **clean_module(data, subscription=locked))
    module.full_clean()
    module.save()
    return module


@transaction.atomic
def module_update(*, user: Any, module: Module, data: Mapping[str, Any]) -> Module:
    """Change the fields given in ``data``; the others keep their values. An archived module
    is restored first (it cannot change while archived)."""
    locked_sub = _locked_subscription(user, module.subscription_id)
    locked = Module.objects.select_for_update().get(pk=module.pk)
    if locked.archived_at is not None:
        raise ValidationError(
            _("This module is archived: restore it before changing it."), code="archived"
        )
    values = clean_module(data, subscription=locked_sub, current=locked)
    changed = [f for f in MODULE_FIELDS if getattr(locked, f) != values[f]]
    for field in changed:
        setattr(locked, field, values[field])
    if changed:
        locked.full_clean()
        locked.save(update_fields=changed)
    return locked


@transaction.atomic
def module_archive(*, user: Any, module: Module) -> Module:
    """No longer bought: out of the cost and of the seat pickers, history kept."""
    _locked_subscription(user, module.subscription_id)
    locked = Module.objects.select_for_update().get(pk=module.pk)
    if locked.archived_at is None:
        locked.archived_at = timezone.now()
        locked.save(update_fields=["archived_at"])
    return locked


@transaction.atomic
def module_restore(*, user: Any, module: Module) -> Module:
    """Bought again: back in the cost (its licensed seats checked against today's seats)."""
    subscription = _locked_subscription(user, module.subscription_id)
    locked = Module.objects.select_for_update().get(pk=module.pk)
    if locked.archived_at is not None:
        try:
            rules.check_module_seats(locked.licensed_seats, subscription.seats_purchased)
        except ValidationError as exc:
            raise ValidationError({"licensed_seats": [exc]}) from None
        locked.archived_at = None
        locked.save(update_fields=["archived_at"])
    return locked
