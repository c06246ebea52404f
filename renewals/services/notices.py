"""Who hears about a request event, and what they are told (runs in a django-q2 worker)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from org.models import Department, User
from org.roles import Role
from renewals.models import ApprovalStep, RenewalRequest
from renewals.services import messaging


def approvers_for(step: ApprovalStep) -> list[User]:
    """Everyone who may sign ``step``: the heads of the department and of the departments above
    it, or every holder of the step's role; not the requester, not an earlier signer."""
    request = step.request
    if step.role == Role.DEPARTMENT_HEAD:
        ids: list[int] = []
        department: Department | None = request.department
        seen: set[int] = set()
        while department is not None and department.pk not in seen:
            seen.add(department.pk)
            ids.append(department.pk)
            department = department.parent
        users = User.objects.filter(headed_departments__in=ids)
    else:
        users = User.objects.filter(Q(groups__name=step.role) | Q(is_superuser=True))
    signed = ApprovalStep.objects.filter(
        request=request, round=step.round, status=ApprovalStep.Status.APPROVED
    ).values("decided_by")
    return list(
        users.filter(is_active=True)
        .exclude(pk=request.requested_by_id)
        .exclude(pk__in=signed)
        .distinct()
        .order_by("pk")
    )


def request_notify(*, request_id: int, event: str, actor_id: int | None) -> str:
    request = (
        RenewalRequest.objects.select_related(
            "subscription", "subscription__vendor", "subscription__owner", "department",
            "requested_by",
        )
        .filter(pk=request_id)
        .first()
    )  # fmt: skip
    if request is None:
        return "gone"
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    last = request.steps.filter(decided_by__isnull=False).order_by("-decided_at").first()
    pending = request.steps.select_related("request").filter(status="pending").first()
    url = settings.SITE_URL + reverse("renewals:request-detail", args=[request.pk])
    context = {
        "request": request,
        "actor": actor,
        "step": pending,
        "comment": last.comment if last and event not in ("submitted",) else "",
        "url": url,
    }
    told = 0
    path = request.get_absolute_url()
    informed = {request.requested_by}
    if request.subscription.owner and event in ("approved", "executed", "rejected", "cancelled"):
        informed.add(request.subscription.owner)
    informed.discard(actor)
    if event != "submitted" and informed:
        told += messaging.notify_users(
            informed, template="renewals/email/request-event",
            context={**context, "event": event}, url=path, subscription=request.subscription,
        )  # fmt: skip
    if pending is not None and event in ("submitted", "approved_step"):
        told += messaging.notify_users(
            approvers_for(pending), template="renewals/email/request-event",
            context={**context, "event": "awaiting"}, url=path, subscription=request.subscription,
        )  # fmt: skip
    subject, text, _html = messaging.render_message(
        "renewals/email/request-event",
        {**context, "event": "awaiting" if event == "submitted" else event},
        settings.LANGUAGE_CODE,
    )
    posted = messaging.chat_post(
        request.department,
        text=f"{subject}\n{text}".strip(),
        data={"request": request.pk, "event": event, "url": url},
    )
    return f"{told} told, {posted} chat"
