"""Vendor pages of IT admins: add, change, archive and restore a vendor (the list and a
vendor's page are in ``lists``). Thin: the form, then renewals.inventory.services.vendors."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from org.permissions import role_required
from org.roles import Role
from renewals.inventory.forms.vendors import VendorForm
from renewals.inventory.models import Vendor
from renewals.inventory.services import vendors as services


def _form_page(request: HttpRequest, form: VendorForm, vendor: Vendor | None) -> HttpResponse:
    return render(request, "renewals/inventory/vendor_form.html", {"form": form, "vendor": vendor})


@require_http_methods(["GET", "POST"])
@role_required(Role.IT_ADMIN)
def vendor_add(request: HttpRequest) -> HttpResponse:
    form = VendorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            vendor = services.vendor_create(user=request.user, data=form.values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Vendor added."))
            return redirect(vendor)
    return _form_page(request, form, None)


@require_http_methods(["GET", "POST"])
@role_required(Role.IT_ADMIN)
def vendor_edit(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = get_object_or_404(Vendor, pk=pk)
    initial = {f: getattr(vendor, f) for f in services.VENDOR_FIELDS}
    form = VendorForm(request.POST or None, initial=initial, vendor=vendor)
    if request.method == "POST" and form.is_valid():
        try:
            services.vendor_update(user=request.user, vendor=vendor, data=form.values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Vendor saved."))
            return redirect(vendor)
    return _form_page(request, form, vendor)


@require_POST
@role_required(Role.IT_ADMIN)
def vendor_archive(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = get_object_or_404(Vendor, pk=pk)
    try:
        services.vendor_archive(user=request.user, vendor=vendor)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Vendor archived: it is no longer offered in the pickers."))
    return redirect(vendor)


@require_POST
@role_required(Role.IT_ADMIN)
def vendor_restore(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = get_object_or_404(Vendor, pk=pk)
    services.vendor_restore(user=request.user, vendor=vendor)
    messages.success(request, _("Vendor restored."))
    return redirect(vendor)
