"""Fill zh-hans translations into locale/zh_Hans/LC_MESSAGES/django.po from batch files, then
compile the catalogue.

Workflow after adding or changing strings::

    DEBUG=true .venv/bin/python manage.py makemessages -l zh_Hans --no-obsolete \
        --ignore=node_modules --ignore=var --ignore=static --ignore=bench --ignore=tests
    .venv/bin/python locale/fill_translations.py --missing        # what still needs a translation
    .venv/bin/python locale/fill_translations.py my_batch.py      # fill, clear fuzzy, compile

A batch file is Python defining ``T = {(context_or_None, msgid): msgstr}`` and optionally
``PLURALS = {(context_or_None, msgid): msgstr}`` (Chinese has one plural form). Only entries that
exist in the catalogue are filled; unknown keys are listed so typos show.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def main(argv: list[str]) -> int:
    po = polib.pofile(str(PO), wrapwidth=79)
    if argv and argv[0] == "--missing":
        for entry in po:
            if entry.obsolete:
                continue
            empty = not entry.msgstr and not any(entry.msgstr_plural.values())
            if empty or "fuzzy" in entry.flags:
                print(repr((entry.msgctxt, entry.msgid)), "plural" if entry.msgid_plural else "")
        return 0
    table: dict[tuple[str | None, str], str] = {}
    plurals: dict[tuple[str | None, str], str] = {}
    for batch in argv:
        ns = runpy.run_path(batch)
        table.update(ns.get("T", {}))
        plurals.update(ns.get("PLURALS", {}))
    seen = set()
    for entry in po:
        key = (entry.msgctxt, entry.msgid)
        if entry.msgid_plural and key in plurals:
            entry.msgstr_plural = {0: plurals[key]}
        elif not entry.msgid_plural and key in table:
            entry.msgstr = table[key]
        else:
            continue
        seen.add(key)
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
    po.save()
    unknown = (set(table) | set(plurals)) - seen
    for key in sorted(unknown, key=str):
        print("not in the catalogue:", key, file=sys.stderr)
    # polib, not msgfmt: msgfmt rejects a few Chinese strings whose full-width punctuation
    # follows a percent sign that Django marked as python-format.
    po.save_as_mofile(str(PO.with_suffix(".mo")))
    print(f"filled {len(seen)} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
