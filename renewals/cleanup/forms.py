"""Forms of the account clean-up campaign."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.widgets import DateInput
from renewals.cleanup.models import CleanupItem


class CampaignOpenForm(forms.Form):
    """Name and due date of a new campaign (the checklist is built from today's data)."""

    name = forms.CharField(label=_("Name"), max_length=120)
    due_on = forms.DateField(
        label=_("Due on"),
        widget=DateInput(),
        help_text=_("The day every department should have decided its accounts."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("name", _("Digital office day %(year)s") % {"year": today.year})
            self.initial.setdefault("due_on", today + dt.timedelta(days=14))

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Give the campaign a name."))
        return name

    def clean_due_on(self) -> dt.date:
        due_on: dt.date = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise forms.ValidationError(_("The due date cannot be in the past."))
        if due_on > timezone.localdate() + dt.timedelta(days=366):
            raise forms.ValidationError(_("The due date must be within a year."))
        return due_on


class ItemDecideForm(forms.Form):
    """One account's decision, posted from its row on the checklist."""

    decision = forms.ChoiceField(choices=CleanupItem.Decision.choices)
    keep_reason = forms.CharField(label=_("Why keep it"), max_length=255, required=False)
    # The decision the page showed when the button was pressed (see services.cleanup.item_decide).
    seen = forms.ChoiceField(choices=CleanupItem.Decision.choices)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == CleanupItem.Decision.KEEP and not " ".join(
            (data.get("keep_reason") or "").split()
        ):
            self.add_error("keep_reason", _("Say why the account is kept."))
        return data
