"""The in-app notification centre: every signed-in user has one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from org.permissions import signed_in_user
from renewals.notify.models import Notification
from renewals.notify.services import notifications as service


@require_GET
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = Notification.objects.filter(user=signed_in_user(request)).select_related(
        "subscription"
    )
    page = Paginator(notifications, 30).get_page(request.GET.get("page"))
    return render(
        request, "renewals/notify/notification_list.html", {"page": page, "querystring": ""}
    )


@require_POST
@login_required
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's own notifications read and follow its link."""
    notification = get_object_or_404(Notification, pk=pk, user=signed_in_user(request))
    service.notification_mark_read(user=signed_in_user(request), notification=notification)
    target = notification.url
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "renewals:notification-list")


@require_POST
@login_required
def notification_read_all(request: HttpRequest) -> HttpResponse:
    service.notification_mark_all_read(user=signed_in_user(request))
    return redirect("renewals:notification-list")
