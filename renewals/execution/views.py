"""Recording an executed renewal (IT admins and finance): the order, the invoice and the new term,
prefilled from the chosen quote. Thin like the requests' views: find the request through the
scoping selector, call the execution service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from org.permissions import role_required, signed_in_user
from org.roles import Role
from renewals.execution import services
from renewals.inventory.selectors import get_subscription_for
from renewals.requests.forms import ExecuteForm, module_formset
from renewals.requests.models.requests import Purpose
from renewals.requests.selectors import requests as selectors


def _errors(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


@require_http_methods(["GET", "POST"])
@role_required(Role.IT_ADMIN, Role.FINANCE)
def request_execute(request: HttpRequest, pk: int) -> HttpResponse:
    renewal = selectors.get_request_for(request.user, pk)
    initial, module_rows = selectors.execution_initial(renewal)
    form = ExecuteForm(request.POST or None, initial=initial)
    modules = module_formset(
        request.POST or None,
        initial=module_rows,
        price_help=_(
            "In the subscription currency. Empty: the module's current price, converted with the "
            "recorded rate when the currency changes. Modules not listed are dropped."
        ),
    )
    if request.method == "POST" and form.is_valid() and modules.is_valid():
        try:
            services.request_execute(
                request=renewal,
                user=signed_in_user(request),
                modules=modules.lines(),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            messages.success(
                request,
                _("New purchase recorded: the subscription is live and its seats are assigned.")
                if renewal.purpose == Purpose.NEW
                else _(
                    "Renewal recorded: the subscription is on its new term and its users are told."
                ),
            )
            return redirect(renewal)
    return render(
        request,
        "renewals/requests/request_form.html",
        {
            "form": form,
            "modules": modules,
            "renewal": renewal,
            "title": _("Record the executed renewal"),
        },
    )


@require_POST
@role_required(Role.IT_ADMIN)
def subscription_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Archive a subscription (IT admins): out of the lists, history kept, never deleted."""
    subscription = get_subscription_for(request.user, pk)
    try:
        services.subscription_archive(user=signed_in_user(request), subscription=subscription)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(
            request,
            _("%(ref)s archived: its seats were revoked and its alerts stopped.")
            % {"ref": subscription.ref},
        )
    return redirect(subscription)
