"""Finance's exchange-rates table: recording, correcting and deleting rates to the base currency.

A rate a quote or a request records (their ``currency`` and ``rate_valid_from``) is immutable:
the amount that routed the request and committed the budget was converted with it, so changing
it afterwards would rewrite history. A new rate is recorded with a new date instead.

Races, closed in the database:
- two people recording the same (currency, day): the unique constraint
  ``rate_one_per_currency_and_day`` lets one insert win; the other is told, nothing written;
- correcting or deleting a rate while a quote takes it: both lock the rate's row (this module
  ``FOR UPDATE``, ``requests.quote_rate`` ``FOR NO KEY UPDATE``), so whoever comes second sees
  the other's committed work (the usage check then refuses, or the quote finds the new row).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from renewals.inventory.models import CurrencyRate
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import RenewalRequest

DUPLICATE_CONSTRAINT = "rate_one_per_currency_and_day"


def _duplicate() -> ValidationError:
    return ValidationError(
        _("There is already a rate for this currency on this day."), code="duplicate"
    )


def in_use_error() -> ValidationError:
    return ValidationError(
        _(
            "Quotes or renewal requests were converted with this rate, so it can no longer be "
            "changed or deleted. Record a new rate with a later date instead."
        ),
        code="in_use",
    )


def rate_usage_filter(currency: str, valid_from: dt.date) -> Q:
    """Rows (quotes or requests) that record the rate of ``currency`` dated ``valid_from``."""
    return Q(currency=currency, rate_valid_from=valid_from)


def rate_in_use(rate: CurrencyRate) -> bool:
    """True when a quote or a request records this rate (it is then immutable)."""
    usage = rate_usage_filter(rate.currency, rate.valid_from)
    return Quote.objects.filter(usage).exists() or RenewalRequest.objects.filter(usage).exists()


def _check_currency(currency: str) -> None:
    if currency == settings.BASE_CURRENCY:
        raise ValidationError(
            _("%(base)s is the base currency: its rate is always 1 and is not recorded.")
            % {"base": settings.BASE_CURRENCY},
            code="base_currency",
        )


def _save(rate: CurrencyRate) -> CurrencyRate:
    """full_clean (the friendly check) then save in a savepoint; the unique constraint decides
    a race that full_clean could not see."""
    _check_currency(rate.currency)
    rate.full_clean()
    try:
        with transaction.atomic():
            rate.save()
    except IntegrityError as exc:
        if DUPLICATE_CONSTRAINT in str(exc):
            raise _duplicate() from exc
        raise
    return rate


@transaction.atomic
def rate_record(*, currency: str, rate_to_base: Decimal, valid_from: dt.date) -> CurrencyRate:
    """Record a new rate (refused, nothing written, when the currency already has one that day)."""
    return _save(CurrencyRate(currency=currency, rate_to_base=rate_to_base, valid_from=valid_from))


def _locked_unused(rate: CurrencyRate) -> CurrencyRate:
    """The rate's row, locked, after checking no quote or request records it."""
    locked = CurrencyRate.objects.select_for_update().filter(pk=rate.pk).first()
    if locked is None:
        raise ValidationError(_("This rate no longer exists."), code="gone")
    if rate_in_use(locked):
        raise in_use_error()
    return locked


@transaction.atomic
def rate_correct(
    *, rate: CurrencyRate, currency: str, rate_to_base: Decimal, valid_from: dt.date
) -> CurrencyRate:
    """Correct a rate no quote or request records yet (a typo caught in time)."""
    locked = _locked_unused(rate)
    locked.currency, locked.rate_to_base, locked.valid_from = currency, rate_to_base, valid_from
    return _save(locked)


@transaction.atomic
def rate_delete(*, rate: CurrencyRate) -> None:
    """Delete a rate no quote or request records."""
    _locked_unused(rate).delete()
