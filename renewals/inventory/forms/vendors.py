"""The form IT admins add and change a vendor with. Each field is checked by the inventory's
rules (renewals.inventory.rules), the ones the API and the import apply too; the service checks
them again, with the name's uniqueness, under a lock."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from renewals.inventory import rules
from renewals.inventory.models import Vendor


class VendorForm(forms.Form):
    """Name, website, contacts, notes (the names of Vendor's fields)."""

    name = forms.CharField(
        label=_("Name"),
        widget=forms.TextInput(attrs={"maxlength": rules.VENDOR_NAME_MAX, "autofocus": True}),
    )
    website = forms.CharField(
        label=_("Website"),
        required=False,
        help_text=_("Starting with https:// or http://."),
        widget=forms.URLInput(attrs={"maxlength": rules.WEBSITE_MAX, "inputmode": "url"}),
    )
    contacts = forms.CharField(
        label=_("Contacts"),
        required=False,
        help_text=_("Account manager, phone, e-mail."),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": rules.TEXT_MAX}),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": rules.TEXT_MAX}),
    )

    def __init__(self, *args: Any, vendor: Vendor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vendor = vendor

    def clean_name(self) -> str:
        name = rules.clean_name(
            self.cleaned_data["name"], label=str(_("Name")), max_length=rules.VENDOR_NAME_MAX
        )
        # Said at once with the other fields' errors (the service checks again, under a lock).
        rules.check_vendor_name_free(name, exclude=self.vendor.pk if self.vendor else None)
        return name

    def clean_website(self) -> str:
        return rules.check_website(self.cleaned_data["website"])

    def clean_contacts(self) -> str:
        return rules.clean_text(
            self.cleaned_data["contacts"], label=str(_("Contacts")), max_length=rules.TEXT_MAX
        )

    def clean_notes(self) -> str:
        return rules.clean_text(
            self.cleaned_data["notes"], label=str(_("Notes")), max_length=rules.TEXT_MAX
        )

    def values(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in ("name", "website", "contacts", "notes")}
