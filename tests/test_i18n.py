"""Both languages are complete: every translatable string in the code has a zh-hans translation
and the compiled catalogue matches the source catalogue."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib

from tests.helpers import database_url

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCES = [
    "config",
    "core",
    "org",
    "budgets",
    "renewals",
    "contracts",
    "integrations",
    "templates",
    "locale",
    "manage.py",
]


def test_every_translatable_string_has_a_chinese_translation(tmp_path: Path) -> None:
    # Re-extract the strings from a copy of the sources, merging the committed catalogue in, and
    # look for anything new (empty msgstr), fuzzy, or no longer used (committed but not found).
    for name in SOURCES:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    fresh = polib.pofile(str(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    committed = polib.pofile(str(PO))
    untranslated = [e.msgid for e in fresh if not e.translated() and not e.obsolete]
    fuzzy = [e.msgid for e in fresh if "fuzzy" in e.flags]
    assert not untranslated, f"strings without a zh-hans translation: {untranslated}"
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy}"
    assert {e.msgid for e in fresh} == {e.msgid for e in committed}, (
        "locale/zh_Hans/LC_MESSAGES/django.po is out of date: run makemessages (see README)"
    )


def test_the_compiled_catalogue_matches_the_source() -> None:
    po = polib.pofile(str(PO))
    mo = polib.mofile(str(PO.with_suffix(".mo")))
    compiled = {(e.msgid, e.msgstr or str(e.msgstr_plural)) for e in mo if e.msgid}
    source = {
        (e.msgid, e.msgstr or str({int(k): v for k, v in e.msgstr_plural.items()}))
        for e in po.translated_entries()
    }
    assert compiled == source, "django.mo is stale: compile it (see README, Translations)"
