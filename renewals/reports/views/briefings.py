"""Monthly usage briefings: the list, the briefing on screen, and its PDF, which is rendered by
a worker (never here): a POST queues it, the page polls until it is stored, then downloads it
through the permission-checked download view."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from org.models import Department
from org.permissions import role_required, signed_in_user
from org.roles import DIRECTORY_ROLES
from org.scoping import get_department_for, visible_departments
from renewals.reports.models import Briefing
from renewals.reports.selectors.briefings import briefing_figures
from renewals.reports.services import briefings as service
from renewals.usage.selectors import add_months, month_start

# Who may read briefings: department heads and software admins (of their departments), IT,
# finance and auditors (of all); scoping by department is org.scoping's.
BRIEFING_ROLES = DIRECTORY_ROLES
MONTHS_LISTED = 12


def parse_month(value: str) -> dt.date:
    """``YYYY-MM`` as the month's first day; 404 for anything else or a month not yet begun."""
    try:
        month = dt.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a date, no time
        return service.check_month(month)
    except (ValueError, ValidationError) as exc:
        raise Http404 from exc


def get_briefing_for(user: object, pk: int) -> Briefing:
    """A stored briefing of a department the user may see (404 otherwise)."""
    return get_object_or_404(
        Briefing.objects.select_related("department").filter(
            department__in=visible_departments(user)
        ),
        pk=pk,
    )


@require_GET
@role_required(*BRIEFING_ROLES)
def briefing_list(request: HttpRequest) -> HttpResponse:
    """Departments the user may see with this month's briefings, and every stored briefing."""
    today = timezone.localdate()
    months = [add_months(month_start(today), -i) for i in range(1, MONTHS_LISTED + 1)]
    chosen = months[0]
    if value := request.GET.get("month"):
        chosen = parse_month(value)
    departments = list(visible_departments(request.user).order_by("code"))
    stored: dict[tuple[int, str], Briefing] = {
        (b.department_id, b.language): b
        for b in Briefing.objects.filter(department__in=[d.pk for d in departments], month=chosen)
    }
    rows = [
        (d, [(code, name, stored.get((d.pk, code))) for code, name in settings.LANGUAGES])
        for d in departments
    ]
    past = Paginator(
        Briefing.objects.filter(
            department__in=visible_departments(request.user), status=Briefing.Status.READY
        )
        .select_related("department")
        .order_by("-month", "department__code", "language"),
        50,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "renewals/reports/briefing_list.html",
        {
            "months": months,
            "chosen": chosen,
            "chosen_key": f"{chosen:%Y-%m}",
            "rows": rows,
            "past": past,
        },
    )


def _pdf_panel(department: Department, month: dt.date) -> list[tuple[str, str, Briefing | None]]:
    found = {b.language: b for b in Briefing.objects.filter(department=department, month=month)}
    return [(code, name, found.get(code)) for code, name in settings.LANGUAGES]


@require_GET
@role_required(*BRIEFING_ROLES)
def briefing_detail(request: HttpRequest, department: int, month: str) -> HttpResponse:
    """The briefing on screen, figures as of today, with the same charts as the PDF."""
    dept = get_department_for(request.user, department)
    first = parse_month(month)
    figures = briefing_figures(dept, first)
    return render(
        request,
        "renewals/reports/briefing_detail.html",
        {
            **service.briefing_context(figures),
            "department": dept,
            "month": first,
            "month_key": f"{first:%Y-%m}",
            "pdfs": _pdf_panel(dept, first),
        },
    )


@require_POST
@role_required(*BRIEFING_ROLES)
def briefing_request(request: HttpRequest, department: int, month: str) -> HttpResponse:
    """Queue the PDF in one language (a stored one is offered at once)."""
    dept = get_department_for(request.user, department)
    first = parse_month(month)
    try:
        briefing = service.briefing_request(
            user=signed_in_user(request),
            department=dept,
            month=first,
            language=request.POST.get("language", ""),
        )
    except ValidationError as exc:
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponse(" ".join(exc.messages), status=400)
        messages.error(request, " ".join(exc.messages))
        return redirect("renewals:briefing-detail", department=dept.pk, month=month)
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request, "renewals/reports/_briefing_pdf.html", {"briefing": briefing, "auto": True}
        )
    if briefing.status != Briefing.Status.READY:
        messages.info(request, _("The PDF is being prepared; it appears here when it is ready."))
    return redirect("renewals:briefing-detail", department=dept.pk, month=month)


@require_GET
@role_required(*BRIEFING_ROLES)
def briefing_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The PDF's state, polled by the page while a worker renders it."""
    briefing = get_briefing_for(request.user, pk)
    return render(
        request,
        "renewals/reports/_briefing_pdf.html",
        {"briefing": briefing, "auto": request.GET.get("auto") == "1"},
    )


@require_GET
@role_required(*BRIEFING_ROLES)
def briefing_download(request: HttpRequest, pk: int) -> FileResponse:
    """The stored PDF as an attachment, after the same check as the page."""
    briefing = get_briefing_for(request.user, pk)
    if briefing.status != Briefing.Status.READY:
        raise Http404
    if not default_storage.exists(briefing.stored_name):
        raise PermissionDenied(_("The file is missing; ask IT to render the briefing again."))
    response = FileResponse(
        default_storage.open(briefing.stored_name, "rb"), content_type="application/pdf"
    )
    response["Content-Disposition"] = (
        content_disposition_header(True, service.download_name(briefing)) or "attachment"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
