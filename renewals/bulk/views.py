"""Bulk actions of the lists (POST only, CSRF-checked like every form): the subscriptions list
(change owner, export the selection), seats (revoke / keep idle or departed ones) and the
approval inbox (approve several; the inbox page itself is here too, since it carries the bulk
form). Views are thin: read the form, call renewals.bulk.services, show what happened to each
row."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from core.exports import SafeTableExport
from org.permissions import role_required, signed_in_user
from org.roles import APPROVER_ROLES, DIRECTORY_ROLES, Role
from renewals.bulk import services as bulk
from renewals.inventory import selectors as subs
from renewals.inventory.policy import owner_choices
from renewals.inventory.tables import SubscriptionTable
from renewals.requests.selectors import requests as request_selectors
from renewals.requests.tables import InboxTable
from renewals.requests.views.requests import PAGE_SIZE

COMMENT_MAX = 4000


def _back(request: HttpRequest, default: str) -> str:
    """Where "back to the list" goes: the page the form was on (this site only)."""
    back = request.POST.get("back", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return default


def _result(
    request: HttpRequest,
    *,
    title: str,
    back: str,
    results: list[bulk.RowResult] | None = None,
    error: str = "",
) -> HttpResponse:
    return render(
        request,
        "renewals/bulk/bulk_result.html",
        {"title": title, "back": back, "results": results or [], "error": error},
        status=400 if error else 200,
    )


@require_POST
@role_required(*DIRECTORY_ROLES)
def subscriptions_bulk(request: HttpRequest) -> HttpResponse:
    """Change the owner of the selected subscriptions, or export them (CSV/XLSX, the list's
    columns, formula cells neutralised). Only subscriptions the user may see are exported."""
    back = _back(request, reverse("renewals:subscription-list"))
    action = request.POST.get("action", "")
    title = _("Subscriptions: bulk action")
    try:
        ids = bulk.read_ids(request.POST.getlist("ids"))
    except bulk.BulkRefused as exc:
        return _result(request, title=title, back=back, error=" ".join(exc.messages))
    if action in ("export-csv", "export-xlsx"):
        export_format = action.removeprefix("export-")
        rows = subs.visible_subscriptions(user=request.user).filter(pk__in=ids)
        table = SubscriptionTable(subs.with_figures(rows))
        RequestConfig(request, paginate=False).configure(table)
        stamp = timezone.localdate().isoformat()
        return SafeTableExport(export_format, table).response(
            f"subscriptions-selected-{stamp}.{export_format}"
        )
    if action != "owner":
        return _result(request, title=title, back=back, error=_("Choose an action."))
    title = _("Change owner")
    owner_id = request.POST.get("owner", "")
    owner = (
        owner_choices(actor=request.user).filter(pk=int(owner_id)).first()
        if owner_id.isascii() and owner_id.isdigit() and len(owner_id) < 19
        else None
    )
    if owner is None:
        return _result(request, title=title, back=back, error=_("Choose the new owner."))
    results = bulk.subscriptions_set_owner(
        user=signed_in_user(request), subscription_ids=ids, owner=owner
    )
    return _result(request, title=title, back=back, results=results)


@require_POST
@role_required(Role.IT_ADMIN, Role.SOFTWARE_ADMIN)
def seats_bulk(request: HttpRequest) -> HttpResponse:
    """Revoke or keep (with a reason) the selected idle or departed seats."""
    back = _back(request, reverse("renewals:findings"))
    title = _("Clean up seats")
    try:
        ids = bulk.read_ids(request.POST.getlist("ids"))
        results = bulk.seats_decide(
            user=signed_in_user(request),
            seat_ids=ids,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", "")[:1000],
        )
    except bulk.BulkRefused as exc:
        return _result(request, title=title, back=back, error=" ".join(exc.messages))
    return _result(request, title=title, back=back, results=results)


# The approval inbox lives here, above renewals.requests: its page carries the bulk approval
# form (and its limit), so it composes both features.
def inbox_context(request: HttpRequest) -> dict[str, Any]:
    """The inbox page's context (also shown after a bulk approval, approvals_bulk)."""
    table = InboxTable(request_selectors.steps_awaiting(user=request.user))
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    return {"table": table, "bulk_max": bulk.MAX_ROWS}


@require_GET
@role_required(*APPROVER_ROLES)
def approval_inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "renewals/requests/approval_inbox.html", inbox_context(request))


@require_http_methods(["GET", "POST"])
@role_required(*APPROVER_ROLES)
def approvals_bulk(request: HttpRequest) -> HttpResponse:
    """Approve the selected steps of the inbox; the inbox is shown again with what happened to
    each (with HTMX the inbox part of the page is swapped in place).

    Without script the whole inbox is shown at this address, so its page and sort links
    (``?page=2``) come back here as GETs: they are sent on to the inbox itself."""
    if request.method == "GET":
        query = request.GET.urlencode()
        return redirect(reverse("renewals:approval-inbox") + (f"?{query}" if query else ""))
    # With HTMX only the inbox part is sent back (swapped in place); without, the whole page.
    template = (
        "renewals/bulk/_inbox_bulk.html"
        if getattr(request, "htmx", False)
        else "renewals/requests/approval_inbox.html"
    )
    context: dict[str, Any]
    try:
        ids = bulk.read_ids(request.POST.getlist("ids"))
    except bulk.BulkRefused as exc:
        context = inbox_context(request) | {"bulk_error": " ".join(exc.messages)}
        return render(request, template, context, status=400)
    results = bulk.steps_approve(
        user=signed_in_user(request),
        step_ids=ids,
        comment=request.POST.get("comment", "")[:COMMENT_MAX],
    )
    context = inbox_context(request) | {"results": results}
    return render(request, template, context)
