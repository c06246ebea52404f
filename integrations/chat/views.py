"""Chat apps (IT admins keep them; auditors read them): the list, an app's page with its
callback address, its cards and dead letters, the form, the people mapped by hand; and the
callback endpoint the platforms send card clicks to."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.callbacks.common import body_or_none
from integrations.chat import clicks, outbox, services
from integrations.chat.forms import ChatAppForm, ChatAppKindForm, IdentityForm
from integrations.chat.models import ChatApp, ChatJob
from integrations.chat.platform import CallbackRefused, Challenge, Click, Ignored
from integrations.chat.platforms import module_for, platform_for
from integrations.forms import settings_shown
from integrations.models import DirectoryLink
from org.permissions import role_required
from org.roles import SYSTEM_ROLES, Role, roles_of

logger = logging.getLogger(__name__)

DEAD_LETTERS_SHOWN = 50
CARDS_SHOWN = 30


def _can_edit(request: HttpRequest) -> bool:
    return Role.IT_ADMIN in roles_of(request.user)


@require_GET
@role_required(*SYSTEM_ROLES)
def chat_app_list(request: HttpRequest) -> HttpResponse:
    apps = ChatApp.objects.annotate(
        n_cards=Count("cards", distinct=True),
        n_failed=Count("cards__jobs", filter=Q(cards__jobs__status=ChatJob.Status.FAILED)),
    ).order_by("name")
    return render(
        request,
        "integrations/chat_app_list.html",
        {"apps": apps, "can_edit": _can_edit(request), "kind_form": ChatAppKindForm()},
    )


def _settings_shown(app: Any) -> list[tuple[str, str]]:
    return settings_shown(module_for(app.kind).SETTINGS, app)


def callback_url(app: ChatApp) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("integrations:chat-callback", args=[app.pk])


@require_GET
@role_required(*SYSTEM_ROLES)
def chat_app_detail(request: HttpRequest, pk: int) -> HttpResponse:
    app = get_object_or_404(ChatApp.objects.select_related("directory"), pk=pk)
    jobs = ChatJob.objects.filter(card__app=app)
    figures = jobs.aggregate(
        pending=Count("pk", filter=Q(status__in=[ChatJob.Status.PENDING, ChatJob.Status.SENDING])),
        done=Count("pk", filter=Q(status=ChatJob.Status.DONE)),
        failed=Count("pk", filter=Q(status=ChatJob.Status.FAILED)),
    )
    dead = jobs.filter(status=ChatJob.Status.FAILED).select_related("card", "card__recipient")
    cards = app.cards.select_related("recipient", "request__subscription").order_by("-pk")
    return render(
        request,
        "integrations/chat_app_detail.html",
        {
            "app": app,
            "settings_shown": _settings_shown(app),
            "callback_url": callback_url(app),
            "figures": figures,
            "dead_letters": dead.order_by("-pk")[:DEAD_LETTERS_SHOWN],
            "cards": cards[:CARDS_SHOWN],
            "n_manual": app.identities.count(),
            "can_edit": _can_edit(request),
        },
    )


def _kind(request: HttpRequest, app: ChatApp | None) -> str | None:
    if app is not None:
        return app.kind
    kind = request.POST.get("kind") or request.GET.get("kind") or ChatApp.Kind.FEISHU
    return kind if kind in ChatApp.Kind.values else None


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@role_required(Role.IT_ADMIN)
def chat_app_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    app = get_object_or_404(ChatApp, pk=pk) if pk else None
    kind = _kind(request, app)
    if kind is None:
        messages.error(request, _("Choose a platform."))
        return redirect("integrations:chat-app-list")
    form = ChatAppForm(request.POST or None, instance=app, kind=kind)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        config, secrets = form.settings_and_secrets()
        try:
            saved = services.chat_app_save(
                app=app, kind=kind, name=data["name"], base_url=data["base_url"],
                config=config, secrets=secrets, directory=data["directory"],
                approvals=data["approvals"], notices=data["notices"], todos=data["todos"],
                enabled=data["enabled"],
            )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        except ImproperlyConfigured as exc:  # no SECRETS_ENCRYPTION_KEYS: said, nothing saved
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Chat app saved."))
            return redirect(saved)
    return render(
        request,
        "integrations/chat_app_form.html",
        {
            "form": form,
            "app": app,
            "kind": kind,
            "kind_label": ChatApp.Kind(kind).label,
            "kind_form": ChatAppKindForm(initial={"kind": kind}),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(Role.IT_ADMIN)
def chat_app_remove(request: HttpRequest, pk: int) -> HttpResponse:
    app = get_object_or_404(ChatApp, pk=pk)
    services.chat_app_remove(app=app)
    messages.success(request, _("Chat app removed; nothing more is sent through it."))
    return redirect("integrations:chat-app-list")


@require_POST
@role_required(Role.IT_ADMIN)
def chat_job_retry(request: HttpRequest, pk: int, job_pk: int) -> HttpResponse:
    app = get_object_or_404(ChatApp, pk=pk)
    job = get_object_or_404(ChatJob, pk=job_pk, card__app=app)
    if outbox.retry(job):
        outbox.kick_on_commit()
        messages.success(request, _("It will be sent again shortly."))
    else:
        messages.info(request, _("This is no longer a dead letter."))
    return redirect(app)


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@role_required(*SYSTEM_ROLES)
def chat_people(request: HttpRequest, pk: int) -> HttpResponse:
    app = get_object_or_404(ChatApp.objects.select_related("directory"), pk=pk)
    form = IdentityForm(request.POST or None)
    if request.method == "POST":
        if not _can_edit(request):
            return HttpResponse(status=403)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.identity_save(
                    app=app,
                    user=data["user"],
                    platform_id=data["platform_id"],
                    union_id=data.get("union_id") or "",
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Mapping saved."))
                return redirect("integrations:chat-people", pk=app.pk)
    covered = 0
    if app.directory_id:
        covered = DirectoryLink.objects.filter(
            source_id=app.directory_id,
            kind=DirectoryLink.Kind.PERSON,
            present=True,
            person__user__isnull=False,
        ).count()
    return render(
        request,
        "integrations/chat_people.html",
        {
            "app": app,
            "form": form,
            "identities": app.identities.select_related("user").order_by("user__username"),
            "covered": covered,
            "can_edit": _can_edit(request),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(Role.IT_ADMIN)
def chat_person_remove(request: HttpRequest, pk: int, identity_pk: int) -> HttpResponse:
    app = get_object_or_404(ChatApp, pk=pk)
    if services.identity_remove(app=app, identity_id=identity_pk):
        messages.success(request, _("Mapping removed."))
    return redirect("integrations:chat-people", pk=app.pk)


def _refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def chat_callback(request: HttpRequest, app_id: int) -> HttpResponse:
    """A platform's callback: URL check, card click or other event. Verified and decrypted by
    the platform's module before anything is looked up; 413 above 1 MB; 404 for an unknown or
    disabled app."""
    body = body_or_none(request)  # the directory callbacks' cap (1 MB), checked before reading
    if body is None:
        return _refuse(413, _("The callback is too large."))
    app = ChatApp.objects.filter(pk=app_id, enabled=True).first()
    if app is None:
        return _refuse(404, _("No such chat app."))
    platform = platform_for(app.kind)
    try:
        parsed = platform.parse_callback(app, request, body)
    except CallbackRefused as exc:
        logger.info("chat app %s: callback refused (%s)", app.pk, exc.status)
        return _refuse(exc.status, exc.reason)
    if isinstance(parsed, (Challenge, Ignored)):
        return parsed.response
    assert isinstance(parsed, Click)
    answer = clicks.handle(app, parsed)
    if answer.status != 200:
        return _refuse(answer.status, answer.toast)
    return platform.click_response(app, parsed, answer.card, answer.toast, answer.ok)
