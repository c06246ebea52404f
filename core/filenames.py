"""File names users see: cleaned of folders, control and direction-override characters, and
characters Windows refuses (uploads keep the cleaned original name; downloads offer it)."""

from __future__ import annotations

import re
import unicodedata


def clean_name(name: str, extension: str) -> str:
    """The original name as safe text: no folders, no control or direction-override
    characters, none that Windows refuses, at most 150 characters, ending in the extension of
    the real content."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(
        ch
        for ch in unicodedata.normalize("NFC", base)
        if unicodedata.category(ch)[0] != "C" and ch not in '"<>|*?:'
    ).strip(" .")
    stem = base[: -len(extension)] if base.lower().endswith(extension) else base
    if extension == ".jpg" and stem.lower().endswith(".jpeg"):
        stem = stem[:-5]
    stem = stem[:150].strip(" .") or "document"
    return stem + extension
