"""Finance's ledger forms. Every entry needs a reason; amounts are read strictly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from budgets.models import Budget, LedgerEntry
from budgets.money import parse_amount


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
    amount = AmountField(label=_("Amount (CNY)"), allow_negative=True)
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
        return data


class ReversalForm(forms.Form):
    memo = forms.CharField(label=_("Reason"), max_length=300)
