"""Audit pages: the whole trail for auditors and IT admins, and one object's history for
everyone who may see that object."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.apps import apps
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from pghistory.models import Events

from budgets.views import get_budget_for
from contracts.selectors import get_contract_for
from core.audit import MASKERS, Secret, mask_secret
from core.widgets import DateInput
from org.models import Person, User
from org.permissions import role_required
from org.roles import DIRECTORY_ROLES, SYSTEM_ROLES
from org.scoping import get_department_for, visible_departments
from renewals.inventory.selectors import get_subscription_for
from renewals.requests.selectors.requests import get_request_for

PAGE_SIZE = 50


def _person(user: Any, pk: int) -> Model:
    """A person of a department the user may see (the directory's scope)."""
    return get_object_or_404(Person.objects.filter(department__in=visible_departments(user)), pk=pk)


# The objects that have a history page, and how each is fetched for a user (404 when they may
# not see it, like its own page).
OBJECTS: dict[str, Callable[[Any, int], Model]] = {
    "subscription": get_subscription_for,
    "request": get_request_for,
    "contract": get_contract_for,
    "person": _person,
    "department": get_department_for,
    "budget": get_budget_for,
}


def tracked_models() -> list[tuple[str, str]]:
    """(event model label, the tracked model's name in the reader's language)."""
    found = []
    for model in apps.get_models():
        tracked = getattr(model, "pgh_tracked_model", None)
        if tracked is not None and getattr(model, "pgh_trackers", None):
            found.append((model._meta.label, str(tracked._meta.verbose_name)))
    return sorted(found, key=lambda pair: pair[1])


@dataclass
class Row:
    """One event as the pages show it."""

    when: dt.datetime
    label: str
    model: str
    object_id: str
    user: User | None
    url: str
    method: str
    ip: str
    changes: list[tuple[str, Any, Any]]


def _masker(tracked: type[Model]) -> Callable[[str, Any], Any]:
    """Declared secrets masked once more as they are shown (the database masks them on the way
    in; this also covers rows written while that was bypassed, e.g. restored from a backup)."""
    secrets: dict[str, Secret] = getattr(tracked, "audit_secrets", {})

    def mask(name: str, value: Any) -> Any:
        how = secrets.get(name)
        if how is None:
            return value
        return MASKERS.get(how, mask_secret)(value)  # OMIT: never shown either

    return mask


LABELS = {"insert": _("created"), "update": _("changed"), "delete": _("deleted")}


def _rows(events: list[Any]) -> list[Row]:
    """Events with their users (one query), field names in the reader's language."""
    user_ids = {e.pgh_context.get("user") for e in events if e.pgh_context}
    users = User.objects.in_bulk([u for u in user_ids if isinstance(u, int)])
    rows = []
    for event in events:
        context = event.pgh_context or {}
        tracked = apps.get_model(event.pgh_obj_model)
        names = {f.name: str(f.verbose_name) for f in tracked._meta.fields}
        names.update({f.attname: str(f.verbose_name) for f in tracked._meta.fields})
        mask = _masker(tracked)
        if event.pgh_label == "update" and event.pgh_diff:
            changes = [(names.get(k, k), mask(k, v[0]), mask(k, v[1])) for k, v in sorted(event.pgh_diff.items())]  # fmt: skip
        else:
            data = event.pgh_data or {}
            changes = [(names.get(k, k), None, mask(k, v)) for k, v in sorted(data.items()) if v not in (None, "", [])]  # fmt: skip
        rows.append(
            Row(
                when=event.pgh_created_at,
                label=str(LABELS.get(event.pgh_label, event.pgh_label)),
                model=str(tracked._meta.verbose_name),
                object_id=str(event.pgh_obj_id or ""),
                user=users.get(context.get("user")),
                url=str(context.get("url") or ""),
                method=str(context.get("method") or ""),
                ip=str(context.get("ip") or ""),
                changes=changes,
            )
        )
    return rows


class AuditFilter(forms.Form):
    model = forms.ChoiceField(label=_("What"), required=False)
    user = forms.ModelChoiceField(
        label=_("Who"), queryset=User.objects.order_by("username"), required=False
    )
    object_id = forms.IntegerField(label=_("Object id"), required=False, min_value=1, max_value=2**63 - 1)  # fmt: skip
    since = forms.DateField(label=_("From"), required=False, widget=DateInput())
    until = forms.DateField(label=_("Until"), required=False, widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", _("Everything")), *tracked_models()]  # type: ignore[attr-defined]


@require_GET
@role_required(*SYSTEM_ROLES)
def audit_list(request: HttpRequest) -> HttpResponse:
    """Every recorded change, newest first, filtered by what, who, object and dates."""
    form = AuditFilter(request.GET or None)
    events = Events.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["model"]:
            events = Events.objects.across(data["model"])
        if data["user"]:
            events = events.filter(pgh_context__user=data["user"].pk)
        if data["object_id"]:
            events = events.filter(pgh_obj_id=str(data["object_id"]))
        if data["since"]:
            events = events.filter(pgh_created_at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(pgh_created_at__date__lte=data["until"])
    paginator = Paginator(events.order_by("-pgh_created_at", "-pgh_slug"), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {"form": form, "page": page, "rows": _rows(list(page)), "querystring": query.urlencode()},
    )


@require_GET
@role_required(*DIRECTORY_ROLES)
def audit_object(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """One object's history, for those who may see the object."""
    if kind not in OBJECTS:
        raise Http404
    obj = OBJECTS[kind](request.user, pk)
    events = Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_slug")
    paginator = Paginator(events, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    back = obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else reverse("home")
    return render(
        request,
        "audit/object.html",
        {"object": obj, "kind": kind, "page": page, "rows": _rows(list(page)), "back": back},
    )
