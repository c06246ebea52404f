"""Contract archive pages, uploads and the only way to a stored file: the permission-checked
download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from contracts import selectors, services
from contracts.forms import ContractFilter, ContractForm, DocumentForm
from contracts.models import Contract, IntegrityCheck
from contracts.tables import COUNT_CAP, ContractTable
from contracts.terms.models import TermSuggestion
from contracts.terms.selectors import open_findings, term_rows
from contracts.terms.services import suggestion_decide
from core.exports import SafeTableExport
from core.uploads import SizeLimitHandler
from org.permissions import role_required, signed_in_user
from org.roles import DIRECTORY_ROLES, Role, has_role
from renewals.inventory.selectors import get_subscription_for
from renewals.requests.selectors.requests import get_request_for

EDIT_ROLES = (Role.IT_ADMIN, Role.FINANCE)
PER_PAGE = 50


@require_GET
@role_required(*DIRECTORY_ROLES)
def contract_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.contract_list(user=request.user)
    filterset = ContractFilter(request.GET or None, queryset=queryset, user=request.user)
    valid = filterset.is_bound and filterset.is_valid()
    rows = filterset.qs if valid else queryset
    table = ContractTable(rows, search=filterset.archive_search if valid else None)
    export_format = request.GET.get("_export")
    if export_format in ("csv", "xlsx"):
        RequestConfig(request, paginate=False).configure(table)
        stamp = timezone.localdate().isoformat()
        return SafeTableExport(export_format, table).response(f"contracts-{stamp}.{export_format}")
    page = request.GET.get("page", "")
    # Count far enough past the page asked for that the next pages can be offered.
    table.data.cap = COUNT_CAP + PER_PAGE * (
        int(page) - 1 if page.isdigit() and int(page) < 10_000 else 0
    )
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    query = request.GET.copy()
    for key in ("page", "_export"):
        query.pop(key, None)
    return render(
        request,
        "contracts/contract_list.html",
        {
            "filter": filterset,
            "table": table,
            "querystring": query.urlencode(),
            "can_edit": services.may_edit(request.user),
            "show_integrity": has_role(request.user, Role.IT_ADMIN),
            "integrity": IntegrityCheck.objects.first()
            if has_role(request.user, Role.IT_ADMIN)
            else None,
        },
    )


@require_GET
@role_required(*DIRECTORY_ROLES)
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.get_contract_for(request.user, pk)
    newest = (
        Contract.objects.filter(subscription=contract.subscription_id, status="active")
        .order_by("-valid_from", "-pk")
        .first()
    )
    can_edit = services.may_edit(request.user)
    return render(
        request,
        "contracts/contract_detail.html",
        {
            "contract": contract,
            "term_rows": term_rows(contract),
            "findings": open_findings(contract),
            "documents": contract.documents.select_related("uploaded_by"),
            "can_edit": can_edit,
            "diff": services.terms_diff(contract)
            if can_edit and newest and newest.pk == contract.pk
            else [],
            "upload_form": DocumentForm(),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(*EDIT_ROLES)
def contract_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a contract (for ?subscription=, or from a renewal request: ?request=) or change one."""
    contract = selectors.get_contract_for(request.user, pk) if pk else None
    subscription, renewal = None, None
    if contract is None:
        if (request_id := request.GET.get("request", "")).isdigit():
            renewal = get_request_for(request.user, int(request_id))
            subscription = renewal.subscription
        elif (sub_id := request.GET.get("subscription", "")).isdigit():
            subscription = get_subscription_for(request.user, int(sub_id))
        else:
            messages.error(request, _("Add a contract from its subscription's page."))
            return redirect("contracts:contract-list")
    initial: dict[str, Any] = {}
    if renewal is not None:
        initial = {
            "number": renewal.order_ref,
            "counterparty": renewal.subscription.vendor.name,
            "valid_from": renewal.proposed_term_start,
            "valid_to": renewal.proposed_term_end,
            "seats": renewal.proposed_seats,
            "total_value": renewal.actual_amount or renewal.amount,
            "currency": renewal.actual_currency or renewal.currency,
            "auto_renew": renewal.subscription.auto_renew,
            "notice_period_days": renewal.subscription.notice_period_days,
        }
    form = ContractForm(request.POST or None, instance=contract, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.contract_save(
                user=signed_in_user(request),
                data=form.cleaned_data,
                contract=Contract.objects.get(pk=contract.pk) if contract else None,
                subscription=subscription,
                renewal_request=renewal,
            )
        except ValidationError as exc:
            form.add_error(None, " ".join(str(m) for m in exc.messages))
        else:
            messages.success(request, _("Contract saved. Attach its documents below."))
            return redirect(saved)
    return render(
        request,
        "contracts/contract_form.html",
        {"form": form, "contract": contract, "subscription": subscription or contract.subscription},  # type: ignore[union-attr]
    )


@csrf_exempt  # the size limit must be in place before CSRF reads the body; checked just below
@require_POST
@role_required(*EDIT_ROLES)
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    request.upload_handlers.insert(0, SizeLimitHandler(request, settings.CONTRACT_MAX_BYTES))
    return _document_upload(request, pk)


@csrf_protect
def _document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.get_contract_for(request.user, pk)
    form = DocumentForm(request.POST, request.FILES)
    if getattr(request, "upload_too_large", False):
        messages.error(
            request,
            _("The file is larger than %(limit)s MB.")
            % {"limit": settings.CONTRACT_MAX_BYTES // (1024 * 1024)},
        )
        return redirect(contract)
    if not form.is_valid():
        messages.error(request, _("Choose the kind of document and a file."))
        return redirect(contract)
    try:
        document = services.document_upload(
            contract=contract,
            user=signed_in_user(request),
            upload=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(str(m) for m in exc.messages))
    else:
        messages.success(
            request,
            _("Stored %(name)s as version %(version)s.")
            % {"name": document.original_name, "version": document.version},
        )
    return redirect(contract)


@require_GET
@role_required(*DIRECTORY_ROLES)
def document_download(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    """The file, after the same check as the contract page: attachment by default, inline
    (PDF only) with ?inline=1; in production handed to the web server by X-Accel/X-Sendfile."""
    document = selectors.get_document_for(request.user, pk)
    inline = request.GET.get("inline") == "1" and document.content_type == "application/pdf"
    disposition = content_disposition_header(not inline, document.original_name) or "attachment"
    response: HttpResponse | FileResponse
    if settings.CONTRACT_SENDFILE:
        response = HttpResponse(content_type=document.content_type)
        if settings.CONTRACT_SENDFILE == "x-accel":
            response["X-Accel-Redirect"] = settings.CONTRACT_ACCEL_PREFIX + document.stored_name
        else:
            response["X-Sendfile"] = str(Path(default_storage.path(document.stored_name)))
    else:
        if not default_storage.exists(document.stored_name):
            raise PermissionDenied(
                _("The file is missing; IT has been told by the integrity check.")
            )
        response = FileResponse(
            default_storage.open(document.stored_name, "rb"), content_type=document.content_type
        )
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@role_required(*EDIT_ROLES)
def contract_apply_terms(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.get_contract_for(request.user, pk)
    try:
        changes = services.contract_apply_terms(contract=contract, user=signed_in_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(str(m) for m in exc.messages))
    else:
        messages.success(
            request,
            _("The subscription now follows the contract (%(n)s changes).") % {"n": len(changes)},
        )
    return redirect(contract)


@require_POST
@role_required(*EDIT_ROLES)
def term_decide(request: HttpRequest, pk: int, suggestion: int) -> HttpResponse:
    """Accept, correct or dismiss one suggested term (never applied without this)."""
    contract = selectors.get_contract_for(request.user, pk)
    action = request.POST.get("action", "")
    raw = {name: request.POST.get(name, "")[:200] for name in ("value", "currency", "tax_included")}
    try:
        decided = suggestion_decide(
            user=signed_in_user(request), contract_id=contract.pk, suggestion_id=suggestion,
            action=action, raw=raw,
        )  # fmt: skip
    except TermSuggestion.DoesNotExist:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(str(m) for m in exc.messages))
    else:
        messages.success(
            request,
            _("%(term)s: %(status)s.")
            % {"term": decided.get_field_display(), "status": decided.get_status_display()},
        )
    return redirect(f"{contract.get_absolute_url()}#terms")


@require_POST
@role_required(Role.IT_ADMIN)
def integrity_run(request: HttpRequest) -> HttpResponse:
    result = services.integrity_check()
    if result.ok:
        messages.success(
            request, _("All %(n)s files are present and unchanged.") % {"n": result.checked}
        )
    else:
        messages.error(
            request,
            _("%(missing)s files missing, %(changed)s changed: see the report below.")
            % {"missing": len(result.missing), "changed": len(result.mismatched)},
        )
    return redirect("contracts:contract-list")
