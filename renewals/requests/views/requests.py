"""Renewal requests: open, change, compare quotes, assess, decide, report (recording the executed
renewal is renewals.execution.views).

Views are thin: they find the request through the scoping selector (404 for a department the
user may not see), call one service, and render. Every change is a POST.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from core.pdf import render_pdf
from org.permissions import role_required, signed_in_user
from org.roles import DIRECTORY_ROLES, Role, has_role
from org.scoping import can_manage_department
from renewals.inventory.selectors import get_subscription_for
from renewals.requests import policy, services
from renewals.requests.forms import (
    AssessmentForm,
    CancelForm,
    DecisionForm,
    QuoteForm,
    RequestForm,
    StartRequestForm,
    module_formset,
)
from renewals.requests.legal import clause_checklist
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.quotes import Quote
from renewals.requests.models.requests import Purpose, RenewalRequest
from renewals.requests.selectors import requests as selectors
from renewals.requests.selectors.overlap import already_has
from renewals.requests.tables import RequestFilter, RequestTable

PAGE_SIZE = 50

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def request_page(view: ViewFunc) -> ViewFunc:
    """The directory roles' (the request is then found through the scoping selector, 404 for
    another department's); besides them only the requester of a new purchase, for that request
    (an employee follows and changes their own 新购申请). Everyone else: 403."""
    directory_only = role_required(*DIRECTORY_ROLES)(view)

    @wraps(view)
    def wrapper(request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
        if (
            request.user.is_authenticated
            and not has_role(request.user, *DIRECTORY_ROLES)
            and policy.is_own_new_purchase(request.user, pk)
        ):
            return view(request, pk, *args, **kwargs)
        return directory_only(request, pk, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _errors(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


@require_GET
@role_required(*DIRECTORY_ROLES)
def request_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.request_list(user=request.user)
    filterset = RequestFilter(request.GET or None, queryset=queryset, user=request.user)
    rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    table = RequestTable(rows)
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "renewals/requests/request_list.html",
        {"filter": filterset, "table": table, "querystring": query.urlencode()},
    )


@require_http_methods(["GET", "POST"])
@role_required(*DIRECTORY_ROLES)
def request_create(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Start renewal request" (from an alert, the subscription page or the calendar): opens
    the request already under way, or a form to start one."""
    subscription = get_subscription_for(request.user, pk)
    open_request = subscription.renewal_requests.filter(status__in=RenewalRequest.OPEN).first()
    if open_request is not None:
        return redirect(open_request)
    if not can_manage_department(request.user, subscription.department):
        raise PermissionDenied
    # ?purpose=seats: the "more seats" link of a full subscription (seats panel) preselects it.
    form = StartRequestForm(request.POST or None, initial={"purpose": request.GET.get("purpose")})
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_create(
                subscription=subscription, user=signed_in_user(request), **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            messages.success(request, _("Draft opened. Check the proposal and the quotes."))
            return redirect(created)
    return render(
        request,
        "renewals/requests/request_start.html",
        {"form": form, "subscription": subscription},
    )


def _detail_context(request: HttpRequest, renewal: RenewalRequest) -> dict[str, Any]:
    user = signed_in_user(request)
    quotes = list(renewal.quotes.prefetch_related("modules"))
    steps = list(
        renewal.steps.select_related("decided_by").order_by("-round", "position")
        if renewal.round
        else []
    )
    evidence = renewal.evidence if renewal.round else selectors.usage_evidence(renewal.subscription)
    if not renewal.round:
        renewal.evidence = evidence  # the comparison reads active users from it
    pending = next((s for s in steps if s.status == ApprovalStep.Status.PENDING), None)
    can_decide = bool(
        pending
        and renewal.requested_by_id != user.pk
        and policy.holds_step_role(user, pending.role, renewal.department)
    )
    language = translation.get_language() or "zh-hans"
    return _new_purchase_context(user, renewal) | {
        "renewal": renewal,
        "subscription": renewal.subscription,
        "evidence": evidence,
        "recommendations": (evidence.get("recommendations") or {}).get(language)
        or next(iter((evidence.get("recommendations") or {}).values()), []),
        "quotes": selectors.quote_comparison(renewal, quotes),
        "steps": steps,
        "current_steps": [s for s in steps if s.round == renewal.round],
        "earlier_steps": [s for s in steps if s.round != renewal.round],
        "pending": pending,
        "can_decide": can_decide,
        "can_change": policy.may_change(user, renewal)
        and renewal.status in RenewalRequest.EDITABLE,
        "can_submit": policy.may_change(user, renewal)
        and renewal.status in (RenewalRequest.Status.DRAFT, RenewalRequest.Status.RETURNED),
        "can_cancel": policy.may_change(user, renewal) and renewal.status in RenewalRequest.OPEN,
        "can_execute": policy.may_execute(user)
        and renewal.status == RenewalRequest.Status.APPROVED
        and not renewal.is_cancellation,
        "can_execute_role": policy.may_execute(user),
        "assessments": renewal.assessments.select_related("author"),
        "perspectives": policy.perspectives_for(user, renewal),
        "assessment_form": AssessmentForm(perspectives=policy.perspectives_for(user, renewal)),
        "decision_form": DecisionForm(initial={"step": pending.pk if pending else None}),
        "events": renewal.events.select_related("actor"),
        "usage_rows": [
            (month, [s["utilisation"][i] for s in evidence.get("series", [])])
            for i, month in enumerate(evidence.get("months", []))
        ],
        "chart": {
            "labels": [m[:7] for m in evidence.get("months", [])],
            "series": [
                {"name": s["name"], "values": s["utilisation"]} for s in evidence.get("series", [])
            ],
        },
    }


def _new_purchase_context(user: Any, renewal: RenewalRequest) -> dict[str, Any]:
    """A new purchase's page shows what the company already has (to the requester before
    submission, to approvers while they decide) and who gets the seats; an employee following
    their own request sees no links to the directory's pages."""
    if renewal.purpose != Purpose.NEW:
        return {"directory": True}
    subscription = renewal.subscription
    return {
        "directory": has_role(user, *DIRECTORY_ROLES),
        "already": already_has(
            vendor_name=subscription.vendor.name,
            product=subscription.product,
            category=subscription.category,
            exclude_pk=subscription.pk,
        ),
        "can_join": policy.may_change(user, renewal) and renewal.status in RenewalRequest.EDITABLE,
        "seats_for": list(renewal.proposed_people.select_related("department")),
    }


@require_GET
@request_page
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    renewal = selectors.get_request_for(request.user, pk)
    return render(
        request, "renewals/requests/request_detail.html", _detail_context(request, renewal)
    )


@require_http_methods(["GET", "POST"])
@request_page
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    renewal = selectors.get_request_for(request.user, pk)
    if not policy.may_change(signed_in_user(request), renewal):
        raise PermissionDenied
    form = RequestForm(request.POST or None, instance=renewal)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_update(
                request=renewal,
                user=signed_in_user(request),
                data=form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            return redirect(renewal)
    # The form must not write to the instance shown on a re-rendered page.
    renewal.refresh_from_db()
    return render(
        request,
        "renewals/requests/request_form.html",
        {"form": form, "renewal": renewal, "title": _("Change the proposal")},
    )


@require_http_methods(["GET", "POST"])
@request_page
def quote_edit(request: HttpRequest, pk: int, quote_pk: int | None = None) -> HttpResponse:
    renewal = selectors.get_request_for(request.user, pk)
    if not policy.may_change(signed_in_user(request), renewal):
        raise PermissionDenied
    quote = get_object_or_404(Quote, pk=quote_pk, request=renewal) if quote_pk else None
    form = QuoteForm(request.POST or None, instance=quote)
    # A post without the module rows (an older form, a script) leaves the modules as they are.
    with_modules = request.method != "POST" or "modules-TOTAL_FORMS" in request.POST
    modules = module_formset(
        request.POST if request.method == "POST" and with_modules else None,
        initial=selectors.quote_module_rows(renewal, quote),
        price_help=_(
            "Empty: what the subscription pays today, converted into the quote's currency."
        ),
    )
    if request.method == "POST" and form.is_valid() and (not with_modules or modules.is_valid()):
        data = {f: form.cleaned_data[f] for f in services.QUOTE_FIELDS if f in form.cleaned_data}
        try:
            services.quote_save(
                request=renewal,
                user=signed_in_user(request),
                data=data,
                quote=Quote.objects.get(pk=quote.pk) if quote else None,
                modules=modules.lines() if with_modules else None,
            )
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            return redirect(renewal.get_absolute_url() + "#quotes")
    title = _("Change the quote") if quote else _("Add a quote")
    return render(
        request,
        "renewals/requests/request_form.html",
        {"form": form, "modules": modules, "renewal": renewal, "title": title},
    )


def _post_action(request: HttpRequest, pk: int, action: Any) -> HttpResponse:
    renewal = selectors.get_request_for(request.user, pk)
    try:
        done = action(renewal)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        if done:
            messages.success(request, done)
    return redirect(renewal)


@require_POST
@request_page
def quote_delete(request: HttpRequest, pk: int, quote_pk: int) -> HttpResponse:
    def action(renewal: RenewalRequest) -> str:
        quote = get_object_or_404(Quote, pk=quote_pk, request=renewal)
        services.quote_delete(request=renewal, user=signed_in_user(request), quote=quote)
        return _("Quote deleted.")

    return _post_action(request, pk, action)


@require_POST
@request_page
def quote_choose(request: HttpRequest, pk: int, quote_pk: int) -> HttpResponse:
    def action(renewal: RenewalRequest) -> str:
        quote = get_object_or_404(Quote, pk=quote_pk, request=renewal)
        services.quote_choose(request=renewal, user=signed_in_user(request), quote=quote)
        return _("Quote chosen for approval.")

    return _post_action(request, pk, action)


@require_POST
@request_page
def request_submit(request: HttpRequest, pk: int) -> HttpResponse:
    def action(renewal: RenewalRequest) -> str:
        services.request_submit(request=renewal, user=signed_in_user(request))
        return _("Submitted for approval. The approvers have been told.")

    return _post_action(request, pk, action)


@require_POST
@request_page
def request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    def action(renewal: RenewalRequest) -> str:
        form = CancelForm(request.POST)
        if not form.is_valid():
            raise ValidationError(_("Say why the request is cancelled."))
        services.request_cancel(
            request=renewal,
            user=signed_in_user(request),
            reason=form.cleaned_data["reason"],
        )
        return _("Request cancelled.")

    return _post_action(request, pk, action)


@require_POST
@role_required(*DIRECTORY_ROLES)
def request_assess(request: HttpRequest, pk: int) -> HttpResponse:
    def action(renewal: RenewalRequest) -> str:
        perspectives = policy.perspectives_for(signed_in_user(request), renewal)
        if not perspectives:
            raise PermissionDenied
        form = AssessmentForm(request.POST, perspectives=perspectives)
        if not form.is_valid():
            raise ValidationError([str(e) for errors in form.errors.values() for e in errors])
        services.assessment_add(request=renewal, user=signed_in_user(request), **form.cleaned_data)
        return _("Assessment added.")

    return _post_action(request, pk, action)


@require_POST
@role_required(Role.DEPARTMENT_HEAD, Role.FINANCE, Role.IT_ADMIN)
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve / reject / return the pending step (from the request page or the inbox; with
    HTMX the approval panel is swapped in place)."""
    renewal = selectors.get_request_for(request.user, pk)
    form = DecisionForm(request.POST)
    status = 200
    if not form.is_valid():
        error, status = _("Choose a decision."), 400
    else:
        try:
            services.step_decide(
                request=renewal,
                user=signed_in_user(request),
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
                step_id=form.cleaned_data["step"],
            )
        except services.DecisionRefused as exc:
            error = _errors(exc)
            status = 409 if exc.code in ("already_decided", "budget") else 403
        else:
            error = ""
    if getattr(request, "htmx", False) and request.POST.get("from") == "inbox":
        renewal.refresh_from_db()
        context = {"renewal": renewal, "decision_error": error}
        return render(request, "renewals/requests/_inbox_result.html", context, status=status)
    if getattr(request, "htmx", False):
        renewal = selectors.get_request_for(request.user, pk)
        context = _detail_context(request, renewal) | {"decision_error": error}
        return render(request, "renewals/requests/_approval_panel.html", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect(renewal)


@require_GET
@request_page
def request_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The needs-assessment report (续费必要性评估报告) in the reader's language."""
    renewal = selectors.get_request_for(request.user, pk)
    context = _detail_context(request, renewal) | {
        "generated_at": timezone.localtime(),
        "clause_checklist": clause_checklist(renewal),  # the contract archive's, when filed
    }
    pdf = render_pdf("pdf/request_report.html", context)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"renewal-assessment-{renewal.pk}.pdf"
    disposition = "inline" if request.GET.get("inline") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
