"""One setting of a directory source's or a usage connector's kind: how its form field is
built (integrations/forms.py setting_field) and whether it is a write-only secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    key: str
    label: Any
    secret: bool = False
    required: bool = False
    kind: str = "text"  # text, bool, int, url, choice
    help: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()
    default: Any = None  # what a new source starts with
    min_value: int = 1  # an int setting's bounds
    max_value: int = 600
