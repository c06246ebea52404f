"""Text read from outside systems, made safe to store and show on one line."""

from __future__ import annotations

# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators.
CONTROL = {c: " " for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]}


def one_line(text: str) -> str:
    """``text`` without control characters, its whitespace runs as single spaces."""
    return " ".join(text.translate(CONTROL).split())
