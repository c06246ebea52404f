"""Approval tiers: finance configures which roles approve which amounts."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from org.permissions import role_required
from org.roles import DIRECTORY_ROLES, Role, has_role
from renewals.requests.forms import TierForm
from renewals.requests.models.approvals import ApprovalTier
from renewals.requests.services import tiers as services


@require_GET
@role_required(*DIRECTORY_ROLES)
def tier_list(request: HttpRequest) -> HttpResponse:
    """Everyone who takes part in approvals may read the policy; finance changes it."""
    return render(
        request,
        "renewals/requests/tier_list.html",
        {"tiers": ApprovalTier.objects.all(), "can_edit": has_role(request.user, Role.FINANCE)},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.FINANCE)
def tier_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    tier = get_object_or_404(ApprovalTier, pk=pk) if pk else None
    form = TierForm(request.POST or None, instance=tier)
    if request.method == "POST" and form.is_valid():
        try:
            services.tier_save(tier=form.instance)
        except ValidationError as exc:
            form.add_error(None, " ".join(str(m) for m in exc.messages))
        else:
            messages.success(request, _("Approval tier saved."))
            return redirect("renewals:tier-list")
    return render(request, "renewals/requests/tier_form.html", {"form": form, "tier": tier})


@require_POST
@role_required(Role.FINANCE)
def tier_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.tier_delete(tier=get_object_or_404(ApprovalTier, pk=pk))
    messages.success(request, _("Approval tier deleted."))
    return redirect("renewals:tier-list")
