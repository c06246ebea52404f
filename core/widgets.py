"""Form widgets shared by every app."""

from __future__ import annotations

from typing import Any

from django import forms


class DateInput(forms.DateInput):
    """A browser date picker. ``<input type=date>`` accepts only ISO dates (YYYY-MM-DD): a value
    in the language's date format (Chinese: 2026/12/10) shows an empty field, and the form then
    comes back "required"."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")
