"""What a filter offers: its id filters (a FilterSet's or a page form's), whether one accepts an
id, the API's filtered endpoints, an id that does not exist."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import django_filters
import pytest
from django import forms
from django.db.models import Model

from config.api_urls import router
from org.models import Department, User
from tests.filter_scoping.world import World

# A form field of a page that names objects by a plain choice list: the model it names.
FIELD_MODELS: dict[str, type[Model]] = {"department": Department, "owner": User}


@dataclass
class IdFilter:
    """A filter naming objects of ``model``: the values it offers (None: checked one by one)."""

    name: str
    model: type[Model]
    offered: set[int] | None
    field: forms.Field


def _related_model(model: type[Model], path: str) -> type[Model] | None:
    """The model a filter's field path (``subscription__vendor``) ends on, if a relation."""
    for part in path.split("__"):
        try:
            found = model._meta.get_field(part)
        except Exception:  # noqa: BLE001 - not a model field (a method filter)
            return None
        if not found.is_relation or found.related_model is None:
            return None
        model = found.related_model
    return model


def _values(choices: Any) -> set[int]:
    return {int(value) for value, _label in choices if str(value).isdigit()}


def _id_filter(name: str, form_field: forms.Field, model: type[Model] | None) -> IdFilter | None:
    if isinstance(form_field, forms.ModelChoiceField):
        assert form_field.queryset is not None
        return IdFilter(name, form_field.queryset.model, None, form_field)
    if model is None:
        return None
    if isinstance(form_field, forms.ChoiceField):
        return IdFilter(name, model, _values(form_field.choices), form_field)
    # An id typed freely (a number box on a foreign key): nothing limits it to the user's scope.
    pytest.fail(f"filter {name!r} names {model.__name__} objects but offers no scoped choices")


def filterset_id_filters(filterset: django_filters.FilterSet) -> list[IdFilter]:
    found = []
    for name, filter_ in filterset.filters.items():
        model = _related_model(filterset._meta.model, filter_.field_name)
        if (one := _id_filter(name, filterset.form.fields[name], model)) is not None:
            found.append(one)
    return found


def form_id_filters(form: forms.Form) -> list[IdFilter]:
    found = []
    for name, form_field in form.fields.items():
        if (one := _id_filter(name, form_field, FIELD_MODELS.get(name))) is not None:
            found.append(one)
    return found


def accepts(id_filter: IdFilter, pk: int) -> bool:
    if id_filter.offered is not None:
        return pk in id_filter.offered
    try:
        id_filter.field.clean(str(pk))
    except forms.ValidationError:
        return False
    return True


def check_offered(where: str, role: str, id_filter: IdFilter, world: World) -> None:
    """No object of another department is offered, and the user's own are."""
    model = id_filter.model
    for pk in world.forbidden(role, model):
        assert not accepts(id_filter, pk), f"{where} {id_filter.name}: {role} offered {pk}"
    for pk in world.own(role, model):
        assert accepts(id_filter, pk), f"{where} {id_filter.name}: {role} not offered {pk}"


def nonexistent(model: type[Model]) -> int:
    last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0
    return int(last) + 1000


def api_endpoints() -> Iterator[tuple[str, type[django_filters.FilterSet]]]:
    for prefix, viewset, _basename in router.registry:
        filterset_class = getattr(viewset, "filterset_class", None)
        assert not getattr(viewset, "filterset_fields", None), (
            f"{prefix}: filterset_fields builds unscoped choices; use a FilterSet class"
        )
        if filterset_class is not None:
            yield f"/api/v1/{prefix}/", filterset_class
