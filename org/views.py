"""Directory pages, sign-in and language preference."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import check_for_language
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language

from config.navigation import DIRECTORY_ROLES
from config.types import HtmxHttpRequest
from org import selectors, services
from org.forms import PersonFilterForm
from org.permissions import role_required
from org.scoping import get_department_for

PAGE_SIZE = 50


class LoginView(auth_views.LoginView):
    """Sign in, then switch the interface to the user's saved language."""

    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        language = getattr(form.get_user(), "language", "")
        if language and check_for_language(language):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language, plus remembering the choice for a signed-in user."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and check_for_language(language):
        if language in dict(settings.LANGUAGES):
            services.user_set_language(user=request.user, language=language)
    return response


@require_GET
@role_required(*DIRECTORY_ROLES)
def department_list(request: HttpRequest) -> HttpResponse:
    departments = selectors.department_list(user=request.user)
    return render(request, "org/department_list.html", {"departments": departments})


@require_GET
@role_required(*DIRECTORY_ROLES)
def department_detail(request: HttpRequest, pk: int) -> HttpResponse:
    department = get_department_for(request.user, pk)
    people = selectors.person_list(user=request.user, department_id=department.pk)
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "org/department_detail.html",
        {
            "department": department,
            "heads": department.heads.all(),
            "software_admins": department.software_admins.all(),
            "children": department.children.all(),
            "page": page,
        },
    )


@require_GET
@role_required(*DIRECTORY_ROLES)
def person_list(request: HtmxHttpRequest) -> HttpResponse:
    form = PersonFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    people = selectors.person_list(
        user=request.user,
        query=filters.get("q") or "",
        department_id=filters["department"].pk if filters.get("department") else None,
        status=filters.get("status") or "",
    )
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "querystring": query.urlencode()}
    # The filter form and the pager update the table in place through htmx; a plain request
    # (no JavaScript, a bookmarked URL) gets the whole page.
    template = "org/person_table.html" if request.htmx else "org/person_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))  # the two answers must not share a cache entry
    return response
