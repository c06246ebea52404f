"""My software: the seats a signed-in user holds, whom to contact about each tool, and how to
ask for a change (a suggestion, a seat returned, a new tool)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from config.navigation import DIRECTORY_ROLES
from org.roles import has_role
from renewals.pages import selectors


@require_GET
@login_required
def my_software(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "renewals/pages/my_software.html",
        {
            "mine": selectors.my_software(user=request.user),
            "may_open_subscriptions": has_role(request.user, *DIRECTORY_ROLES),
        },
    )
