"""Browsers accept only ISO dates (YYYY-MM-DD) in <input type=date>; a widget that renders the
value in the language's date format shows an empty field, and the form then comes back
"required". Every date picker of ours is core.widgets.DateInput, which renders ISO."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from django.utils import translation

from core.widgets import DateInput

ROOT = Path(__file__).resolve().parent.parent
# A date picker built from Django's widget directly (type=date given by hand).
HAND_MADE = re.compile(r"forms\.DateInput\([^)]*[\"']date[\"']", re.S)


def test_every_date_picker_is_the_iso_widget() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("*/**/*.py")
        if ".venv" not in path.parts
        and "tests" not in path.parts
        and HAND_MADE.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders


def test_the_iso_widget_keeps_its_format_in_chinese() -> None:
    with translation.override("zh-hans"):
        html = DateInput().render("d", dt.date(2026, 12, 10))
    assert 'type="date"' in html and 'value="2026-12-10"' in html
