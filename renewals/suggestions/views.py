"""Savings suggestions: submit (any signed-in user), list with filters and exports, detail with
IT's decision and the realised saving."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from core.columns import MoneyColumn, StatusColumn
from core.exports import SafeTableExport
from org.permissions import role_required, signed_in_user
from org.roles import Role
from renewals.suggestions import policy, selectors, services
from renewals.suggestions.forms import DecideForm, RealiseForm, SuggestionFilter, SuggestionForm
from renewals.suggestions.models import Suggestion

PAGE_SIZE = 50
_DETAIL = ("renewals:suggestion-detail", [tables.A("pk")])


class SuggestionTable(tables.Table):
    id = tables.Column(verbose_name="#", linkify=_DETAIL)
    title = tables.Column(verbose_name=gettext_lazy("Suggestion"), linkify=_DETAIL)
    subscription = tables.Column(
        verbose_name=gettext_lazy("Subscription"),
        accessor="subscription__product",
        order_by=("subscription__vendor__name", "subscription__product"),
    )
    department = tables.Column(
        verbose_name=gettext_lazy("Department"),
        accessor="subscription__department__name",
        order_by="subscription__department__name",
    )
    author = tables.Column(verbose_name=gettext_lazy("Suggested by"))
    estimated_saving = MoneyColumn(verbose_name=gettext_lazy("Estimated yearly saving (CNY)"))
    status = StatusColumn(verbose_name=gettext_lazy("Status"))
    decision_note = tables.Column(verbose_name=gettext_lazy("Decision note"), visible=False)
    realised_saving = MoneyColumn(verbose_name=gettext_lazy("Realised yearly saving (CNY)"))
    realised_on = tables.DateColumn(verbose_name=gettext_lazy("Realised on"), format="Y-m-d")
    created_at = tables.DateColumn(verbose_name=gettext_lazy("Submitted"), format="Y-m-d")

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "suggestions"}
        order_by = ("-created_at",)
        empty_text = gettext_lazy("No suggestions yet.")

    def render_subscription(self, record: Suggestion) -> str:
        return record.subscription.display_name

    def value_subscription(self, record: Suggestion) -> str:
        return record.subscription.display_name

    def value_author(self, value: Any) -> str:
        return str(value)

    def value_estimated_saving(self, value: Any) -> Any:
        return value  # a Decimal, typed in the XLSX

    def value_realised_saving(self, value: Any) -> Any:
        return value


def _get_pk(request: HttpRequest, key: str) -> int | None:
    text = request.GET.get(key, "")
    return int(text) if text.isdigit() and len(text) < 10 else None


@require_GET
@login_required
def suggestion_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    queryset = selectors.visible_suggestions(user=user)
    filterset = SuggestionFilter(request.GET or None, queryset=queryset, user=user)
    rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    export_format = request.GET.get("_export")
    if export_format in ("csv", "xlsx"):
        table = SuggestionTable(rows)
        table.columns.show("decision_note")
        RequestConfig(request, paginate=False).configure(table)
        stamp = timezone.localdate().isoformat()
        return SafeTableExport(export_format, table).response(
            f"suggestions-{stamp}.{export_format}"
        )
    table = SuggestionTable(rows)
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    query = request.GET.copy()
    for key in ("page", "_export"):
        query.pop(key, None)
    return render(
        request,
        "renewals/suggestions/suggestion_list.html",
        {
            "filter": filterset,
            "table": table,
            "querystring": query.urlencode(),
            "subscription_pk": _get_pk(request, "subscription"),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def suggestion_add(request: HttpRequest) -> HttpResponse:
    """Submit a suggestion; ``?subscription=<pk>`` (the subscription page's button) chooses it."""
    user = signed_in_user(request)
    subscriptions = selectors.suggestable_subscriptions(user)
    initial: dict[str, Any] = {}
    if (pk := _get_pk(request, "subscription")) is not None:
        initial["subscription"] = pk  # not one of the choices → simply not chosen
    if request.GET.get("reason") == "return":  # "Return my seat" on My software
        initial["title"] = _("Return my seat: I no longer need it")
    form = SuggestionForm(request.POST or None, initial=initial, subscriptions=subscriptions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            suggestion = services.suggestion_submit(
                user=user,
                subscription=subscriptions.get(pk=data["subscription"]),
                title=data["title"],
                details=data["details"],
                estimated_saving=data["estimated_saving"],
            )
        except (PermissionDenied, ValidationError) as exc:
            messages_ = getattr(exc, "messages", [_("You cannot make a suggestion on this.")])
            form.add_error(None, " ".join(str(m) for m in messages_))
        else:
            messages.success(request, _("Thank you: IT will look at your suggestion."))
            return redirect("renewals:suggestion-detail", suggestion.pk)
    return render(
        request,
        "renewals/suggestions/suggestion_form.html",
        {"form": form, "has_choices": len(form.fields["subscription"].choices) > 1},  # type: ignore[attr-defined]
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@login_required
def suggestion_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    suggestion = selectors.get_suggestion_for(user, pk)
    may_decide = policy.may_decide(user)
    return render(
        request,
        "renewals/suggestions/suggestion_detail.html",
        {
            "suggestion": suggestion,
            "may_decide": may_decide,
            "decide_form": DecideForm() if may_decide else None,
            "realise_form": RealiseForm(initial={"realised_on": timezone.localdate()})
            if may_decide
            else None,
        },
    )


def _refused(request: HttpRequest, exc: ValidationError, pk: int) -> HttpResponse:
    messages.error(request, " ".join(str(m) for m in exc.messages))
    return redirect("renewals:suggestion-detail", pk)


@require_POST
@role_required(Role.IT_ADMIN)
def suggestion_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    suggestion = selectors.get_suggestion_for(user, pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return _refused(request, ValidationError(errors), pk)
    try:
        services.suggestion_decide(
            suggestion=suggestion,
            user=user,
            accept=form.cleaned_data["decision"] == "accept",
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        return _refused(request, exc, pk)
    messages.success(request, _("Decision recorded; the author was told."))
    return redirect("renewals:suggestion-detail", pk)


@require_POST
@role_required(Role.IT_ADMIN)
def suggestion_realise(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    suggestion = selectors.get_suggestion_for(user, pk)
    form = RealiseForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        return _refused(request, ValidationError(errors), pk)
    try:
        services.suggestion_realise(
            suggestion=suggestion,
            user=user,
            realised_saving=form.cleaned_data["realised_saving"],
            realised_on=form.cleaned_data["realised_on"],
        )
    except ValidationError as exc:
        return _refused(request, exc, pk)
    messages.success(request, _("Realised saving recorded."))
    return redirect("renewals:suggestion-detail", pk)
