"""Every write to budgets and the ledger. The renewal workflow calls budget_check, budget_commit,
budget_release and budget_book_actual; finance's forms call the others.

Each function that moves money locks the budget row first (SELECT … FOR UPDATE), so two
commitments racing for the last money are serialised: the second sees the first's entry and is
refused. Commitments, releases and actuals are idempotent by their reference.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from budgets.models import Budget, LedgerEntry, new_group
from budgets.money import MAX_AMOUNT, OriginalAmount, cents
from budgets.selectors import Balance, balance

K = LedgerEntry.Kind


class BudgetExceeded(ValidationError):
    """The amount does not fit the budget."""


class Fit(StrEnum):
    FITS = "fits"  # within what is available
    NEEDS_RESERVE = "needs_reserve"  # fits only by using the reserve
    DOES_NOT_FIT = "does_not_fit"


def _locked(budget: Budget) -> Budget:
    return Budget.objects.select_for_update().get(pk=budget.pk)


def _amount(value: Decimal, *, allow_negative: bool = False) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationError(_("The amount must be a finite decimal number."))
    value = cents(value)
    if value == 0 or abs(value) > MAX_AMOUNT or (value < 0 and not allow_negative):
        raise ValidationError(_("The amount must be a positive number of at most 12 digits."))
    return value


def _original(original: OriginalAmount | None, amount: Decimal) -> dict[str, Any]:
    """The original-currency fields of an entry booked at ``amount`` in the base currency."""
    if original is None:
        return {}
    if original.currency == settings.BASE_CURRENCY:
        raise ValidationError(
            _("Give an original currency only when it differs from %(base)s.")
            % {"base": settings.BASE_CURRENCY}
        )
    if original.in_base() != amount:
        raise ValidationError(
            _("The amount in %(base)s must be the original amount times the rate, in cents.")
            % {"base": settings.BASE_CURRENCY}
        )
    return {
        "original_currency": original.currency,
        "original_amount": original.amount,
        "rate": original.rate,
    }


def _entry(
    budget: Budget,
    kind: str,
    amount: Decimal,
    *,
    user: Any,
    memo: str,
    original: OriginalAmount | None = None,
    **extra: Any,
) -> LedgerEntry:
    entry = LedgerEntry(
        budget=budget,
        kind=kind,
        amount=amount,
        memo=memo,
        created_by=user,
        **_original(original, amount),
        **extra,
    )
    entry.full_clean(exclude=["group"])
    entry.save()
    return entry


@transaction.atomic
def budget_create(
    *, department: Any, year: int, reserve_percent: Decimal = Decimal("15.00")
) -> Budget:
    budget = Budget(department=department, year=year, reserve_percent=reserve_percent)
    budget.full_clean()
    budget.save()
    return budget


def budget_for(*, department: Any, year: int) -> Budget:
    """The department's budget for ``year``, created (with the default reserve) when missing."""
    budget, _created = Budget.objects.get_or_create(department=department, year=year)
    return budget


@transaction.atomic
def budget_allocate(
    *,
    budget: Budget,
    amount: Decimal,
    user: Any,
    memo: str,
    category: str = "",
    original: OriginalAmount | None = None,
) -> LedgerEntry:
    """Add ``amount`` (base currency) to the allocation; ``original`` records the currency,
    amount and rate it came in (``amount`` must be ``original.in_base()``)."""
    budget = _locked(budget)
    return _entry(
        budget,
        K.ALLOCATION,
        _amount(amount),
        user=user,
        memo=memo,
        category=category,
        original=original,
    )


@transaction.atomic
def budget_adjust(
    *,
    budget: Budget,
    amount: Decimal,
    user: Any,
    memo: str,
    original: OriginalAmount | None = None,
) -> LedgerEntry:
    """Re-forecast during the year: raise (positive) or cut (negative) the allocation."""
    budget = _locked(budget)
    amount = _amount(amount, allow_negative=True)
    _refuse_a_cut_beyond_available(budget, amount)
    return _entry(budget, K.ADJUSTMENT, amount, user=user, memo=memo, original=original)


def _refuse_a_cut_beyond_available(budget: Budget, amount: Decimal) -> None:
    if amount < 0 and balance(budget).available + amount < 0:
        raise BudgetExceeded(_("The cut is larger than what is still available."))


@transaction.atomic
def budget_transfer(
    *, source: Budget, target: Budget, amount: Decimal, user: Any, memo: str
) -> tuple[LedgerEntry, LedgerEntry]:
    """Move allocation from one department's budget to another's: two entries or none."""
    if source.pk == target.pk:
        raise ValidationError(_("Choose two different budgets."))
    amount = _amount(amount)
    # Lock in id order so two opposite transfers cannot deadlock.
    first, second = sorted([source, target], key=lambda b: b.pk)
    _locked(first), _locked(second)
    if balance(source).available < amount:
        raise BudgetExceeded(_("The source budget does not have that much available."))
    group = new_group()
    out = _entry(source, K.TRANSFER, -amount, user=user, memo=memo, group=group)
    into = _entry(target, K.TRANSFER, amount, user=user, memo=memo, group=group)
    return out, into


@transaction.atomic
def budget_release_reserve(*, budget: Budget, amount: Decimal, user: Any, memo: str) -> LedgerEntry:
    budget = _locked(budget)
    amount = _amount(amount)
    if amount > balance(budget).reserve:
        raise BudgetExceeded(_("That is more than the reserve holds."))
    return _entry(budget, K.RESERVE_RELEASE, amount, user=user, memo=memo)


@transaction.atomic
def budget_reverse(*, entry: LedgerEntry, user: Any, memo: str) -> LedgerEntry:
    """Cancel an entry by a new one with the opposite amount (the ledger is never edited)."""
    budget = _locked(entry.budget)
    if entry.kind == K.REVERSAL:
        raise ValidationError(
            _("A reversal cannot itself be reversed; record a new entry instead.")
        )
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("This entry has already been reversed."))
    if entry.group:
        raise ValidationError(_("Reverse a transfer by transferring back."))
    original = (
        OriginalAmount(entry.original_currency, -entry.original_amount, entry.rate)
        if entry.original_currency and entry.original_amount is not None and entry.rate
        else None
    )
    return _entry(
        budget, K.REVERSAL, -entry.amount, user=user, memo=memo, reverses=entry, original=original
    )


def budget_check(*, department: Any, amount: Decimal, year: int) -> Fit:
    """Whether ``amount`` fits the department's budget for ``year`` (no lock, no write)."""
    budget = Budget.objects.filter(department=department, year=year).first()
    if budget is None:
        return Fit.DOES_NOT_FIT
    return _fit(balance(budget), amount)


def _fit(current: Balance, amount: Decimal) -> Fit:
    if amount <= current.available:
        return Fit.FITS
    if amount <= current.available + current.reserve:
        return Fit.NEEDS_RESERVE
    return Fit.DOES_NOT_FIT


def _once(budget: Budget, kind: str, reference: str) -> LedgerEntry | None:
    if not reference:
        raise ValidationError(_("A reference to what caused the entry is required."))
    return LedgerEntry.objects.filter(budget=budget, kind=kind, reference=reference).first()


@transaction.atomic
def budget_commit(
    *,
    department: Any,
    year: int,
    amount: Decimal,
    reference: str,
    user: Any,
    memo: str,
    use_reserve: bool = False,
) -> LedgerEntry:
    """Commit ``amount`` (e.g. an approved renewal). Refused when it does not fit; with
    ``use_reserve`` (finance's explicit approval) it may eat into the reserve."""
    budget = _locked(budget_for(department=department, year=year))
    if existing := _once(budget, K.COMMITMENT, reference):
        return existing  # a retried call
    amount = _amount(amount)
    fit = _fit(balance(budget), amount)
    if fit == Fit.DOES_NOT_FIT or (fit == Fit.NEEDS_RESERVE and not use_reserve):
        raise BudgetExceeded(_("The amount does not fit the budget."))
    if fit == Fit.NEEDS_RESERVE:
        needed = amount - balance(budget).available
        _entry(budget, K.RESERVE_RELEASE, needed, user=user, memo=memo, reference="")
    return _entry(budget, K.COMMITMENT, amount, user=user, memo=memo, reference=reference)


@transaction.atomic
def budget_release(
    *, department: Any, year: int, reference: str, user: Any, memo: str
) -> LedgerEntry | None:
    """Give back what was committed under ``reference`` (rejected or cancelled). Idempotent."""
    budget = _locked(budget_for(department=department, year=year))
    commitment = LedgerEntry.objects.filter(
        budget=budget, kind=K.COMMITMENT, reference=reference
    ).first()
    if commitment is None:
        return None
    if existing := _once(budget, K.COMMITMENT_RELEASE, reference):
        return existing
    return _entry(
        budget, K.COMMITMENT_RELEASE, commitment.amount, user=user, memo=memo, reference=reference
    )


def actuals_year(*, term_year: int, paid_on: dt.date | None = None) -> int:
    """The fiscal year whose budget an actual is booked in: the year of the payment (default,
    ``BUDGET_ACTUALS_YEAR=payment``; ``paid_on``, today in TIME_ZONE when not given) or the year
    the term starts (``term_start``)."""
    if settings.BUDGET_ACTUALS_YEAR == "term_start":
        return term_year
    return (paid_on or local_today()).year


def _actual_of(department: Any, reference: str) -> LedgerEntry | None:
    """The actual already booked under ``reference`` in any of the department's budgets."""
    return LedgerEntry.objects.filter(
        budget__department=department, kind=K.ACTUAL, reference=reference
    ).first()


@transaction.atomic
def budget_book_actual(
    *,
    department: Any,
    year: int,
    amount: Decimal,
    reference: str,
    user: Any,
    memo: str,
    paid_on: dt.date | None = None,
) -> LedgerEntry:
    """Book what was actually paid and release the commitment it replaces, together.

    ``year`` is the budget year of the commitment (the year the new term starts): its release
    goes to that same budget. The actual goes to the budget of ``actuals_year`` (the payment's
    year by default), which may be another one: a term starting in December paid in January."""
    if not reference:
        raise ValidationError(_("A reference to what caused the entry is required."))
    # A retried call (perhaps after the turn of the year) books nothing, and opens no budget.
    if existing := _actual_of(department, reference):
        return existing
    committed_in = budget_for(department=department, year=year)
    paid_in = budget_for(department=department, year=actuals_year(term_year=year, paid_on=paid_on))
    # Both locked, in id order (as transfers do) so that no two bookings can deadlock.
    for budget in sorted(
        {committed_in.pk: committed_in, paid_in.pk: paid_in}.values(), key=lambda b: b.pk
    ):
        _locked(budget)
    # Again under the locks: of two racing calls, the second finds the first's actual.
    if existing := _actual_of(department, reference):
        return existing
    commitment = LedgerEntry.objects.filter(
        budget=committed_in, kind=K.COMMITMENT, reference=reference
    ).first()
    if (
        commitment
        and not LedgerEntry.objects.filter(
            budget=committed_in, kind=K.COMMITMENT_RELEASE, reference=reference
        ).exists()
    ):
        _entry(
            committed_in,
            K.COMMITMENT_RELEASE,
            commitment.amount,
            user=user,
            memo=memo,
            reference=reference,
        )
    return _entry(paid_in, K.ACTUAL, _amount(amount), user=user, memo=memo, reference=reference)


def local_today() -> dt.date:
    """Today in settings.TIME_ZONE (the company's fiscal calendar), whatever time zone a request
    has activated."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


def current_year(today: dt.date | None = None) -> int:
    return (today or local_today()).year


def months_remaining(year: int, today: dt.date | None = None) -> int:
    """Months of fiscal (calendar) ``year`` still to come, the current month included, counted
    in settings.TIME_ZONE: 12 for a future year, 0 once it is over."""
    today = today or local_today()
    if year != today.year:
        return 12 if year > today.year else 0
    return 13 - today.month


def _forecast(value: Decimal) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationError(_("The amount must be a finite decimal number."))
    value = cents(value)
    if value < 0 or value > MAX_AMOUNT:
        raise ValidationError(
            _("The forecast must be zero or a positive number of at most 12 digits.")
        )
    return value


@transaction.atomic
def budget_reforecast(
    *,
    budget: Budget,
    reference: str,
    user: Any,
    memo: str,
    full_year: Decimal | None = None,
    remaining: Decimal | None = None,
    today: dt.date | None = None,
) -> LedgerEntry | None:
    """Re-forecast the months left: bring the year's allocation to a new expected ``full_year``
    figure, or to what is already committed and paid plus the ``remaining`` months' amount, by
    one adjustment entry for the difference (rounded half up to cents). Idempotent by
    ``reference``: a retried or double-submitted re-forecast returns the entry it wrote. Returns
    None when the allocation already matches (nothing to write)."""
    if (full_year is None) == (remaining is None):
        raise ValidationError(
            _("Give either the full-year figure or the remaining months' amount.")
        )
    if not reference:
        raise ValidationError(_("A reference to what caused the entry is required."))
    budget = _locked(budget)
    # Under the budget's lock, so two submissions of one form cannot both pass this check.
    if existing := LedgerEntry.objects.filter(
        budget=budget, kind=K.ADJUSTMENT, reference=reference
    ).first():
        return existing
    if months_remaining(budget.year, today) == 0:
        raise ValidationError(
            _("The fiscal year %(year)s is over: there are no months left to re-forecast.")
            % {"year": budget.year}
        )
    current = balance(budget)
    if full_year is not None:
        target = _forecast(full_year)
    else:
        assert remaining is not None
        target = cents(current.committed + current.actual + _forecast(remaining))
    if target == current.allocated:
        return None
    difference = _amount(target - current.allocated, allow_negative=True)
    _refuse_a_cut_beyond_available(budget, difference)
    return _entry(budget, K.ADJUSTMENT, difference, user=user, memo=memo, reference=reference)
