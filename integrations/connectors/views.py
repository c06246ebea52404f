"""Usage connectors (IT admins keep them; auditors read them): the list, a
connector's page with its runs, accounts and unknown accounts, the form, "sync now", removal."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Case, Count, Q, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.connectors import playbooks, revoking, services
from integrations.connectors.forms import ConnectorForm, ConnectorKindForm, PlaybookForm
from integrations.connectors.kinds import kind_of
from integrations.connectors.models import (
    Account,
    Connector,
    ConnectorRun,
    IdleNotice,
    Playbook,
    Revocation,
)
from integrations.forms import settings_shown
from org.permissions import role_required, signed_in_user
from org.roles import SYSTEM_ROLES, Role, roles_of
from renewals.usage.selectors import person_lookup

# The figures a run records, as people read them.
COUNT_LABELS = {
    "accounts": gettext_lazy("accounts"),
    "new": gettext_lazy("new"),
    "changed": gettext_lazy("changed"),
    "gone": gettext_lazy("gone from the tool"),
    "matched": gettext_lazy("matched to people"),
    "unknown": gettext_lazy("unknown accounts"),
    "seats_created": gettext_lazy("seats given"),
    "seats_updated": gettext_lazy("seats brought up to date"),
    "seats_revoked": gettext_lazy("seats revoked"),
    "over_purchased": gettext_lazy("over the purchased seats"),
    "active_this_month": gettext_lazy("active this month"),
}
UNKNOWN_SHOWN = 100


@require_GET
@role_required(*SYSTEM_ROLES)
def connector_list(request: HttpRequest) -> HttpResponse:
    latest = ConnectorRun.objects.order_by("connector_id", "-started_at", "-pk").distinct(
        "connector_id"
    )
    last_runs = {run.connector_id: run for run in latest}
    connectors = list(
        Connector.objects.select_related("subscription__vendor")
        .annotate(
            listed=Count("accounts", filter=Q(accounts__present=True)),
            unknown=Count(
                "accounts",
                filter=Q(
                    accounts__present=True, accounts__active=True, accounts__person__isnull=True
                ),
            ),
        )
        .order_by("name")
    )
    for connector in connectors:
        connector.last_run = last_runs.get(connector.pk)  # type: ignore[attr-defined]
    return render(
        request,
        "integrations/connector_list.html",
        {"connectors": connectors, "can_edit": Role.IT_ADMIN in roles_of(request.user)},
    )


@require_GET
@role_required(*SYSTEM_ROLES)
def connector_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connector = get_object_or_404(
        Connector.objects.select_related("subscription__vendor", "subscription__department"), pk=pk
    )
    runs = list(connector.runs.all()[:20])
    for run in runs:
        run.count_items = [  # type: ignore[attr-defined]
            (label, run.counts[k]) for k, label in COUNT_LABELS.items() if run.counts.get(k)
        ]
    accounts = Account.objects.filter(connector=connector)
    figures = accounts.aggregate(
        n_listed=Count("pk", filter=Q(present=True)),
        n_active=Count("pk", filter=Q(present=True, active=True)),
        n_matched=Count("pk", filter=Q(present=True, person__isnull=False)),
        n_seated=Count(
            "pk",
            filter=Q(present=True, active=True, seat__revoked_on__isnull=True, seat__isnull=False),
        ),  # fmt: skip
        n_unknown=Count("pk", filter=Q(present=True, active=True, person__isnull=True)),
    )
    unknown = accounts.filter(present=True, active=True, person__isnull=True).order_by(
        "user_name", "pk"
    )[:UNKNOWN_SHOWN]
    return render(
        request,
        "integrations/connector_detail.html",
        {
            "connector": connector,
            "runs": runs,
            "figures": figures,
            "unknown": unknown,
            "settings_shown": _settings_shown(connector),
            "revocations": (revocations := _revocations(connector)),
            "has_held": any(r.status == Revocation.Status.HELD for r in revocations),
            "max_percent": settings.CONNECTOR_MAX_REVOKE_PERCENT,
            "playbook_form": PlaybookForm(
                instance=Playbook.objects.filter(subscription_id=connector.subscription_id).first()
            ),
            "notices": IdleNotice.objects.filter(account__connector=connector).select_related(
                "account", "person"
            )[:20],
            "can_edit": Role.IT_ADMIN in roles_of(request.user),
        },
    )


def _revocations(connector: Connector) -> list[Revocation]:
    """The latest revocations, held ones first, each with until when it can be undone."""
    rows = list(
        Revocation.objects.filter(account__connector=connector)
        .select_related("account__connector", "requested_by", "confirmed_by")
        .prefetch_related("undos")
        .order_by(Case(When(status=Revocation.Status.HELD, then=0), default=1), "-created_at")[:50]
    )
    now = timezone.now()
    for row in rows:
        deadline = revoking.undo_deadline(row)
        row.undo_until = deadline if deadline and deadline > now else None  # type: ignore[attr-defined]
        if any(u.status not in (Revocation.Status.FAILED, Revocation.Status.CANCELLED)
               for u in row.undos.all()):  # fmt: skip
            row.undo_until = None  # type: ignore[attr-defined]
    return rows


def _ids(values: list[str], most: int) -> list[int]:
    """Row ids from a form: plain ASCII digits of a sane length only (anything else ignored)."""
    return [int(v) for v in values if v.isascii() and v.isdigit() and len(v) <= 18][:most]


def _settings_shown(connector: Any) -> list[tuple[str, str]]:
    return settings_shown(kind_of(connector).settings, connector)


def _kind(request: HttpRequest, connector: Connector | None) -> str | None:
    if connector is not None:
        return connector.kind
    kind = request.POST.get("kind") or request.GET.get("kind") or Connector.Kind.SCIM
    return kind if kind in Connector.Kind.values else None


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@role_required(Role.IT_ADMIN)
def connector_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    connector = get_object_or_404(Connector, pk=pk) if pk else None
    kind = _kind(request, connector)
    if kind is None:
        messages.error(request, _("Choose a kind of connector."))
        return redirect("integrations:connector-list")
    form = ConnectorForm(request.POST or None, instance=connector, kind=kind)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        config, secrets = form.settings_and_secrets()
        try:
            saved = services.connector_save(
                connector=connector, subscription=data["subscription"],
                kind=kind, name=data["name"], base_url=data["base_url"],
                config=config, secrets=secrets,
                deprovision=data.get("deprovision") or Connector.Deprovision.DEACTIVATE,
                enabled=data["enabled"], sync_every_minutes=data.get("sync_every_minutes") or 0,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        except ImproperlyConfigured as exc:  # no SECRETS_ENCRYPTION_KEYS: said, nothing saved
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Connector saved."))
            return redirect(saved)
    return render(
        request,
        "integrations/connector_form.html",
        {
            "form": form,
            "connector": connector,
            "kind": kind,
            "kind_label": Connector.Kind(kind).label,
            "kind_form": ConnectorKindForm(initial={"kind": kind}),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@role_required(Role.IT_ADMIN)
def connector_sync(request: HttpRequest, pk: int) -> HttpResponse:
    connector = get_object_or_404(Connector, pk=pk)
    services.connector_sync_queue(connector=connector)
    messages.success(request, _("Sync queued: its run appears below within a minute."))
    return redirect(connector)


@require_POST
@role_required(Role.IT_ADMIN)
def account_map(request: HttpRequest, pk: int, account_pk: int) -> HttpResponse:
    """Map an account to the person with the employee number or e-mail IT typed."""
    account = get_object_or_404(Account, pk=account_pk, connector_id=pk)
    text = request.POST.get("person", "")
    person = person_lookup(user=request.user, text=text)
    if person is None:
        messages.error(request, _("Nobody has the employee number or e-mail %(text)s.") % {
            "text": text.strip()[:100] or "—"})  # fmt: skip
        return redirect(account.connector)
    account = services.account_map(account=account, person=person)
    messages.success(request, _("%(account)s is %(person)s's account now.") % {
        "account": account.user_name or account.external_id, "person": person.name})  # fmt: skip
    return redirect(account.connector)


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@role_required(Role.IT_ADMIN)
def account_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview of exactly which accounts will be deactivated in the tool (GET), then the
    confirmation with a reason (POST): the worker does it and the page shows the result."""
    connector = get_object_or_404(Connector, pk=pk)
    data = request.POST if request.method == "POST" else request.GET
    ids = _ids(data.getlist("account"), 500)
    accounts = revoking.revocable(connector, ids)
    reason = " ".join(request.POST.get("reason", "").split())
    error = ""
    if request.method == "POST":
        if not accounts:
            messages.error(request, _("None of these accounts can be revoked (any more)."))
            return redirect(connector)
        if not reason:
            error = _("Give a reason: it is kept with the revocation.")
        else:
            made = revoking.revocations_request(
                connector=connector, account_ids=[a.pk for a in accounts],
                user=request.user, reason=reason,  # type: ignore[arg-type]
            )  # fmt: skip
            messages.success(request, ngettext(
                "%(n)s account is being revoked in the tool: its result appears below.",
                "%(n)s accounts are being revoked in the tool: their results appear below.",
                len(made)) % {"n": len(made)})  # fmt: skip
            return redirect(connector)
    return render(
        request,
        "integrations/connector_revoke.html",
        {"connector": connector, "accounts": accounts, "reason": reason, "error": error},
        status=400 if error else 200,
    )


@require_POST
@role_required(Role.IT_ADMIN)
def connector_remove(request: HttpRequest, pk: int) -> HttpResponse:
    connector = get_object_or_404(Connector, pk=pk)
    services.connector_remove(connector=connector)
    messages.success(request, _("Connector removed; the seats it kept stay."))
    return redirect("integrations:connector-list")


@require_POST
@role_required(Role.IT_ADMIN)
def revocations_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (or cancel) revocations a playbook held over CONNECTOR_MAX_REVOKE_PERCENT."""
    connector = get_object_or_404(Connector, pk=pk)
    ids = _ids(request.POST.getlist("revocation"), 1000)
    go = request.POST.get("go") == "confirm"
    count = revoking.revocations_confirm(
        connector=connector, ids=ids, user=signed_in_user(request), go=go
    )
    if go:
        text = ngettext("%(n)s revocation confirmed: the tool is asked now.",
                        "%(n)s revocations confirmed: the tool is asked now.", count)  # fmt: skip
    else:
        text = ngettext("%(n)s revocation cancelled.", "%(n)s revocations cancelled.", count)
    (messages.success if count else messages.info)(request, text % {"n": count})
    return redirect(connector)


@require_POST
@role_required(Role.IT_ADMIN)
def revocation_undo(request: HttpRequest, pk: int, revocation_pk: int) -> HttpResponse:
    """Re-activate, within 30 days, an account a revocation deactivated."""
    revocation = get_object_or_404(
        Revocation.objects.select_related("account__connector"),
        pk=revocation_pk, account__connector_id=pk,
    )  # fmt: skip
    try:
        revoking.reactivation_request(revocation=revocation, user=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The account is being re-activated in the tool."))
    return redirect(revocation.account.connector)


@require_POST
@role_required(Role.IT_ADMIN)
def playbook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The reclamation playbook of the connector's subscription."""
    connector = get_object_or_404(Connector, pk=pk)
    playbook = Playbook.objects.filter(subscription_id=connector.subscription_id).first()
    form = PlaybookForm(
        request.POST, instance=playbook or Playbook(subscription=connector.subscription)
    )
    if form.is_valid():
        services.playbook_save(
            subscription=connector.subscription, user=signed_in_user(request),
            values=form.cleaned_data,
        )  # fmt: skip
        messages.success(request, _("Playbook saved."))
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(connector)


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@login_required
def idle_keep(request: HttpRequest, pk: int) -> HttpResponse:
    """The holder of an idle seat keeps it (the notice's *Keep my seat*): theirs only."""
    notice = get_object_or_404(
        IdleNotice.objects.select_related("account__connector__subscription", "person"), pk=pk
    )
    person = getattr(request.user, "person", None)
    if person is None or person.pk != notice.person_id:
        raise Http404
    if request.method == "POST":
        notice = playbooks.keep_seat(notice=notice, user=request.user)  # type: ignore[arg-type]
        if notice.answer == IdleNotice.Answer.KEPT:
            messages.success(request, _("Your seat is kept. Thank you for telling us."))
        return redirect("integrations:idle-keep", notice.pk)
    return render(request, "integrations/idle_keep.html", {"notice": notice,
                  "subscription": notice.account.connector.subscription})  # fmt: skip
