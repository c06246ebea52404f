"""Exchange rates (Manage → Exchange rates): finance and IT admins keep the rates table that
converts every quote; auditors read it. A rate a quote or request records cannot change."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from budgets.money import parse_currency
from org.permissions import role_required
from org.roles import RATE_ROLES, Role, has_role
from renewals.inventory.models import CurrencyRate
from renewals.rates import selectors, services
from renewals.rates.forms import RateForm

READ_ROLES = tuple(RATE_ROLES)
WRITE_ROLES = (Role.FINANCE, Role.IT_ADMIN)


def _currency_filter(request: HttpRequest) -> str | None:
    """The ?currency= filter: a code, or nothing (an invalid one shows every currency)."""
    try:
        return parse_currency(request.GET.get("currency", "")[:3]) or None
    except ValidationError:
        return None


@require_GET
@role_required(*READ_ROLES)
def rate_list(request: HttpRequest) -> HttpResponse:
    currency = _currency_filter(request)
    return render(
        request,
        "renewals/rates/rate_list.html",
        {
            "page": selectors.rates_page(currency=currency, page_number=request.GET.get("page")),
            "currencies": selectors.currencies(),
            "chosen": currency,
            "querystring": f"currency={currency}" if currency else "",
            "in_force": selectors.in_force_ids(),
            "today": timezone.localdate(),
            "can_edit": has_role(request.user, *WRITE_ROLES),
        },
    )


def _form_page(request: HttpRequest, form: RateForm, rate: CurrencyRate | None) -> HttpResponse:
    return render(request, "renewals/rates/rate_form.html", {"form": form, "rate": rate})


@require_http_methods(["GET", "POST"])
@role_required(*WRITE_ROLES)
def rate_add(request: HttpRequest) -> HttpResponse:
    form = RateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.rate_record(**form.values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Exchange rate recorded."))
            return redirect("renewals:rate-list")
    return _form_page(request, form, None)


@require_http_methods(["GET", "POST"])
@role_required(*WRITE_ROLES)
def rate_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rate = get_object_or_404(CurrencyRate, pk=pk)
    if services.rate_in_use(rate):
        # The page says why (the services refuse it anyway, under a lock).
        messages.error(request, " ".join(services.in_use_error().messages))
        return redirect("renewals:rate-list")
    initial = {"currency": rate.currency, "rate_to_base": f"{rate.rate_to_base.normalize():f}"}
    form = RateForm(request.POST or None, initial={**initial, "valid_from": rate.valid_from})
    if request.method == "POST" and form.is_valid():
        try:
            services.rate_correct(rate=rate, **form.values())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Exchange rate corrected."))
            return redirect("renewals:rate-list")
    return _form_page(request, form, rate)


@require_POST
@role_required(*WRITE_ROLES)
def rate_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rate = get_object_or_404(CurrencyRate, pk=pk)
    try:
        services.rate_delete(rate=rate)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Exchange rate deleted."))
    return redirect("renewals:rate-list")
