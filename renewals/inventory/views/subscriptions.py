"""Adding and editing a subscription. Thin: who may (policy), the form, the service, the page.
An edit over someone else's newer change comes back with who changed what (StaleEdit), the
editor's input kept and the current version taken, so saving again after reading goes through.
Archiving is renewals.execution.views.subscription_archive."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from org.permissions import role_required
from org.roles import DIRECTORY_ROLES, Role
from org.scoping import managed_departments
from renewals.inventory.forms.subscriptions import (
    SubscriptionForm,
    active_users,
    initial_of,
    live_vendors,
    read_seen,
    sign_seen,
)
from renewals.inventory.models import Subscription
from renewals.inventory.policy import (
    FULL_FIELDS,
    editable_fields,
    owner_choices,
    recipient_candidates,
)
from renewals.inventory.selectors import visible_subscriptions
from renewals.inventory.services.subscriptions import (
    StaleEdit,
    subscription_create,
    subscription_snapshot,
    subscription_update,
)

TEMPLATE = "renewals/inventory/subscription_form.html"
# A new subscription's form starts from the model's defaults.
NEW_INITIAL = {
    "currency": settings.BASE_CURRENCY,
    "billing_cycle": Subscription._meta.get_field("billing_cycle").default,
    "notice_period_days": Subscription._meta.get_field("notice_period_days").default,
}


def _form(
    request: HttpRequest,
    fields: tuple[str, ...],
    subscription: Subscription | None,
    data: Any = None,
) -> SubscriptionForm:
    recipients = recipient_candidates(subscription.department) if subscription else active_users()
    return SubscriptionForm(
        data,
        fields=fields,
        # An archived vendor stays on the subscriptions that name it.
        vendors=live_vendors(keep=subscription.vendor_id if subscription else None),
        departments=managed_departments(request.user).order_by("code"),
        owners=owner_choices(actor=request.user),
        recipients=recipients,
        initial=initial_of(subscription) if subscription else NEW_INITIAL,
    )


def _add_errors(form: SubscriptionForm, exc: ValidationError) -> None:
    """A refusal on the form: a field's error beside its field (one the form lacks, on top)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@require_http_methods(["GET", "POST"])
@role_required(Role.IT_ADMIN)
def subscription_add(request: HttpRequest) -> HttpResponse:
    form = _form(request, FULL_FIELDS, None, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription = subscription_create(user=request.user, data=form.values())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Subscription %(ref)s added.") % {"ref": subscription.ref})
            return redirect(subscription)
    return render(request, TEMPLATE, {"form": form, "subscription": None})


@require_http_methods(["GET", "POST"])
@role_required(*DIRECTORY_ROLES)
def subscription_edit(request: HttpRequest, pk: int) -> HttpResponse:
    # Another department's subscription does not exist for the user (404); one they see but
    # may not change is 403.
    subscription = get_object_or_404(visible_subscriptions(user=request.user), pk=pk)
    fields = editable_fields(request.user, subscription)
    if not fields:
        raise PermissionDenied
    form = _form(request, fields, subscription, request.POST or None)
    stale: StaleEdit | None = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = subscription_update(
                user=request.user,
                subscription=subscription,
                data=form.values(),
                version=form.cleaned_data["version"] or 0,
                seen=read_seen(form.cleaned_data["seen"]),
            )
        except StaleEdit as exc:
            stale = exc
            # Keep what the editor typed; take the version (and snapshot) now current, so
            # saving again after reading the changes goes through.
            current = Subscription.objects.get(pk=subscription.pk)
            data = request.POST.copy()
            data["version"], data["seen"] = (
                str(exc.version),
                sign_seen(subscription_snapshot(current)),
            )
            form = _form(request, fields, current, data)
            form.is_valid()
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Subscription %(ref)s saved.") % {"ref": saved.ref})
            return redirect(saved)
    elif request.method == "GET":
        form.initial["seen"] = sign_seen(subscription_snapshot(subscription))
    return render(
        request,
        TEMPLATE,
        {
            "form": form,
            "subscription": subscription,
            "stale": stale,
            "limited": fields != FULL_FIELDS,
        },
    )
