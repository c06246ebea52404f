"""A subscription's modules, kept by IT admins and by the heads and software admins of its
department: add, change, archive and restore one (the subscription page lists them with these
actions). Another department's subscription or module is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from org.permissions import role_required
from org.roles import Role
from org.scoping import managed_departments
from renewals.inventory.forms.modules import ModuleForm
from renewals.inventory.models import Module, Subscription
from renewals.inventory.selectors import get_subscription_to_manage
from renewals.inventory.services import modules as services

EDITORS = (Role.IT_ADMIN, Role.DEPARTMENT_HEAD, Role.SOFTWARE_ADMIN)


def _modules_to_manage(request: HttpRequest) -> QuerySet[Module]:
    return Module.objects.select_related("subscription__vendor").filter(
        subscription__department__in=managed_departments(request.user)
    )


def _back(subscription: Subscription) -> HttpResponse:
    return redirect(subscription.get_absolute_url() + "#modules")


def _form_page(
    request: HttpRequest, form: ModuleForm, subscription: Subscription, module: Module | None
) -> HttpResponse:
    return render(
        request,
        "renewals/inventory/module_form.html",
        {"form": form, "subscription": subscription, "module": module},
    )


@require_http_methods(["GET", "POST"])
@role_required(*EDITORS)
def module_add(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_subscription_to_manage(request.user, pk)
    form = ModuleForm(request.POST or None, subscription=subscription)
    if request.method == "POST" and form.is_valid():
        try:
            services.module_create(user=request.user, subscription=subscription, data=form.values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Module added."))
            return _back(subscription)
    return _form_page(request, form, subscription, None)


@require_http_methods(["GET", "POST"])
@role_required(*EDITORS)
def module_edit(request: HttpRequest, pk: int) -> HttpResponse:
    module = get_object_or_404(_modules_to_manage(request), pk=pk)
    subscription = module.subscription
    if module.archived_at is not None:
        messages.error(request, _("This module is archived: restore it before changing it."))
        return _back(subscription)
    initial = {
        "name": module.name,
        "unit_price": "" if module.unit_price is None else f"{module.unit_price:f}",
        "licensed_seats": "" if module.licensed_seats is None else module.licensed_seats,
    }
    form = ModuleForm(request.POST or None, initial=initial, subscription=subscription)
    if request.method == "POST" and form.is_valid():
        try:
            services.module_update(user=request.user, module=module, data=form.values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Module saved."))
            return _back(subscription)
    return _form_page(request, form, subscription, module)


@require_POST
@role_required(*EDITORS)
def module_archive(request: HttpRequest, pk: int) -> HttpResponse:
    module = get_object_or_404(_modules_to_manage(request), pk=pk)
    try:
        services.module_archive(user=request.user, module=module)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Module archived: its usage and seat history are kept, its cost is not.")
        )
    return _back(module.subscription)


@require_POST
@role_required(*EDITORS)
def module_restore(request: HttpRequest, pk: int) -> HttpResponse:
    module = get_object_or_404(_modules_to_manage(request), pk=pk)
    try:
        services.module_restore(user=request.user, module=module)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Module restored."))
    return _back(module.subscription)
