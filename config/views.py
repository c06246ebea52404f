"""Pages that belong to no single app: the dashboard, the health check and the status page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_q.models import Failure, Schedule

from config.health import database_ok, worker_status
from config.search import global_search
from core.db_roles import role_problems
from org.permissions import role_required
from org.roles import DIRECTORY_ROLES, SYSTEM_ROLES, Role, has_role, roles_of
from org.selectors import directory_counts
from renewals.pages import selectors as todo_selectors
from renewals.reports.views.kpis import dashboard_html


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    directory = has_role(request.user, *DIRECTORY_ROLES)
    context: dict[str, object] = {
        "role_labels": [Role(r).label for r in sorted(roles_of(request.user))],
        "todo": todo_selectors.todo(user=request.user),
        "may_open_subscriptions": directory,
    }
    if directory:
        context["counts"] = directory_counts(user=request.user)
        context["kpi_html"] = dashboard_html(request)
    else:
        # Someone without a role sees their own tools instead of directory counts of zero.
        context["mine"] = todo_selectors.my_software(user=request.user)
    if has_role(request.user, *SYSTEM_ROLES):
        context["worker"] = worker_status()
    return render(request, "home.html", context)


@require_GET
@login_required
def search(request: HttpRequest) -> HttpResponse:
    """The navbar's search box: every kind the user may see, grouped (config.search)."""
    results = global_search(user=request.user, raw=request.GET.get("q", ""))
    return render(request, "search.html", {"results": results})


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: 200 when the database answers, 503 when it does not.

    The worker's state is reported but does not fail the check: a stopped worker must not take
    the web servers out of rotation.
    """
    if not database_ok():
        return JsonResponse({"status": "error", "database": "error"}, status=503)
    try:
        worker = worker_status()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "error"}, status=503)
    return JsonResponse(
        {
            "status": "ok",
            "database": "ok",
            "worker": {
                "status": worker.status,
                "last_run": worker.last_run.isoformat() if worker.last_run else None,
                "age_seconds": worker.age_seconds,
            },
        }
    )


@require_GET
@role_required(*SYSTEM_ROLES)
def system_status(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "system_status.html",
        {
            "worker": worker_status(),
            "schedules": Schedule.objects.order_by("name"),
            "failures": Failure.objects.order_by("-stopped")[:10],
            # The same findings as the start-up check (core.db_roles), for whoever runs it.
            "database_problems": role_problems(),
        },
    )
