"""What every write of a renewal request shares: the row lock, the request's history and the
notices queued on commit (drafting, deciding and execution use these inside their transaction)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from org.models import User
from renewals.inventory.models import Subscription
from renewals.requests.models.approvals import ApprovalStep
from renewals.requests.models.requests import Purpose, RenewalRequest, RequestEvent


def record_event(
    request: RenewalRequest, user: User | None, kind: str, note: str = "", *, via: str = ""
) -> None:
    RequestEvent.objects.create(request=request, actor=user, kind=kind, note=note, via=via)


def locked(request: RenewalRequest) -> RenewalRequest:
    return RenewalRequest.objects.select_for_update().get(pk=request.pk)


def notify_on_commit(
    request: RenewalRequest,
    event: str,
    actor: User | None,
    *,
    step: ApprovalStep | None = None,
    awaiting: ApprovalStep | None = None,
) -> None:
    """Queue the notices of ``event`` once it has committed. The task carries the round, the
    step the event was about and the step it opened: it must not work out "the current step"
    when it runs, which may be a later event's (that event's own task tells its approvers)."""
    args = (
        request.pk,
        event,
        actor.pk if actor else None,
        request.round,
        step.pk if step else None,
        awaiting.pk if awaiting else None,
    )
    queue_on_commit("renewals.tasks.request_notify", *args, task_name=f"request-{args[0]}-{event}")


def queue_on_commit(func: str, *args: object, task_name: str) -> None:
    """Queue a django-q2 task (renewals.tasks) once the caller's transaction has committed: a
    rolled-back write queues nothing. Every task of the request writes goes through here."""
    transaction.on_commit(lambda: async_task(func, *args, task_name=task_name))


def archive_proposed(request: RenewalRequest) -> None:
    """A new purchase rejected or cancelled: its proposed subscription is archived (status
    cancelled), so the product may be asked for again later. Inside the caller's transaction."""
    if request.purpose != Purpose.NEW:
        return
    Subscription.objects.filter(
        pk=request.subscription_id, status=Subscription.Status.PROPOSED
    ).update(status=Subscription.Status.CANCELLED, archived_at=timezone.now())
