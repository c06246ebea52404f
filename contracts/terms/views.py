"""Legal's review page: the clause checklist of a renewal request's contract, a comment per
clause, and the decision of the legal review step."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from contracts.terms.review import (
    CLAUSE_KEYS,
    MAX_COMMENT,
    checklist,
    legal_decide,
    request_contract,
)
from org.permissions import role_required, signed_in_user
from org.roles import DIRECTORY_ROLES, Role
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.policy import holds_step_role
from renewals.requests.selectors.requests import get_request_for


@require_http_methods(["GET", "POST"])
@role_required(*DIRECTORY_ROLES)
def legal_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Everyone who may read the request reads the checklist; the legal reviewer of its pending
    step decides here (``legal_decide``: step_decide's rules, comments stored with it)."""
    renewal = get_request_for(request.user, pk)
    user = signed_in_user(request)
    contract = request_contract(renewal)
    pending = renewal.steps.filter(status=ApprovalStep.Status.PENDING, role=Role.LEGAL).first()
    may_decide = bool(
        pending
        and renewal.requested_by_id != user.pk
        and holds_step_role(user, Role.LEGAL, renewal.department)
    )
    if request.method == "POST":
        comments = {
            key: request.POST.get(f"comment_{key}", "")[:MAX_COMMENT] for key in CLAUSE_KEYS
        }
        try:
            legal_decide(
                request=renewal, user=user, step_id=int(request.POST.get("step") or 0),
                decision=request.POST.get("decision", ""), comments=comments,
                comment=request.POST.get("comment", "")[:MAX_COMMENT],
            )  # fmt: skip
        except ValidationError as exc:
            messages.error(request, " ".join(str(m) for m in exc.messages))
            return redirect("contracts:legal-review", pk=renewal.pk)
        messages.success(request, _("Your legal review is recorded."))
        return redirect(renewal)
    return render(
        request,
        "contracts/legal_review.html",
        {
            "renewal": renewal, "contract": contract, "pending": pending,
            "may_decide": may_decide, "rows": checklist(contract) if contract else [],
            "findings": list(contract.findings.filter(status="open")) if contract else [],
        },
    )  # fmt: skip
