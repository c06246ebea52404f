"""Adding and editing subscriptions (the pages and the API call these): the rules of
renewals.inventory.rules, the department's scope, and no lost updates (the row's version).

Archiving is renewals.execution.services.subscription_archive: it revokes seats and stops the
pending alerts, which live above the inventory."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from pghistory.models import Events

from org.models import Department, User
from renewals.inventory import rules
from renewals.inventory.models import Subscription, Vendor
from renewals.inventory.policy import (
    FULL_FIELDS,
    editable_fields,
    may_create_subscription,
    recipient_candidates,
)
from renewals.inventory.selectors import active_seat_count

FOREIGN: dict[str, Any] = {"vendor": Vendor, "department": Department, "owner": User}
# The rules that read several fields: a change of any of them checks the group.
GROUPS = (("term_start", "term_end", "notice_period_days"), ("owner", "department"))


@dataclass(frozen=True)
class Change:
    """One field changed by someone else: its label, the value the editor saw, the value now."""

    field: str
    label: str
    seen: str
    now: str


class StaleEdit(ValidationError):
    """The subscription changed since the editor read it (its version moved): who changed it
    last, when, and what differs from what they saw."""

    def __init__(
        self,
        *,
        version: int,
        changed_by: User | None,
        changed_at: dt.datetime | None,
        changes: list[Change],
    ) -> None:
        who = changed_by.get_full_name() if changed_by else _("someone")
        super().__init__(
            _("Changed by %(who)s since you opened it; check the changes and save again.")
            % {"who": who},
            code="stale_edit",
        )
        self.version, self.changed_by, self.changed_at = version, changed_by, changed_at
        self.changes = changes


# --- Snapshots: what an editor saw, as JSON-able values (the form signs it into a hidden field).


def _raw(subscription: Subscription, field: str) -> Any:
    if field in FOREIGN:
        return getattr(subscription, f"{field}_id")
    if field == "alert_recipients":
        return sorted(subscription.alert_recipients.values_list("pk", flat=True))
    value = getattr(subscription, field)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return list(value) if isinstance(value, (list, tuple)) else value


def subscription_snapshot(subscription: Subscription) -> dict[str, Any]:
    """The edited fields' values as an editor sees them, comparable with a later snapshot."""
    return {field: _raw(subscription, field) for field in FULL_FIELDS}


def _shown(field: str, value: Any) -> str:
    """A snapshot's value in the reader's language: names, not ids; labels, not codes."""
    if value in (None, "", []):
        return "—"
    if field in FOREIGN:
        obj = FOREIGN[field].objects.filter(pk=value).first()
        if obj is None:
            return "—"
        return obj.get_full_name() if isinstance(obj, User) else str(getattr(obj, "name", obj))
    if field == "alert_recipients":
        users = User.objects.filter(pk__in=value).order_by("username")
        return ", ".join(u.get_full_name() for u in users)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    model_field: Any = Subscription._meta.get_field(field)
    choices = dict(getattr(model_field, "choices", None) or ())
    if isinstance(value, str) and value in choices:
        return str(choices[value])
    if field == "unit_price":
        return f"{Decimal(str(value)):,.2f}"
    return str(value)


def _label(field: str) -> str:
    model_field: Any = Subscription._meta.get_field(field)
    return str(capfirst(model_field.verbose_name))


def _seen_from_trail(subscription: Subscription, moved: int) -> dict[str, Any]:
    """What a client that sent an old version saw, read back from the audit trail: the value
    before the oldest of the last ``moved`` changes, for each field they changed (an API
    client sends no snapshot)."""
    events = Events.objects.tracks(subscription).filter(pgh_label="update")
    seen: dict[str, Any] = {}
    for event in events.order_by("-pgh_created_at", "-pgh_slug")[: max(moved, 1)]:
        for key, (old, _new) in (event.pgh_diff or {}).items():
            field = key.removesuffix("_id") if key.removesuffix("_id") in FOREIGN else key
            if field in FULL_FIELDS:
                seen[field] = old
    return seen


def stale_edit(
    subscription: Subscription, *, version: int, seen: dict[str, Any] | None
) -> StaleEdit:
    """The refusal of an edit made on ``version`` of a subscription that has moved on."""
    event = Events.objects.tracks(subscription).order_by("-pgh_created_at", "-pgh_slug").first()
    context = (event.pgh_context or {}) if event is not None else {}
    user_id = context.get("user")
    changed_by = User.objects.filter(pk=user_id).first() if isinstance(user_id, int) else None
    now = subscription_snapshot(subscription)
    if seen is None:
        seen = {**now, **_seen_from_trail(subscription, subscription.version - version)}
    changes = [
        Change(field, _label(field), _shown(field, seen.get(field)), _shown(field, now[field]))
        for field in FULL_FIELDS
        if field in seen and _comparable(field, seen[field]) != _comparable(field, now[field])
    ]
    return StaleEdit(
        version=subscription.version,
        changed_by=changed_by,
        changed_at=event.pgh_created_at if event is not None else None,
        changes=changes,
    )


def _comparable(field: str, value: Any) -> Any:
    if field == "unit_price" and value is not None:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    return value


# --- Writes


def _check(values: dict[str, Any], changed: set[str], *, active_seats: int) -> None:
    """The rules over the changed fields (and the groups they belong to)."""
    checked = set(changed)
    for group in GROUPS:
        if checked & set(group):
            checked |= set(group)
    rules.check_subscription(
        {field: values[field] for field in checked if field in values}, active_seats=active_seats
    )
    vendor = values.get("vendor")
    if "vendor" in changed and vendor is not None and vendor.archived_at is not None:
        raise ValidationError({"vendor": _("This vendor is archived; pick another one.")})
    recipients = values.get("alert_recipients")
    if "alert_recipients" in checked and recipients:
        allowed = set(recipient_candidates(values["department"]).values_list("pk", flat=True))
        if any(user.pk not in allowed for user in recipients):
            raise ValidationError(
                {"alert_recipients": _("Only people who may see this subscription can be alerted.")}
            )


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    for text in ("ref", "product", "edition", "notes"):
        if isinstance(values.get(text), str):
            values[text] = values[text].strip()
    if values.get("unit_price") is not None:
        values["unit_price"] = rules.check_unit_price(values["unit_price"])
    if isinstance(values.get("currency"), str):
        values["currency"] = values["currency"].strip().upper()
    if "tags" in values:
        values["tags"] = rules.check_tags(values["tags"] or [])
    if "alert_thresholds" in values:
        values["alert_thresholds"] = rules.check_thresholds(values["alert_thresholds"] or [])
    return values


def _save(subscription: Subscription, fields: list[str]) -> None:
    """Validate the model (unique reference, one live subscription per product and department)
    and save; a race lost to another writer's insert is the same clear refusal."""
    subscription.full_clean(exclude=["alert_recipients"], validate_unique=True)
    try:
        with transaction.atomic():
            if fields:
                subscription.save(update_fields=[*fields, "updated_at"])
            else:
                subscription.save()
    except IntegrityError:
        raise ValidationError(
            _(
                "Another subscription has this reference, or this department already has this product."
            )
        ) from None


@transaction.atomic
def subscription_create(*, user: Any, data: dict[str, Any]) -> Subscription:
    """Add a subscription (IT admins): every rule, then the row and its alert recipients."""
    if not may_create_subscription(user):
        raise PermissionDenied
    values = _normalise(data)
    unknown = set(values) - set(FULL_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    _check(values, set(values), active_seats=0)
    recipients = values.pop("alert_recipients", None) or []
    subscription = Subscription(**values)
    _save(subscription, [])
    subscription.alert_recipients.set(recipients)
    return subscription


@transaction.atomic
def subscription_update(
    *,
    user: Any,
    subscription: Subscription,
    data: dict[str, Any],
    version: int,
    seen: dict[str, Any] | None = None,
) -> Subscription:
    """Change the fields in ``data`` of a subscription the editor read at ``version``.

    The row is locked first; if its version moved, the edit is refused with a StaleEdit (who,
    when, what changed: from ``seen``, the snapshot the editor was shown, or else from the audit
    trail). A head or software admin changes only their department's fields; anything else is
    PermissionDenied."""
    locked = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("vendor", "department", "owner")
        .get(pk=subscription.pk)
    )
    allowed = editable_fields(user, locked)
    if not allowed:
        if locked.archived_at is not None:
            raise ValidationError(_("This subscription is archived and can no longer be changed."))
        raise PermissionDenied
    values = _normalise(data)
    refused = set(values) - set(allowed)
    if refused:
        raise PermissionDenied(
            _("You may not change: %(fields)s")
            % {"fields": ", ".join(map(_label, sorted(refused)))}
        )
    if locked.version != version:
        raise stale_edit(locked, version=version, seen=seen)
    current = {f: getattr(locked, f) for f in FULL_FIELDS if f != "alert_recipients"}
    current["alert_recipients"] = list(locked.alert_recipients.all())
    changed = {f for f, v in values.items() if _differs(f, current[f], v)}
    if not changed:
        return locked
    merged = {**current, **values}
    _check(merged, changed, active_seats=active_seat_count(locked.pk))
    fields = sorted(changed - {"alert_recipients"})
    for field in fields:
        setattr(locked, field, merged[field])
    if fields:
        _save(locked, fields)  # the trigger raises the version by one
    if "alert_recipients" in changed:
        locked.alert_recipients.set(merged["alert_recipients"])
        if not fields:  # another table: raise the version ourselves
            Subscription.objects.filter(pk=locked.pk).update(version=F("version") + 1)
    locked.refresh_from_db()
    return locked


def _differs(field: str, old: Any, new: Any) -> bool:
    if field == "alert_recipients":
        return {u.pk for u in old} != {u.pk for u in new or []}
    if field in FOREIGN:
        return getattr(old, "pk", None) != getattr(new, "pk", None)
    if field == "unit_price" and new is not None:
        try:
            return Decimal(str(old)) != Decimal(str(new))
        except ArithmeticError:
            return True
    return bool(old != new)
