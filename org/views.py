"""Directory pages, sign-in and language preference."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import check_for_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language
from knox.models import AuthToken

from core.types import HtmxHttpRequest
from org import selectors, services
from org.forms import PersonFilterForm
from org.permissions import role_required, signed_in_user
from org.roles import DIRECTORY_ROLES
from org.scoping import get_department_for

PAGE_SIZE = 50


class LoginView(auth_views.LoginView):
    """Sign in, then switch the interface to the user's saved language."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "oidc_enabled": settings.OIDC_ENABLED}

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


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: object = None
) -> HttpResponse:
    """django-axes' answer while a (username, address) pair is locked: 429 with a page that
    says for how long, in the reader's language."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, with the link always built from SITE_URL: the Host header a client
    sends never reaches the e-mail (a forged one is refused before this view by ALLOWED_HOSTS)."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        site = urlsplit(settings.SITE_URL)
        form.save(
            domain_override=site.netloc,
            use_https=site.scheme == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            extra_email_context={
                "site_url": settings.SITE_URL,
                "site_name": str(_("Renewal Desk")),
            },
        )
        return HttpResponseRedirect(self.get_success_url())


@require_http_methods(["GET", "POST"])
@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens: create one (its secret is shown once) or revoke one."""
    user = signed_in_user(request)
    secret = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            if services.api_token_revoke(user=user, token_key=request.POST.get("key", "")[:25]):
                messages.success(request, _("The token is revoked."))
            return redirect("org:api-tokens")
        secret = services.api_token_create(user=user)
    tokens = AuthToken.objects.filter(user=user).only("token_key", "created", "expiry")
    return render(
        request, "org/api_tokens.html", {"tokens": tokens.order_by("-created"), "secret": secret}
    )


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
