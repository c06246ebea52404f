"""Seat requests: ask for a seat (anyone in the directory), the inbox of those who decide them
(grant, decline, ask for more seats), and withdrawing one's own request."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from org.permissions import role_required, signed_in_user
from renewals.seats import policy, selectors, services
from renewals.seats.forms import AnswerForm, SeatAskForm
from renewals.usage.services import SeatLimitReached


def _pk(request: HttpRequest, key: str) -> int | None:
    text = request.GET.get(key, "")
    return int(text) if text.isdigit() and len(text) < 10 else None


def _said(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, PermissionDenied):
        return str(exc) if exc.args else _("You may not do this.")
    return " ".join(str(m) for m in exc.messages)


@require_http_methods(["GET", "POST"])
@login_required
def seat_request_add(request: HttpRequest) -> HttpResponse:
    """Ask a seat for oneself; ``?subscription=<pk>`` (the buttons of my software and of the
    subscription page) chooses it."""
    user = signed_in_user(request)
    person = policy.person_of(user)
    if person is None:
        return render(request, "renewals/seats/seat_request_form.html", {"form": None})
    subscriptions = selectors.askable_subscriptions(person)
    initial: dict[str, Any] = {}
    if (pk := _pk(request, "subscription")) is not None:
        initial["subscription"] = pk  # not one of the choices → simply not chosen
    form = SeatAskForm(request.POST or None, initial=initial, subscriptions=subscriptions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.seat_request_ask(
                user=user,
                subscription=data["subscription_obj"],
                modules=data["module_objs"],
                reason=data["reason"],
            )
        except (PermissionDenied, ValidationError) as exc:
            form.add_error(None, _said(exc))
        else:
            messages.success(
                request, _("Your seat request was sent; you will be told what is decided.")
            )
            return redirect(reverse("renewals:my-software") + "#seat-requests")
    return render(
        request,
        "renewals/seats/seat_request_form.html",
        {"form": form, "has_choices": len(form.subscriptions) > 0},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET"])
@role_required(*policy.DECIDER_ROLES)
def seat_request_inbox(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    rows = list(selectors.inbox(user=user)[:200])
    return render(
        request,
        "renewals/seats/seat_request_inbox.html",
        {"rows": rows, "full": _pk(request, "full"), "answer_form": AnswerForm()},
    )


def _decision(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = signed_in_user(request)
    seat_request = selectors.get_decidable(user, pk)
    form = AnswerForm(request.POST)
    inbox = reverse("renewals:seat-request-inbox")
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(inbox)
    answer = form.cleaned_data["answer"]
    name = {"person": seat_request.person.name}
    try:
        if action == "grant":
            services.seat_request_grant(user=user, seat_request=seat_request, answer=answer)
            messages.success(request, _("%(person)s has the seat; they were told.") % name)
        elif action == "decline":
            services.seat_request_decline(user=user, seat_request=seat_request, answer=answer)
            messages.success(request, _("Declined; %(person)s was told why.") % name)
        else:
            done = services.seat_request_escalate(
                user=user, seat_request=seat_request, answer=answer
            )
            renewal = done.renewal_request
            assert renewal is not None
            messages.success(
                request,
                _(
                    "The request of %(person)s waits for renewal request #%(pk)s (more seats); "
                    "check the seats it proposes and submit it."
                )
                % {**name, "pk": renewal.pk},
            )
            return redirect(renewal.get_absolute_url())
    except SeatLimitReached as exc:
        messages.warning(request, _said(exc))
        return redirect(f"{inbox}?full={seat_request.pk}#seat-request-{seat_request.pk}")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _said(exc))
    return redirect(inbox)


@require_POST
@role_required(*policy.DECIDER_ROLES)
def seat_request_grant(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision(request, pk, "grant")


@require_POST
@role_required(*policy.DECIDER_ROLES)
def seat_request_decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision(request, pk, "decline")


@require_POST
@role_required(*policy.DECIDER_ROLES)
def seat_request_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    return _decision(request, pk, "escalate")


@require_POST
@login_required
def seat_request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    seat_request = selectors.get_own(user, pk)
    try:
        services.seat_request_withdraw(user=user, seat_request=seat_request)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _said(exc))
    else:
        messages.success(request, _("Your seat request was withdrawn."))
    return redirect(reverse("renewals:my-software") + "#seat-requests")
