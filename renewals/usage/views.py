"""Seats in the app (#18): the person picker, assigning one seat or a list of people, revoking
with a reason and reassigning a seat in one step. Thin: a form, a usage service, a page. Only
the departments' managers (IT admins, heads and software admins of the subscription's
department) reach these pages; another department's subscription or seat is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from org.permissions import role_required, signed_in_user
from org.roles import Role
from org.scoping import managed_departments, visible_departments
from renewals.inventory.models import Subscription
from renewals.inventory.selectors import get_subscription_to_manage
from renewals.usage import selectors, services
from renewals.usage.forms import BulkAssignForm, SeatAssignForm, SeatReassignForm, SeatRevokeForm
from renewals.usage.models import Seat

MANAGERS = (Role.IT_ADMIN, Role.DEPARTMENT_HEAD, Role.SOFTWARE_ADMIN)


def _page(subscription: Subscription) -> str:
    return reverse("renewals:subscription-detail", args=[subscription.pk])


def _seat_to_manage(request: HttpRequest, pk: int) -> Seat:
    """An active seat of a subscription the user may change (404 otherwise)."""
    return get_object_or_404(
        Seat.objects.select_related("person", "subscription", "subscription__vendor").filter(
            subscription__department__in=managed_departments(request.user),
            revoked_on__isnull=True,
        ),
        pk=pk,
    )


def _refusal(form: Any, exc: ValidationError) -> bool:
    """Show a service's refusal on the form; True when it was the "subscription is full" one."""
    form.add_error(None, exc.messages)
    return isinstance(exc, services.SeatLimitReached)


def _full_context(subscription: Subscription) -> dict[str, Any]:
    used = Seat.objects.filter(subscription=subscription, revoked_on__isnull=True).count()
    return {
        "subscription": subscription,
        "used": used,
        "is_full": used >= subscription.seats_purchased,
    }


@require_GET
@role_required(*MANAGERS)
def people_search(request: HttpRequest) -> JsonResponse:
    """The person picker's answers: ``{"results": [{id, name, employee_no, email, department,
    value}]}``, at most 15 active people the user may see (JSON, for the picker's script)."""
    if not managed_departments(request.user).exists():
        raise PermissionDenied
    people = selectors.people_search(user=request.user, query=request.GET.get("q", ""))
    return JsonResponse(
        {
            "results": [
                {
                    "id": p.pk,
                    "name": p.name,
                    "employee_no": p.employee_no,
                    "email": p.email,
                    "department": p.department.name,
                    "value": p.employee_no,
                }
                for p in people
            ]
        }
    )


@require_http_methods(["GET", "POST"])
@role_required(*MANAGERS)
def seat_assign(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_subscription_to_manage(request.user, pk)
    form = SeatAssignForm(request.POST or None, user=request.user, subscription=subscription)
    full = False
    if request.method == "POST" and form.is_valid():
        try:
            seat = services.seat_assign(
                user=signed_in_user(request),
                subscription=subscription,
                person=form.cleaned_data["person"],
                modules=form.cleaned_data["modules"],
                account=form.cleaned_data["account"],
            )
        except ValidationError as exc:
            full = _refusal(form, exc)
        else:
            messages.success(request, _("%(person)s now holds a seat.") % {"person": seat.person})
            return redirect(_page(subscription))
    context = _full_context(subscription) | {"form": form}
    context["is_full"] = context["is_full"] or full
    return render(request, "renewals/usage/seat_assign.html", context, status=409 if full else 200)


@require_http_methods(["GET", "POST"])
@role_required(*MANAGERS)
def seat_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    seat = _seat_to_manage(request, pk)
    form = SeatRevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.seat_revoke(
                user=signed_in_user(request), seat=seat, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _refusal(form, exc)
        else:
            messages.success(
                request, _("The seat of %(person)s was revoked.") % {"person": seat.person}
            )
            return redirect(_page(seat.subscription))
    return render(
        request,
        "renewals/usage/seat_change.html",
        {"form": form, "seat": seat, "subscription": seat.subscription, "action": "revoke"},
    )


@require_http_methods(["GET", "POST"])
@role_required(*MANAGERS)
def seat_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    seat = _seat_to_manage(request, pk)
    form = SeatReassignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.seat_reassign(
                user=signed_in_user(request),
                seat=seat,
                person=form.cleaned_data["person"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _refusal(form, exc)
        else:
            messages.success(
                request,
                _("The seat of %(old)s now belongs to %(new)s.")
                % {"old": seat.person, "new": new.person},
            )
            return redirect(_page(seat.subscription))
    return render(
        request,
        "renewals/usage/seat_change.html",
        {"form": form, "seat": seat, "subscription": seat.subscription, "action": "reassign"},
    )


@require_http_methods(["GET", "POST"])
@role_required(*MANAGERS)
def seats_bulk_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1: the list (pasted, uploaded or a department) → the preview. Step 2 ("confirm",
    with the preview's key): every listed person gets a seat, or nobody does."""
    subscription = get_subscription_to_manage(request.user, pk)
    form = BulkAssignForm(
        request.POST or None,
        request.FILES or None,
        subscription=subscription,
        departments=visible_departments(request.user).order_by("name"),
    )
    preview = None
    error = ""
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            data = form.cleaned_data
            preview = selectors.bulk_preview(
                user=request.user,
                subscription=subscription,
                entries=data.get("list", ()),
                department=data.get("department"),
            )
            if request.POST.get("confirm"):
                error, status = _bulk_confirm(request, form, preview)
                if not error:
                    return redirect(_page(subscription))
    context = _full_context(subscription) | {"form": form, "preview": preview, "error": error}
    return render(request, "renewals/usage/seats_bulk.html", context, status=status)


def _bulk_confirm(
    request: HttpRequest, form: BulkAssignForm, preview: selectors.BulkPreview
) -> tuple[str, int]:
    """Assign the previewed seats; ("", 200) when done, else the refusal and the status."""
    if request.POST.get("confirm") != preview.key:
        return _("The list changed since the preview: check it again."), 409
    try:
        seats = services.seats_bulk_assign(
            user=signed_in_user(request),
            subscription=preview.subscription,
            people=preview.to_assign,
            modules=form.cleaned_data["modules"],
        )
    except ValidationError as exc:
        status = 409 if isinstance(exc, services.SeatLimitReached) else 400
        return " ".join(exc.messages), status
    messages.success(
        request,
        ngettext("%(n)d seat assigned.", "%(n)d seats assigned.", len(seats)) % {"n": len(seats)},
    )
    return "", 200
