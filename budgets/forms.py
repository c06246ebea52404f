"""Finance's ledger forms. Every entry needs a reason; amounts are read strictly."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from budgets.models import Budget, LedgerEntry
from budgets.money import MAX_AMOUNT, OriginalAmount, parse_amount, parse_currency, parse_rate


class AmountField(forms.CharField):
    """Digits with at most two decimals (no 5e4, 1,000, NaN …)."""

    def __init__(self, *, allow_negative: bool = False, **kwargs: Any) -> None:
        self.allow_negative = allow_negative
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Decimal:
        text = super().clean(value)
        return parse_amount(text, allow_negative=self.allow_negative)


class LedgerActionForm(forms.Form):
    """Allocation, adjustment, reserve release, transfer (to another budget) or reversal."""

    ACTIONS = [
        ("allocate", _("Allocate")),
        ("adjust", _("Adjust (re-forecast; negative cuts)")),
        ("release_reserve", _("Release reserve")),
        ("transfer", _("Transfer to another department")),
    ]

    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    amount = AmountField(label=_("Amount"), allow_negative=True)
    # Allocations and adjustments may come in another currency: the amount is then in that
    # currency, and amount × rate (rounded half up to cents) is booked in the base currency.
    # (Their labels name the base currency: set in __init__.)
    currency = forms.CharField(max_length=3, required=False)
    rate = forms.CharField(max_length=20, required=False)
    target = forms.ModelChoiceField(
        label=_("To budget"),
        queryset=Budget.objects.none(),
        required=False,
        empty_label=_("(transfers only)"),
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=LedgerEntry.Category.choices, required=False
    )
    memo = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args: Any, budget: Budget, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        base = settings.BASE_CURRENCY
        self.fields["currency"].label = _("Currency (empty: %(base)s)") % {"base": base}
        self.fields["rate"].label = _("Rate to %(base)s") % {"base": base}
        field = self.fields["target"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Budget.objects.filter(year=budget.year)
            .exclude(pk=budget.pk)
            .select_related("department")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount = data.get("amount")
        if amount is not None and amount < 0 and data.get("action") != "adjust":
            self.add_error("amount", _("Only an adjustment can be negative."))
        if data.get("action") == "transfer" and not data.get("target"):
            self.add_error("target", _("Choose the budget to transfer to."))
        data["original"] = self._original(data)
        return data

    def _original(self, data: dict[str, Any]) -> OriginalAmount | None:
        """The original currency, amount and rate, when the amount is not in the base currency;
        ``data["amount"]`` becomes the amount booked in the base currency."""
        base = settings.BASE_CURRENCY
        text = (data.get("currency") or "").strip()
        if not text or text.upper() == base:
            if (data.get("rate") or "").strip():
                self.add_error("rate", _("A rate is only needed for another currency."))
            return None
        try:
            currency = parse_currency(text)
        except ValidationError as exc:
            self.add_error("currency", exc)
            return None
        if data.get("action") not in ("allocate", "adjust"):
            self.add_error(
                "currency", _("Only allocations and adjustments can be in another currency.")
            )
            return None
        if not (data.get("rate") or "").strip():
            self.add_error(
                "rate",
                _("Enter the rate from %(currency)s to %(base)s.")
                % {"currency": currency, "base": base},
            )
            return None
        try:
            rate = parse_rate(data["rate"])
        except ValidationError as exc:
            self.add_error("rate", exc)
            return None
        if data.get("amount") is None:
            return None
        original = OriginalAmount(currency, data["amount"], rate)
        booked = original.in_base()
        if booked == 0 or abs(booked) > MAX_AMOUNT:
            self.add_error(
                "amount",
                _("In %(base)s that is %(amount)s: not an amount the ledger can book.")
                % {"base": base, "amount": booked},
            )
            return None
        data["amount"] = booked
        return original


class ReversalForm(forms.Form):
    memo = forms.CharField(label=_("Reason"), max_length=300)


class ReforecastForm(forms.Form):
    """Finance's re-forecast of the months left: a new expected full-year figure, or the amount
    the remaining months need; the difference to the allocation is booked as an adjustment."""

    BASES = [
        ("full_year", _("New expected full-year figure")),
        ("remaining", _("Amount needed for the remaining months")),
    ]

    basis = forms.ChoiceField(
        label=_("Re-forecast as"),
        choices=BASES,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    amount = AmountField(
        label=_("Amount (CNY)"),
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
    memo = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
    # One per rendered form: a second submission of the same form books nothing more.
    reference = forms.RegexField(regex=r"^reforecast:[0-9a-f]{32}$", widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the ledger form on the same page has fields named alike.
        kwargs.setdefault("auto_id", "reforecast_%s")
        super().__init__(*args, **kwargs)

    @staticmethod
    def new_reference() -> str:
        return f"reforecast:{uuid.uuid4().hex}"
