"""New-purchase intake (新购申请): the form any person of the directory fills in, the "what the
company already has" panel it shows as the product is typed, and "join that subscription
instead" (renewals.pages.views: it writes seat requests, a level above). The request it opens is then an ordinary request (renewals.requests.views.requests).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from org.permissions import signed_in_user
from org.roles import DIRECTORY_ROLES, has_role
from org.scoping import visible_departments
from renewals.inventory.models import Subscription, Vendor
from renewals.requests.forms import NewPurchaseForm
from renewals.requests.models.requests import Purpose
from renewals.requests.selectors import overlap
from renewals.requests.selectors import requests as selectors
from renewals.requests.services.intake import AlreadyHas, intake_departments, new_purchase_create

# The panel's query words are cut to the fields' lengths (a longer one matches nothing anyway).
MAX_QUERY = 120


def _errors(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


@require_http_methods(["GET", "POST"])
@login_required
def new_purchase(request: HttpRequest) -> HttpResponse:
    """Ask for a tool not yet in the inventory, for one's own department (or one managed)."""
    user = signed_in_user(request)
    if not intake_departments(user).exists():
        raise PermissionDenied
    form = NewPurchaseForm(request.POST or None, user=user)
    clash = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            created = new_purchase_create(user=user, **data)
        except AlreadyHas as exc:
            clash = exc.subscription
            form.add_error(None, _errors(exc))
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            messages.success(
                request,
                _(
                    "Draft opened. Check what the company already has, add quotes, then submit "
                    "it for approval."
                ),
            )
            return redirect(created)
    panel = overlap.already_has(
        vendor_name=_vendor_name(form), product=_value(form, "product"),
        category=_value(form, "category"),
    )  # fmt: skip
    return render(
        request,
        "renewals/requests/new_purchase.html",
        {"form": form, "already": panel, "clash": _clash_link(user, clash)},
    )


def _value(form: NewPurchaseForm, name: str) -> str:
    return str(form.data.get(name) or "")[:MAX_QUERY] if form.is_bound else ""


def _vendor_name(form: NewPurchaseForm) -> str:
    if not form.is_bound:
        return ""
    chosen = form.cleaned_data.get("vendor") if hasattr(form, "cleaned_data") else None
    return chosen.name if chosen else _value(form, "vendor_name")


def _clash_link(user: object, clash: Subscription | None) -> str:
    """Where the clashing product is shown: its subscription page (for who may open it), or its
    open new-purchase request (for its requester); empty when the user may open neither."""
    if clash is None:
        return ""
    if clash.status != Subscription.Status.PROPOSED:
        may_open = has_role(user, *DIRECTORY_ROLES) and (
            visible_departments(user).filter(pk=clash.department_id).exists()
        )
        return clash.get_absolute_url() if may_open else ""
    request = clash.renewal_requests.filter(purpose=Purpose.NEW).first()
    if request and selectors.readable_requests(user).filter(pk=request.pk).exists():
        return request.get_absolute_url()
    return ""


@require_GET
@login_required
def new_purchase_overlap(request: HttpRequest) -> HttpResponse:
    """The "already has" panel for what is typed so far (HTMX, as the form changes)."""
    if not intake_departments(signed_in_user(request)).exists():
        raise PermissionDenied
    vendor = str(request.GET.get("vendor_name") or "")[:MAX_QUERY]
    vendor_id = str(request.GET.get("vendor") or "")
    if vendor_id.isdigit() and len(vendor_id) < 12:
        chosen = Vendor.objects.filter(pk=int(vendor_id)).first()
        vendor = chosen.name if chosen else vendor
    panel = overlap.already_has(
        vendor_name=vendor,
        product=str(request.GET.get("product") or "")[:MAX_QUERY],
        category=str(request.GET.get("category") or "")[:MAX_QUERY],
    )
    return render(
        request, "renewals/requests/_already_has.html", {"already": panel, "can_join": False}
    )
