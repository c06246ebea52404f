"""What the list pages' FilterSets share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def set_choices(filterset: Any, name: str, choices: Iterable[tuple[Any, Any]]) -> None:
    """Give one instance's filter its own choices (the user's departments, say).

    django-filter builds a filter's form field once and keeps it on the filter; an instance's
    filters are deep copies of the class's, so a field built on the class (the OpenAPI schema
    generator does that) would be copied with its choices and ignore new ones: every value
    would then be refused. The field is dropped here and built again from these choices."""
    filter_ = filterset.filters[name]
    filter_.extra["choices"] = list(choices)
    filter_.__dict__.pop("_field", None)
