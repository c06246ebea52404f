"""What the list pages' FilterSets share, and the one rule for ids in filters: an id the user may
not see is refused exactly like an id that does not exist ("Select a valid choice", the value not
repeated), on the pages (the error under the field) and in the API (400)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django import forms
from django.db.models import Model, QuerySet

# The model choice field's wording, which does not repeat the value sent: the same answer for an
# id that does not exist and for one of another department.
NOT_AVAILABLE = {"invalid_choice": forms.ModelChoiceField.default_error_messages["invalid_choice"]}


def set_choices(filterset: Any, name: str, choices: Iterable[tuple[Any, Any]]) -> None:
    """Give one instance's filter its own choices (the user's departments, say).

    django-filter builds a filter's form field once and keeps it on the filter; an instance's
    filters are deep copies of the class's, so a field built on the class (the OpenAPI schema
    generator does that) would be copied with its choices and ignore new ones: every value
    would then be refused. The field is dropped here and built again from these choices."""
    filter_ = filterset.filters[name]
    filter_.extra["choices"] = list(choices)
    filter_.__dict__.pop("_field", None)


def set_queryset(filterset: Any, name: str, queryset: QuerySet[Any]) -> None:
    """Give one instance's ScopedIdFilter the objects the user may see (see set_choices for why
    the built field is dropped)."""
    filter_ = filterset.filters[name]
    filter_.queryset = queryset
    filter_.__dict__.pop("_field", None)


class ScopedIdFilter(django_filters.ModelChoiceFilter):
    """The id of one object among those the user may see (a subscription, a person, a budget...):
    one query checks it, so a long list is never read. It refuses every id until its FilterSet
    gives it the user's objects with set_queryset: a forgotten scope fails closed."""

    def __init__(self, *args: Any, model: type[Model], **kwargs: Any) -> None:
        kwargs.setdefault("queryset", model._default_manager.none())
        kwargs.setdefault("error_messages", NOT_AVAILABLE)
        # A number box on the pages (a select would list every object).
        kwargs.setdefault("widget", forms.NumberInput)
        super().__init__(*args, **kwargs)
