"""Browsers accept only ISO dates (YYYY-MM-DD) in <input type=date>; a widget that renders the
value in the language's date format shows an empty field, and the form then comes back
"required". Every date widget of ours names the ISO format."""

from __future__ import annotations

import re
from pathlib import Path

from django import forms
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
DATE_WIDGET = re.compile(r"DateInput\((?P<args>[^)]*)\)", re.S)


def test_every_html5_date_widget_renders_iso_dates() -> None:
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        for match in DATE_WIDGET.finditer(path.read_text(encoding="utf-8")):
            args = match["args"]
            if '"date"' in args and 'format="%Y-%m-%d"' not in args:
                offenders.append(f"{path.relative_to(ROOT)}: {match[0]}")
    assert not offenders, offenders


def test_the_iso_widget_keeps_its_format_in_chinese() -> None:
    import datetime as dt

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    with translation.override("zh-hans"):
        html = widget.render("d", dt.date(2026, 12, 10))
    assert 'value="2026-12-10"' in html
