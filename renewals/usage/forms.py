"""Forms of the seats panel: assign, revoke, reassign one seat, and the bulk-assign list. A
person is typed as an employee number or an e-mail (the picker's script fills it in from a
name or pinyin initials; without script it is a plain field)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from org.models import Department, Person
from renewals.inventory.models import Module, Subscription
from renewals.usage.selectors import (
    BULK_MAX_ENTRIES,
    BULK_MAX_LINES,
    person_lookup,
    split_people_list,
)
from renewals.usage.services import SEAT_REASON_MAX

REASON_MAX = SEAT_REASON_MAX
# An uploaded list: a text or CSV file of at most this size (5,000 e-mails fit in 250 KB).
UPLOAD_MAX_BYTES = 1024 * 1024
# A pasted list: 5,000 entries of up to 254 characters, with separators (repeats are short).
TEXT_MAX_CHARS = BULK_MAX_ENTRIES * 256


class PersonField(forms.CharField):
    """An employee number or e-mail of a person the form's user may see."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Person"))
        kwargs.setdefault("help_text", _("Employee number or e-mail; type a name to search."))
        super().__init__(max_length=254, **kwargs)
        self.widget.attrs.update(
            {"autocomplete": "off", "data-person-picker": "", "spellcheck": "false"}
        )


def _modules_field(subscription: Subscription) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        label=_("Modules"),
        queryset=Module.objects.filter(
            subscription=subscription, archived_at__isnull=True
        ).order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class _PersonForm(forms.Form):
    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_person(self) -> Person:
        person = person_lookup(user=self.user, text=self.cleaned_data["person"])
        if person is None:
            raise ValidationError(_("No person you may see has this employee number or e-mail."))
        return person


class SeatAssignForm(_PersonForm):
    person = PersonField()
    modules = forms.ModelMultipleChoiceField(queryset=Module.objects.none(), required=False)
    account = forms.CharField(
        label=_("Account"),
        max_length=150,
        required=False,
        help_text=_("The login in the vendor's tool (optional)."),
    )

    def __init__(self, *args: Any, subscription: Subscription, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["modules"] = _modules_field(subscription)
        self.order_fields(["person", "modules", "account"])


class SeatRevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        help_text=_("Kept in the seat's history, e.g. left the company, not used since March."),
    )


class SeatReassignForm(_PersonForm):
    person = PersonField(label=_("New holder"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        help_text=_("Why the current holder gives the seat up (kept in the history)."),
    )


class BulkAssignForm(forms.Form):
    """A pasted list, an uploaded .txt/.csv (UTF-8 or GBK), or a department with its
    sub-departments; the modules every new seat gets."""

    entries = forms.CharField(
        label=_("Employee numbers or e-mails"),
        required=False,
        max_length=TEXT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=_("One per line, or separated by commas, semicolons or spaces."),
    )
    upload = forms.FileField(
        label=_("Or a file (.txt or .csv)"),
        required=False,
        help_text=_("UTF-8 or GBK, at most 1 MB."),
    )
    department = forms.ModelChoiceField(
        label=_("Or everyone of a department (with its sub-departments)"),
        queryset=Department.objects.none(),
        required=False,
    )
    modules = forms.ModelMultipleChoiceField(queryset=Module.objects.none(), required=False)

    def __init__(
        self, *args: Any, subscription: Subscription, departments: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]
        self.fields["upload"].widget.attrs["accept"] = ".txt,.csv,text/plain,text/csv"
        self.fields["modules"] = _modules_field(subscription)

    def clean_upload(self) -> str:
        upload = self.cleaned_data.get("upload")
        if not upload:
            return ""
        if upload.size > UPLOAD_MAX_BYTES:
            raise ValidationError(_("The file is larger than 1 MB."))
        raw = upload.read(UPLOAD_MAX_BYTES + 1)
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return str(raw.decode(encoding))
            except UnicodeDecodeError:
                continue
        raise ValidationError(_("The file is neither UTF-8 nor GBK text."))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = "\n".join(t for t in (data.get("entries", ""), data.get("upload", "")) if t)
        department = data.get("department")
        if self.errors:
            return data
        if department is not None and text.strip():
            raise ValidationError(_("Paste a list or choose a department, not both."))
        if department is None:
            entries = split_people_list(text)
            if not entries:
                raise ValidationError(_("Paste a list, upload a file or choose a department."))
            if len(entries) > BULK_MAX_LINES:
                raise ValidationError(
                    _("At most %(max)d entries at once; the list has %(count)d."),
                    params={"max": BULK_MAX_LINES, "count": len(entries)},
                )
            different = len({entry.casefold() for entry in entries})
            if different > BULK_MAX_ENTRIES:
                raise ValidationError(
                    _("At most %(max)d different people at once; the list names %(count)d."),
                    params={"max": BULK_MAX_ENTRIES, "count": different},
                )
            data["list"] = entries
            data["text"] = "\n".join(entries)
        return data
