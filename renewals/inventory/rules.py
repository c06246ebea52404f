"""The inventory's rules, defined once: the pages' forms, the REST API (through the services)
and the import (renewals.imports.specs / engine, in SQL built from the same limits) apply them.

Each check either returns the cleaned value or raises a ValidationError with a translated
message; the ``*_SQL`` helpers give the import the same limits for its set-based checks.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from renewals.inventory.models import Module, Subscription, Vendor

# --- vendors and modules ----------------------------------------------------------------------

VENDOR_NAME_MAX = 120  # Vendor.name
MODULE_NAME_MAX = 80  # Module.name
WEBSITE_MAX = 200  # Vendor.website (URLField's default)
# Contacts and notes are text columns; a page or a client sending more than this is refused
# (the import's notes column has the same limit).
TEXT_MAX = 4000
# Prices: numeric(12, 2), so at most ten digits before the point and two after.
PRICE_DIGITS = 12
PRICE_PLACES = 2
# Seats: a licence of more than this is a typo (the purchased count is checked as well).
SEATS_MAX = 10_000_000


def clean_text(value: Any, *, label: str, max_length: int, required: bool = False) -> str:
    """Text without surrounding blanks and without NUL characters (PostgreSQL refuses them);
    refused when required and empty, or longer than ``max_length``."""
    text = "" if value is None else str(value)
    text = text.replace("\x00", "").strip()
    if required and not text:
        raise ValidationError(_("%(field)s is required.") % {"field": label}, code="required")
    if len(text) > max_length:
        raise ValidationError(
            _("%(field)s is longer than %(max)s characters.") % {"field": label, "max": max_length},
            code="too_long",
        )
    return text


def clean_name(value: Any, *, label: str, max_length: int) -> str:
    """A name: required, trimmed, inner runs of blanks made one space (so "Jira  Cloud" and
    "Jira Cloud" are the same name)."""
    return " ".join(clean_text(value, label=label, max_length=max_length, required=True).split())


def check_amount(
    value: Any,
    field_label: str,
    *,
    digits: int = PRICE_DIGITS,
    places: int = PRICE_PLACES,
    required: bool = False,
) -> Decimal | None:
    """A money amount: a number, not negative, at most ``places`` decimals and ``digits``
    digits in all (a 25-digit price is refused with a message, never a database error)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(
                _("%(field)s is required.") % {"field": field_label}, code="required"
            )
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            _("%(field)s is not a number (use digits and a decimal point, e.g. 1234.50).")
            % {"field": field_label},
            code="not_a_decimal",
        ) from None
    if not amount.is_finite():
        raise ValidationError(
            _("%(field)s is not a number (use digits and a decimal point, e.g. 1234.50).")
            % {"field": field_label},
            code="not_a_decimal",
        )
    if amount < 0:
        raise ValidationError(
            _("%(field)s cannot be negative.") % {"field": field_label}, code="negative"
        )
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValidationError(
            _("%(field)s has more than %(places)s decimal places.")
            % {"field": field_label, "places": places},
            code="too_many_decimals",
        )
    if amount >= Decimal(10) ** (digits - places):
        raise ValidationError(
            _("%(field)s is too large (at most %(max)s).")
            % {"field": field_label, "max": f"{Decimal(10) ** (digits - places) - 1:,}"},
            code="too_large",
        )
    return amount.quantize(Decimal(1).scaleb(-places))


def price_pattern_sql(*, digits: int = PRICE_DIGITS, places: int = PRICE_PLACES) -> str:
    """The import's regular expression of a price as typed in a file (the same limits)."""
    return f"[0-9]{{1,{digits - places}}}([.][0-9]{{1,{places}}})?"


def vendor_key_sql(expression: str) -> str:
    """The SQL of a vendor name's comparison key: names are the same case-insensitively."""
    return f"lower(btrim({expression}))"


def check_website(value: Any) -> str:
    """Empty, or an http(s) address (no javascript:, no ftp:)."""
    text = clean_text(value, label=_("Website"), max_length=WEBSITE_MAX)
    if not text:
        return ""
    message = _("Enter a web address starting with http:// or https://.")
    if urlsplit(text).scheme.lower() not in ("http", "https"):
        raise ValidationError(message, code="invalid_url")
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError:
        raise ValidationError(message, code="invalid_url") from None
    return text


def check_vendor_name_free(name: str, *, exclude: int | None = None) -> None:
    """Vendor names are unique whatever their case ("atlassian" is Atlassian), archived
    vendors included (restore one rather than adding it again)."""
    others = Vendor.objects.filter(name__iexact=name)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    other = others.first()
    if other is None:
        return
    if other.archived_at is not None:
        raise ValidationError(
            _("An archived vendor is called “%(name)s”; restore it instead of adding it again.")
            % {"name": other.name},
            code="duplicate",
        )
    raise ValidationError(
        _("There is already a vendor called “%(name)s”.") % {"name": other.name},
        code="duplicate",
    )


def vendor_archive_error(open_count: int) -> ValidationError | None:
    """Why a vendor with ``open_count`` non-archived subscriptions cannot be archived."""
    if not open_count:
        return None
    return ValidationError(
        ngettext(
            "This vendor still has %(count)d subscription that is not archived: archive it or "
            "move it to another vendor first.",
            "This vendor still has %(count)d subscriptions that are not archived: archive them "
            "or move them to another vendor first.",
            open_count,
        )
        % {"count": open_count},
        code="in_use",
    )


def check_module_name_free(subscription: Subscription, name: str, *, exclude: int | None) -> None:
    """Module names are unique in their subscription whatever their case, archived modules
    included (their usage history keeps the name)."""
    others = Module.objects.filter(subscription=subscription, name__iexact=name)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    other = others.first()
    if other is None:
        return
    if other.archived_at is not None:
        raise ValidationError(
            _("An archived module of this subscription is called “%(name)s”; restore it instead.")
            % {"name": other.name},
            code="duplicate",
        )
    raise ValidationError(
        _("This subscription already has a module called “%(name)s”.") % {"name": other.name},
        code="duplicate",
    )


def check_module_seats(value: Any, seats_purchased: int) -> int | None:
    """A module's licensed seats: empty (every seat), or a whole number from 1 up to the
    subscription's purchased seats."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        value = str(value)
    try:
        seats = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ValidationError(_("Enter a whole number of seats."), code="not_a_number") from None
    if seats < 1:
        raise ValidationError(
            _("Licensed seats must be at least 1 (leave it empty for every seat)."),
            code="too_small",
        )
    if seats > seats_purchased:
        raise ValidationError(
            ngettext(
                "Licensed seats cannot exceed the subscription's %(count)d purchased seat.",
                "Licensed seats cannot exceed the subscription's %(count)d purchased seats.",
                seats_purchased,
            )
            % {"count": seats_purchased},
            code="too_large",
        )
    return seats
