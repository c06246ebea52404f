"""The import page's upload form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from renewals.imports.models import ImportJob


class ImportUploadForm(forms.Form):
    """Choose what the file holds and upload it (CSV or XLSX)."""

    kind = forms.ChoiceField(label=_("What the file holds"), choices=())
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        help_text=_("UTF-8, UTF-8 with BOM or GBK; the first row holds the column names."),
    )

    def __init__(self, *args: Any, kinds: list[ImportJob.Kind], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.value, k.label) for k in kinds]  # type: ignore[attr-defined]
        self.fields["file"].widget.attrs["accept"] = ".csv,.xlsx,text/csv"

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB."),
                params={"limit": settings.IMPORT_MAX_BYTES // (1024 * 1024)},
            )
        return upload
