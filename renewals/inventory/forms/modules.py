"""The form a subscription's module is added or changed with: name, unit price (empty when
included), licensed seats (empty for every seat). Each field is checked by the inventory's rules
(renewals.inventory.rules), the ones the API and the import apply too."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from renewals.inventory import rules
from renewals.inventory.models import Subscription


class ModuleForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        widget=forms.TextInput(attrs={"maxlength": rules.MODULE_NAME_MAX, "autofocus": True}),
    )
    # Text, read by the rules: "1e30", a 25-digit figure or "-5" gets the rules' message.
    unit_price = forms.CharField(
        label=_("Unit price"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "maxlength": 64}),
    )
    licensed_seats = forms.CharField(
        label=_("Licensed seats"),
        required=False,
        max_length=32,
        help_text=_("Empty means every seat of the subscription has the module."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 32}),
    )

    def __init__(self, *args: Any, subscription: Subscription, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscription = subscription
        self.fields["unit_price"].help_text = _(
            "Per seat and billing period, in %(currency)s; empty if included."
        ) % {"currency": subscription.currency}

    def clean_name(self) -> str:
        return rules.clean_name(
            self.cleaned_data["name"], label=str(_("Name")), max_length=rules.MODULE_NAME_MAX
        )

    def clean_unit_price(self) -> Any:
        return rules.check_amount(self.cleaned_data["unit_price"], str(_("Unit price")))

    def clean_licensed_seats(self) -> int | None:
        return rules.check_module_seats(
            self.cleaned_data["licensed_seats"], self.subscription.seats_purchased
        )

    def values(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in ("name", "unit_price", "licensed_seats")}
