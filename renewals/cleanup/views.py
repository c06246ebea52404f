"""The account clean-up campaign pages: campaigns, progress, a department's checklist with
inline decisions, closing and the closing report (screen, PDF, CSV, XLSX).

Who: finance and IT admins open and close campaigns; everyone who sees departments (IT, finance,
auditors, heads, software admins) reads campaigns and the checklists of their departments;
software admins of the department and IT admins decide. Heads read their checklist only.
"""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.columns import MoneyColumn
from core.exports import SafeTableExport
from core.pdf import render_pdf
from org.permissions import role_required, signed_in_user
from org.roles import DIRECTORY_ROLES, Role
from org.scoping import visible_departments
from renewals.cleanup import policy, selectors, services
from renewals.cleanup.forms import CampaignOpenForm, ItemDecideForm
from renewals.cleanup.models import CleanupCampaign, CleanupItem
from renewals.usage import reclaim

RUN_ROLES = (Role.FINANCE, Role.IT_ADMIN)


def _list_context(request: HttpRequest, form: CampaignOpenForm | None = None) -> dict[str, Any]:
    user = signed_in_user(request)
    may_run = policy.may_run_campaigns(user)
    running = selectors.open_campaign()
    return {
        "campaigns": selectors.campaign_list(),
        "running": running,
        "may_run": may_run,
        "form": form or (CampaignOpenForm() if may_run and running is None else None),
    }


@require_GET
@role_required(*DIRECTORY_ROLES)
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(request, "renewals/cleanup/cleanup_list.html", _list_context(request))


@require_POST
@role_required(*RUN_ROLES)
def campaign_open(request: HttpRequest) -> HttpResponse:
    form = CampaignOpenForm(request.POST)
    if form.is_valid():
        try:
            campaign = services.campaign_open(
                user=signed_in_user(request),
                name=form.cleaned_data["name"],
                due_on=form.cleaned_data["due_on"],
            )
        except ValidationError as exc:
            messages.error(request, services.decision_error(exc))
            return redirect("renewals:cleanup-list")
        messages.success(
            request,
            _("Campaign opened with %(count)s accounts to check; the departments were told.")
            % {"count": campaign.items.count()},
        )
        return redirect("renewals:cleanup-detail", campaign.pk)
    return render(
        request, "renewals/cleanup/cleanup_list.html", _list_context(request, form), status=400
    )


@require_GET
@role_required(*DIRECTORY_ROLES)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.get_campaign(pk)
    user = signed_in_user(request)
    progress, total = selectors.campaign_progress(campaign=campaign, user=user)
    return render(
        request,
        "renewals/cleanup/cleanup_detail.html",
        {
            "campaign": campaign,
            "progress": progress,
            "total": total,
            "may_run": policy.may_run_campaigns(user),
        },
    )


@require_POST
@role_required(*RUN_ROLES)
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = selectors.get_campaign(pk)
    try:
        services.campaign_close(campaign=campaign, user=signed_in_user(request))
    except ValidationError as exc:
        messages.error(request, services.decision_error(exc))
        return redirect("renewals:cleanup-detail", campaign.pk)
    messages.success(request, _("Campaign closed. Its closing report is final."))
    return redirect("renewals:cleanup-report", campaign.pk)


@require_GET
@role_required(*DIRECTORY_ROLES)
def checklist(request: HttpRequest, pk: int, department_pk: int) -> HttpResponse:
    campaign = selectors.get_campaign(pk)
    user = signed_in_user(request)
    department = selectors.get_department_for_checklist(user, department_pk)
    may_decide = campaign.status == CleanupCampaign.Status.OPEN and policy.may_decide(
        user, department
    )
    return render(
        request,
        "renewals/cleanup/cleanup_checklist.html",
        {
            "campaign": campaign,
            "department": department,
            "items": _with_tool_accounts(
                list(selectors.checklist(campaign=campaign, department=department))
            ),
            "may_decide": may_decide,
        },
    )


def _with_tool_accounts(items: list[CleanupItem]) -> list[CleanupItem]:
    """Each item with the accounts in tools its revoke deactivates (or did), and their result."""
    found = reclaim.tool_accounts([item.seat_id for item in items])
    for item in items:
        item.tool_accounts = found.get(item.seat_id, [])  # type: ignore[attr-defined]
    return items


def _row(
    request: HttpRequest,
    campaign: CleanupCampaign,
    item: CleanupItem,
    *,
    may_decide: bool,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "renewals/cleanup/cleanup_item_row.html",
        {
            "campaign": campaign,
            "item": _with_tool_accounts([item])[0],
            "may_decide": may_decide,
            "error": error,
        },  # fmt: skip
        status=status,
    )


@require_POST
@role_required(*DIRECTORY_ROLES)
def item_decide(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Revoke / keep / set back one account. HTMX gets the row back (with an error if refused);
    a plain form post goes back to the checklist."""
    campaign = selectors.get_campaign(pk)
    user = signed_in_user(request)
    item = selectors.get_item(campaign=campaign, pk=item_pk, user=user)  # 404 outside scope
    if not policy.may_decide(user, item.department):
        raise PermissionDenied
    htmx = bool(getattr(request, "htmx", False))
    form = ItemDecideForm(request.POST)
    error, status = "", 200
    if not form.is_valid():
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
        status = 400
    else:
        try:
            services.item_decide(
                item=item,
                user=user,
                decision=form.cleaned_data["decision"],
                keep_reason=form.cleaned_data["keep_reason"],
                seen=form.cleaned_data["seen"],
            )
        except ValidationError as exc:
            error, status = services.decision_error(exc), 409
    if not htmx:
        if error:
            messages.error(request, error)
        return redirect("renewals:cleanup-checklist", campaign.pk, item.department_id)
    campaign.refresh_from_db()
    fresh = selectors.get_item(campaign=campaign, pk=item.pk, user=user)
    may = campaign.status == CleanupCampaign.Status.OPEN
    return _row(request, campaign, fresh, may_decide=may, error=error, status=status)


# --- The closing report ----------------------------------------------------------------------


class CleanupReportTable(tables.Table):
    """Every account of the report, one row each: what the CSV and XLSX exports hold."""

    department = tables.Column(verbose_name=gettext_lazy("Department"), accessor="department__name")
    subscription = tables.Column(
        verbose_name=gettext_lazy("Subscription"), accessor="seat__subscription__product"
    )
    vendor = tables.Column(
        verbose_name=gettext_lazy("Vendor"), accessor="seat__subscription__vendor__name"
    )
    holder = tables.Column(verbose_name=gettext_lazy("Holder"), accessor="seat__person__name")
    account = tables.Column(verbose_name=gettext_lazy("Account"), accessor="seat__account")
    reason = tables.Column(verbose_name=gettext_lazy("Reason"), accessor="get_reason_display")
    last_active_on = tables.DateColumn(verbose_name=gettext_lazy("Last active on"), format="Y-m-d")
    decision = tables.Column(verbose_name=gettext_lazy("Decision"), accessor="get_decision_display")
    revoked_on = tables.DateColumn(verbose_name=gettext_lazy("Revoked on"), format="Y-m-d")
    keep_reason = tables.Column(verbose_name=gettext_lazy("Why keep it"))
    decided_by = tables.Column(verbose_name=gettext_lazy("Decided by"))
    yearly_cost = MoneyColumn(verbose_name=gettext_lazy("Yearly cost of the seat (CNY)"))

    class Meta:
        orderable = False

    def value_yearly_cost(self, value: Any) -> Any:
        return value  # a Decimal, typed in the XLSX

    def value_decided_by(self, value: Any) -> str:
        return str(value) if value else ""


def _report_context(request: HttpRequest, campaign: CleanupCampaign) -> dict[str, Any]:
    report = selectors.cleanup_report(campaign=campaign, user=signed_in_user(request))
    return {
        "campaign": campaign,
        "report": report,
        # What the reclamation playbooks revoked in the tools while the campaign ran.
        "automatic": reclaim.automatic_revocations(
            since=campaign.opened_at,
            until=campaign.closed_at,
            department_ids=set(
                visible_departments(signed_in_user(request)).values_list("pk", flat=True)
            ),
        ),  # fmt: skip
        "currency": settings.BASE_CURRENCY,
        "generated_at": timezone.localtime(),
    }


@require_GET
@role_required(*DIRECTORY_ROLES)
def campaign_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The closing report on screen, or ``?_export=csv|xlsx``."""
    campaign = selectors.get_campaign(pk)
    export_format = request.GET.get("_export")
    if export_format in ("csv", "xlsx"):
        items = selectors.report_items(campaign=campaign, user=signed_in_user(request))
        table = CleanupReportTable(items)
        return SafeTableExport(export_format, table).response(
            f"cleanup-{campaign.pk}.{export_format}"
        )
    return render(
        request, "renewals/cleanup/cleanup_report.html", _report_context(request, campaign)
    )


@require_GET
@role_required(*DIRECTORY_ROLES)
def campaign_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The closing report as a PDF, in the reader's language or ``?lang=en|zh-hans``."""
    campaign = selectors.get_campaign(pk)
    language = request.GET.get("lang") or translation.get_language()
    if language not in dict(settings.LANGUAGES):
        language = translation.get_language()
    with translation.override(language):
        pdf = render_pdf("pdf/cleanup_report.html", _report_context(request, campaign))
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "inline" if request.GET.get("inline") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="cleanup-{campaign.pk}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
