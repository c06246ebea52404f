"""Import pages: upload, preview with row errors, progress, commit, cancel, column templates."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.types import HtmxHttpRequest
from core.uploads import SizeLimitHandler
from org.permissions import role_required
from org.roles import Role, has_role
from renewals.imports import services as service
from renewals.imports.columns import ERROR_MESSAGES
from renewals.imports.forms import ImportUploadForm
from renewals.imports.models import ImportJob
from renewals.imports.specs import SPECS

IMPORT_ROLES = (Role.IT_ADMIN, Role.SOFTWARE_ADMIN)


def _jobs_for(user: Any) -> QuerySet[ImportJob]:
    jobs = ImportJob.objects.select_related("created_by")
    return jobs if has_role(user, Role.IT_ADMIN) else jobs.filter(created_by=user)


def get_import_for(user: Any, pk: Any) -> ImportJob:
    """An import the user may see: their own, or any for IT admins (404 otherwise)."""
    return get_object_or_404(_jobs_for(user), pk=pk)


@csrf_exempt  # the size limit must be in place before CSRF reads the body; checked just below
@require_http_methods(["GET", "POST"])
@role_required(*IMPORT_ROLES)
def import_list(request: HttpRequest) -> HttpResponse:
    request.upload_handlers.insert(0, SizeLimitHandler(request, settings.IMPORT_MAX_BYTES))
    return _import_list(request)


@csrf_protect
def _import_list(request: HttpRequest) -> HttpResponse:
    kinds = service.import_kinds_for(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST":
        if getattr(request, "upload_too_large", False):
            form.add_error(
                "file",
                _("The file is larger than %(limit)s MB.")
                % {"limit": settings.IMPORT_MAX_BYTES // (1024 * 1024)},
            )
        elif form.is_valid():
            try:
                job = service.import_upload(
                    user=request.user,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                )
            except service.ImportRefused as refused:
                form.add_error("file", str(refused))
            else:
                return redirect(job)
    return render(
        request,
        "renewals/imports/import_list.html",
        {"form": form, "jobs": _jobs_for(request.user)[:30], "kinds": kinds},
        status=400 if request.method == "POST" else 200,
    )


def _errors(job: ImportJob) -> list[dict[str, Any]]:
    spec = SPECS[job.kind]
    out = []
    for error in job.errors:
        column = next((c for c in spec.columns if c.name == error["column"]), None)
        template = ERROR_MESSAGES.get(error["code"], error["code"])
        params = {**(column.message_params() if column else {}), "value": error.get("value")}
        out.append(
            {**error, "message": str(template) % params if "%(" in str(template) else str(template)}
        )
    return out


@require_GET
@role_required(*IMPORT_ROLES)
def import_detail(request: HtmxHttpRequest, pk: Any) -> HttpResponse:
    job = get_import_for(request.user, pk)
    context = {"job": job, "errors": _errors(job), "spec": SPECS[job.kind]}
    if request.htmx:
        return render(request, "renewals/imports/import_status.html", context)
    return render(request, "renewals/imports/import_detail.html", context)


@require_POST
@role_required(*IMPORT_ROLES)
def import_commit(request: HttpRequest, pk: Any) -> HttpResponse:
    job = get_import_for(request.user, pk)
    try:
        service.import_commit(user=request.user, job=job)
    except service.ImportRefused as refused:
        messages.error(request, str(refused))
    return redirect(job)


@require_POST
@role_required(*IMPORT_ROLES)
def import_cancel(request: HttpRequest, pk: Any) -> HttpResponse:
    job = get_import_for(request.user, pk)
    try:
        service.import_cancel(user=request.user, job=job)
    except service.ImportRefused as refused:
        messages.error(request, str(refused))
    return redirect("renewals:import-list")


@require_GET
@role_required(*IMPORT_ROLES)
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """An empty CSV with the column names of ``kind`` (required ones first), to fill in."""
    if kind not in SPECS:
        raise Http404
    if kind not in {k.value for k in service.import_kinds_for(request.user)}:
        raise PermissionDenied
    columns = sorted(SPECS[kind].columns, key=lambda c: not c.required)
    response = HttpResponse(
        "\ufeff" + ",".join(c.name for c in columns) + "\r\n",
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response
