"""The inventory's rules, defined once: the pages' forms, the REST API (through the services)
and the import (renewals.imports.specs / engine, in SQL built from the same limits) apply them.

Each check either returns the cleaned value or raises a ValidationError with a translated
message; the ``*_SQL`` helpers give the import the same limits for its set-based checks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from renewals.inventory.models import Module, Subscription, Vendor
from renewals.inventory.money import current_rate
from renewals.inventory.policy import owner_candidate

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


# --- subscriptions ---------------------------------------------------------------------------

# More seats than that is a typing error, not a purchase (the modules' limit too).
MAX_SEATS = SEATS_MAX
# Ten years: the longest notice any contract of ours could hold (the import's limit too).
MAX_NOTICE_DAYS = 3650
THRESHOLD_MIN, THRESHOLD_MAX = 1, 365
MAX_THRESHOLDS = 10
MAX_TAGS, MAX_TAG_LENGTH = 20, 40
# A term outside these is a typing error (and a date near year 1 would underflow the deadline).
EARLIEST_DATE, LATEST_DATE = dt.date(1970, 1, 1), dt.date(2199, 12, 31)
MAX_NOTES = 4000

MESSAGES = {
    "seats_too_few": gettext_lazy("A subscription has at least one seat."),
    "seats_too_many": gettext_lazy("At most %(max)s seats."),
    "seats_below_active": gettext_lazy(
        "%(active)s seats are assigned; revoke seats before lowering the count below that."
    ),
    "end_before_start": gettext_lazy("The term must end after it starts."),
    "date_out_of_range": gettext_lazy("Enter a date between 1970 and 2199."),
    "notice_too_long": gettext_lazy(
        "The notice period must be shorter than the term (%(days)s days)."
    ),
    "notice_shorter_than_term": gettext_lazy("The notice period must be shorter than the term."),
    "notice_out_of_range": gettext_lazy("The notice period is between 0 and %(max)s days."),
    "no_rate": gettext_lazy(
        "No exchange rate for %(currency)s — record one on the exchange-rates page."
    ),
    "owner_elsewhere": gettext_lazy(
        "%(owner)s does not belong to %(department)s: the owner must work in it, head it, "
        "administer its software or be an IT admin."
    ),
    "owner_outside": gettext_lazy(
        "This user does not belong to the row's department: the owner must work in it, head "
        "it, administer its software or be an IT admin."
    ),
    "thresholds_not_numbers": gettext_lazy(
        "Enter the alert days as whole numbers separated by commas."
    ),
    "thresholds_range": gettext_lazy("Each alert day is between 1 and 365."),
    "thresholds_repeated": gettext_lazy("Each alert day appears once."),
    "thresholds_too_many": gettext_lazy("At most 10 alert days."),
    "tags_too_many": gettext_lazy("At most 20 tags."),
    "tag_too_long": gettext_lazy("A tag has at most 40 characters."),
}


def _error(field: str, code: str, **params: Any) -> ValidationError:
    message = MESSAGES[code]
    return ValidationError({field: ValidationError(message, code=code, params=params or None)})


def check_unit_price(value: Any) -> Decimal:
    """A price per seat: check_amount's rules (a number, not negative, two places, fits
    numeric(12, 2)), the error on the unit price."""
    try:
        label = capfirst(Subscription._meta.get_field("unit_price").verbose_name)
        price = check_amount(value, str(label), required=True)
    except ValidationError as exc:
        raise ValidationError({"unit_price": exc}) from None
    assert price is not None
    return price


def check_seats(value: int, *, active: int = 0) -> int:
    """At least one seat, at most MAX_SEATS, and never below the seats assigned now."""
    if value < 1:
        raise _error("seats_purchased", "seats_too_few")
    if value > MAX_SEATS:
        raise _error("seats_purchased", "seats_too_many", max=f"{MAX_SEATS:,}")
    if value < active:
        raise _error("seats_purchased", "seats_below_active", active=active)
    return value


def check_term(start: dt.date, end: dt.date, notice_days: int) -> None:
    """The term ends after it starts; the notice period is shorter than the term."""
    for field, day in (("term_start", start), ("term_end", end)):
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            raise _error(field, "date_out_of_range")
    if end <= start:
        raise _error("term_end", "end_before_start")
    if not 0 <= notice_days <= MAX_NOTICE_DAYS:
        raise _error("notice_period_days", "notice_out_of_range", max=MAX_NOTICE_DAYS)
    if notice_days >= (end - start).days:
        raise _error("notice_period_days", "notice_too_long", days=(end - start).days)


def check_currency(currency: str, *, on: dt.date | None = None) -> str:
    """The base currency, or one the rates table has a rate for (on ``on``, today by default)."""
    currency = currency.upper()
    if currency != settings.BASE_CURRENCY and current_rate(currency, on) is None:
        raise _error("currency", "no_rate", currency=currency)
    return currency


def check_owner(owner: Any, department: Any) -> None:
    """The owner works in the department, heads it or administers its software (from it or a
    department above it), or is an IT admin (renewals.inventory.policy; owner_sql for the
    import)."""
    if owner is not None and not owner_candidate(owner, department):
        raise _error(
            "owner", "owner_elsewhere", owner=owner.get_full_name() or owner.username,
            department=department.name,
        )  # fmt: skip


THRESHOLD_SPLIT = re.compile(r"[\s,，、;；]+")


def parse_thresholds(text: str) -> list[int]:
    """ "60, 30, 7" -> [60, 30, 7] (also 60，30 or 60 30); empty -> [] (the defaults)."""
    parts = [p for p in THRESHOLD_SPLIT.split(text.strip()) if p]
    if len(parts) > MAX_THRESHOLDS:
        raise _error("alert_thresholds", "thresholds_too_many")
    if not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
        raise _error("alert_thresholds", "thresholds_not_numbers")
    return check_thresholds([int(p) for p in parts])


def check_thresholds(values: Iterable[int]) -> list[int]:
    """Days 1..365, each once, at most MAX_THRESHOLDS; returned largest first."""
    days = list(values)
    if len(days) > MAX_THRESHOLDS:
        raise _error("alert_thresholds", "thresholds_too_many")
    if any(not THRESHOLD_MIN <= d <= THRESHOLD_MAX for d in days):
        raise _error("alert_thresholds", "thresholds_range")
    if len(set(days)) != len(days):
        raise _error("alert_thresholds", "thresholds_repeated")
    return sorted(days, reverse=True)


def check_tags(values: Iterable[str]) -> list[str]:
    """Trimmed, empty ones dropped, each once, at most MAX_TAGS of MAX_TAG_LENGTH characters."""
    tags = list(dict.fromkeys(t.strip() for t in values if t.strip()))
    if len(tags) > MAX_TAGS:
        raise _error("tags", "tags_too_many")
    if any(len(t) > MAX_TAG_LENGTH for t in tags):
        raise _error("tags", "tag_too_long")
    return tags


def check_subscription(values: dict[str, Any], *, active_seats: int = 0) -> None:
    """Every rule over a subscription's values (those present), all errors at once."""
    errors: dict[str, list[ValidationError]] = {}

    def collect(check: Any, *args: Any, **kwargs: Any) -> None:
        try:
            check(*args, **kwargs)
        except ValidationError as exc:
            for field, field_errors in exc.error_dict.items():
                errors.setdefault(field, []).extend(field_errors)

    if "unit_price" in values:
        collect(check_unit_price, values["unit_price"])
    if "seats_purchased" in values:
        collect(check_seats, values["seats_purchased"], active=active_seats)
    if {"term_start", "term_end", "notice_period_days"} <= values.keys():
        collect(check_term, values["term_start"], values["term_end"], values["notice_period_days"])
    if values.get("currency"):
        collect(check_currency, values["currency"])
    if values.get("owner") is not None and values.get("department") is not None:
        collect(check_owner, values["owner"], values["department"])
    if "alert_thresholds" in values:
        collect(check_thresholds, values["alert_thresholds"])
    if "tags" in values:
        collect(check_tags, values["tags"])
    if errors:
        raise ValidationError(errors)


def owner_sql(user: str, department: str) -> str:
    """SQL: the user ``user`` (an org_user alias) may own a subscription of the department
    ``department`` (an org_department alias) — the rule of renewals.inventory.policy's
    owner candidates, for the import's set-based check."""
    return (
        f"({user}.is_active AND ("
        f"EXISTS (SELECT 1 FROM org_person p WHERE p.user_id = {user}.id AND p.status = 'active' "
        f"AND p.department_id = {department}.id) "
        f"OR EXISTS (SELECT 1 FROM org_user_groups ug JOIN auth_group g ON g.id = ug.group_id "
        f"WHERE ug.user_id = {user}.id AND g.name = 'it_admin') "
        f"OR EXISTS (WITH RECURSIVE up(id, parent_id) AS ("
        f"SELECT d0.id, d0.parent_id FROM org_department d0 WHERE d0.id = {department}.id "
        f"UNION SELECT d1.id, d1.parent_id FROM org_department d1 JOIN up ON d1.id = up.parent_id) "
        f"SELECT 1 FROM up WHERE EXISTS (SELECT 1 FROM org_department_heads h "
        f"WHERE h.department_id = up.id AND h.user_id = {user}.id) "
        f"OR EXISTS (SELECT 1 FROM org_department_software_admins a "
        f"WHERE a.department_id = up.id AND a.user_id = {user}.id))))"
    )
