"""Directory sources (IT admins keep them; auditors read them): the list, a source's page with
its runs, held leavers and conflicts, the form, "sync now", and a held run's confirmation."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations import services
from integrations.directory import sync
from integrations.directory.entries import SourceError
from integrations.forms import SETTINGS, KindForm, Setting, SourceForm
from integrations.models import (
    DirectoryConflict,
    DirectoryLink,
    DirectorySource,
    ScimToken,
    SyncRun,
)
from integrations.scim import tokens
from org.models import Person
from org.permissions import role_required
from org.roles import SYSTEM_ROLES, Role, roles_of

# The figures a run records, as people read them.
COUNT_LABELS = {
    "departments_created": gettext_lazy("departments added"),
    "departments_updated": gettext_lazy("departments changed"),
    "departments_gone": gettext_lazy("departments gone"),
    "people_created": gettext_lazy("people added"),
    "people_updated": gettext_lazy("people changed"),
    "people_unchanged": gettext_lazy("unchanged"),
    "managers_changed": gettext_lazy("managers changed"),
    "leavers": gettext_lazy("leavers"),
    "held_leavers": gettext_lazy("leavers held"),
    "conflicts": gettext_lazy("conflicts"),
    "skipped_stale": gettext_lazy("older than what we hold"),
}

CALLBACKS = {
    DirectorySource.Kind.FEISHU: "integrations:callback-feishu",
    DirectorySource.Kind.DINGTALK: "integrations:callback-dingtalk",
    DirectorySource.Kind.WECOM: "integrations:callback-wecom",
}


@require_GET
@role_required(*SYSTEM_ROLES)
def source_list(request: HttpRequest) -> HttpResponse:
    latest = SyncRun.objects.order_by("source_id", "-started_at", "-pk").distinct("source_id")
    last_runs = {run.source_id: run for run in latest}
    sources = list(DirectorySource.objects.order_by("name"))
    last_changes = dict(
        DirectoryLink.objects.values("source_id")
        .annotate(last=Max("changed_at"))
        .values_list("source_id", "last")
    )
    for source in sources:
        source.last_run = last_runs.get(source.pk)  # type: ignore[attr-defined]
        source.last_change = last_changes.get(source.pk)  # type: ignore[attr-defined]
    return render(
        request,
        "integrations/source_list.html",
        {
            "sources": sources,
            "can_edit": Role.IT_ADMIN in roles_of(request.user),
            "kind_form": KindForm(),
        },
    )


@require_GET
@role_required(*SYSTEM_ROLES)
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(DirectorySource, pk=pk)
    runs = list(source.runs.select_related("decided_by")[:20])
    for run in runs:
        run.count_items = [  # type: ignore[attr-defined]
            (COUNT_LABELS[k], v) for k, v in run.counts.items() if k in COUNT_LABELS
        ]
        run.note = _run_note(run)  # type: ignore[attr-defined]
    held = next((run for run in runs if run.status == SyncRun.Status.HELD), None)
    held_people = (
        Person.objects.filter(pk__in=held.held_leavers[:200]).select_related("department")
        if held
        else Person.objects.none()
    )
    conflicts = DirectoryConflict.objects.filter(source=source, resolved_at__isnull=True)
    settings_shown = [
        (s.label, _shown(s, source.config.get(s.key)))
        for s in SETTINGS[source.kind]
        if not s.secret
    ]
    secrets_shown = [
        (s.label, bool(source.secrets.get(s.key))) for s in SETTINGS[source.kind] if s.secret
    ]
    callback = CALLBACKS.get(DirectorySource.Kind(source.kind))
    return render(
        request,
        "integrations/source_detail.html",
        {
            "source": source,
            "runs": runs,
            "held": held,
            "held_people": held_people,
            "conflicts": conflicts[:100],
            "conflict_count": conflicts.count(),
            "settings_shown": settings_shown,
            "secrets_shown": secrets_shown,
            "callback_url": request.build_absolute_uri(reverse(callback, args=[source.pk]))
            if callback
            else "",
            "scim_url": request.build_absolute_uri("/scim/v2/")
            if source.kind == DirectorySource.Kind.SCIM
            else "",
            "tokens": source.scim_tokens.all() if source.kind == DirectorySource.Kind.SCIM else [],
            "can_edit": Role.IT_ADMIN in roles_of(request.user),
            "followed": _followed(source),
        },
    )


def _shown(setting: Setting, value: object) -> str:
    """A setting as people read it: a choice's label, yes / no, or the value."""
    if setting.kind == "bool":
        return str(_("yes") if value else _("no"))
    if setting.kind == "choice":
        return str(dict(setting.choices).get(str(value), value or "—"))
    return str(value) if value not in (None, "") else "—"


def _run_note(run: SyncRun) -> str:
    """Why a run was held or put aside, in the reader's language (stored as figures)."""
    if run.counts.get("superseded"):
        return _("Superseded by a later held sync.")
    if "held_leavers" not in run.counts:
        return ""
    if run.held_departments and run.counts.get("held_reason") == "emptied":
        return ngettext(
            "A department would be left with nobody.",
            "%(n)s departments would be left with nobody.",
            len(run.held_departments),
        ) % {"n": len(run.held_departments)}
    return _("%(n)s of %(total)s active people would be marked as leavers.") % {
        "n": run.counts["held_leavers"], "total": run.counts.get("active_before", 0)
    }  # fmt: skip


def _followed(source: DirectorySource) -> dict[str, object]:
    """How many people and departments follow the source, and its last change (a SCIM
    source has no runs: this is its trace)."""
    links = DirectoryLink.objects.filter(source=source)
    return links.aggregate(
        people=Count("pk", filter=Q(kind="person")),
        active=Count("pk", filter=Q(kind="person", person__status="active")),
        departments=Count("pk", filter=Q(kind="department")),
        last_change=Max("changed_at"),
    )


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@role_required(Role.IT_ADMIN)
def source_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    source = get_object_or_404(DirectorySource, pk=pk) if pk else None
    kind = source.kind if source else request.GET.get("kind") or request.POST.get("kind", "")
    if kind not in DirectorySource.Kind.values:
        return redirect("integrations:source-list")
    form = SourceForm(request.POST or None, instance=source, kind=kind)
    if request.method == "POST" and form.is_valid():
        config, secrets = form.settings_and_secrets()
        try:
            saved = services.source_save(
                source=source, kind=kind, name=form.cleaned_data["name"], config=config,
                secrets=secrets, enabled=form.cleaned_data["enabled"],
                sync_every_minutes=form.cleaned_data.get("sync_every_minutes") or 0,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        except ImproperlyConfigured as exc:  # no SECRETS_ENCRYPTION_KEYS: said, nothing saved
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Directory source saved."))
            return redirect(saved)
    return render(
        request,
        "integrations/source_form.html",
        {
            "form": form,
            "source": source,
            "kind": kind,
            "kind_label": DirectorySource.Kind(kind).label,
        },  # fmt: skip
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(Role.IT_ADMIN)
def source_sync(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(DirectorySource, pk=pk)
    try:
        services.sync_queue(source=source, full=request.POST.get("full") == "1" or None)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Sync queued: its run appears below within a minute."))
    return redirect(source)


@require_POST
@role_required(Role.IT_ADMIN)
def source_remove(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(DirectorySource, pk=pk)
    services.source_remove(source=source)
    messages.success(request, _("Source removed; the people and departments it brought stay."))
    return redirect("integrations:source-list")


@require_POST
@role_required(Role.IT_ADMIN)
def run_decide(request: HttpRequest, pk: int, run_pk: int) -> HttpResponse:
    run = get_object_or_404(SyncRun, pk=run_pk, source_id=pk)
    try:
        if request.POST.get("decision") == "confirm":
            run = sync.confirm_held(run, user=request.user)  # type: ignore[arg-type]
            messages.success(
                request, _("%(n)s leavers marked.") % {"n": run.counts.get("leavers", 0)}
            )
        else:
            sync.discard_held(run, user=request.user)  # type: ignore[arg-type]
            messages.success(request, _("Held sync discarded: nobody was marked as a leaver."))
    except SourceError as exc:
        messages.error(request, str(exc))
    return redirect(run.source)


@sensitive_post_parameters()
@require_POST
@role_required(Role.IT_ADMIN)
def token_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A new SCIM token for the source: shown on this one page, never again."""
    source = get_object_or_404(DirectorySource, pk=pk)
    name = " ".join(request.POST.get("name", "").split())[:100]
    days = request.POST.get("days", "")
    expires = None
    if days.isdigit() and 0 < int(days) <= 3650:
        expires = timezone.now() + dt.timedelta(days=int(days))
    elif days:
        messages.error(request, _("Give the validity in days, 1 to 3650, or leave it empty."))
        return redirect(source)
    if not name:
        messages.error(request, _("Give the token a name, e.g. the identity provider's."))
        return redirect(source)
    try:
        token, plain = tokens.token_create(
            source=source,
            name=name,
            user=request.user,  # type: ignore[arg-type]
            expires_at=expires,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(source)
    response = render(
        request,
        "integrations/token_created.html",
        {"source": source, "token": token, "plain": plain},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@role_required(Role.IT_ADMIN)
def token_revoke(request: HttpRequest, pk: int, token_pk: int) -> HttpResponse:
    token = get_object_or_404(ScimToken, pk=token_pk, source_id=pk)
    tokens.token_revoke(token=token)
    messages.success(request, _("Token revoked: the identity provider can no longer use it."))
    return redirect(token.source)
