"""Revoking accounts in the tool itself (#20): asked for by IT (after a preview of exactly which
accounts), done by the worker through the connector (``scim.deprovision``), retried with
back-off when the tool refuses or fails, never marked done unless the tool said yes.

- ``revocations_request``: one pending revocation per account (a second request, a replayed
  form or two clicks at once add none: a unique index); queued after the commit.
- ``revocations_run``: the connector's due revocations, each claimed with ``FOR UPDATE SKIP
  LOCKED`` (two workers never send one twice) and tried in its own transaction. Done: the
  account is inactive here too and its seat is given back (as a sync would). Refused: tried
  again after 1, 2, 4, 8 minutes; after ``MAX_ATTEMPTS`` it is failed, with the tool's answer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from integrations.connectors import sync
from integrations.connectors.entries import ConnectorError
from integrations.connectors.http import keep_connections
from integrations.connectors.kinds import kind_of
from integrations.connectors.models import Account, Connector, Revocation
from org.models import User

MAX_ATTEMPTS = 5
BACK_OFF = dt.timedelta(minutes=1)
# A claimed revocation is left to its worker this long (longer than any call's waits); a worker
# killed meanwhile leaves it to the next run after that.
LEASE = dt.timedelta(minutes=10)


OPEN = (Revocation.Status.PENDING, Revocation.Status.HELD)
S = Revocation.Status


def revocable(connector: Connector, account_ids: list[int]) -> list[Account]:
    """Of these accounts of the connector, those a revocation would deactivate (the preview):
    listed, active in the tool, with none waiting already."""
    return list(
        Account.objects.filter(connector=connector, pk__in=account_ids, present=True, active=True)
        .exclude(revocations__status__in=OPEN)
        .select_related("person")
        .order_by("user_name", "pk")
    )


def revocations_request(
    *,
    connector: Connector,
    account_ids: list[int],
    user: User | None,
    reason: str,
    source: str = Revocation.Source.HAND,
    seats: dict[int, int] | None = None,
    held: bool = False,
    queue: bool = True,
) -> list[Revocation]:
    """Ask for these accounts to be revoked in the tool; the new revocations. ``seats``:
    account id -> the seat whose revoke asked for it; ``held``: they wait for IT to confirm
    them (an automatic run over CONNECTOR_MAX_REVOKE_PERCENT); ``queue``: queue the worker's run
    after the commit (a caller asking account by account queues it once itself)."""
    if kind_of(connector).deprovision is None:
        return []
    now = timezone.now()
    made = []
    with transaction.atomic():
        for account in revocable(connector, account_ids):
            try:
                with transaction.atomic():
                    made.append(
                        Revocation.objects.create(
                            account=account,
                            requested_by=user,
                            reason=reason.strip()[:200],
                            source=source,
                            seat_id=(seats or {}).get(account.pk),
                            status=S.HELD if held else S.PENDING,
                            next_attempt_at=now,
                        )  # fmt: skip
                    )
            except IntegrityError:  # asked for at the same moment by another request
                continue
        if made and not held and queue:
            queue_run(connector.pk)
    return made


def queue_run(connector_id: int) -> None:
    transaction.on_commit(lambda: async_task("integrations.tasks.revocations_run", connector_id))


@transaction.atomic
def revocations_confirm(*, connector: Connector, ids: list[int], user: User, go: bool) -> int:
    """IT confirms (``go``) or cancels revocations held for confirmation; how many."""
    held = Revocation.objects.select_for_update().filter(
        pk__in=ids, account__connector=connector, status=S.HELD
    )
    if go:
        count = held.update(status=S.PENDING, confirmed_by=user, next_attempt_at=timezone.now())
        if count:
            queue_run(connector.pk)
        return count
    return held.update(status=S.CANCELLED, confirmed_by=user)


def undo_deadline(revocation: Revocation) -> dt.datetime | None:
    """Until when a done revocation can be undone (None: it cannot)."""
    if (
        revocation.action != Revocation.Action.REVOKE
        or revocation.status != S.DONE
        or revocation.done_at is None
        or revocation.account.connector.deprovision == Connector.Deprovision.DELETE
        or kind_of(revocation.account.connector).reactivate is None
    ):
        return None
    return revocation.done_at + dt.timedelta(days=Revocation.UNDO_DAYS)


@transaction.atomic
def reactivation_request(*, revocation: Revocation, user: User) -> Revocation:
    """Undo a revocation within ``UNDO_DAYS``: the account is re-activated in the tool by the
    worker (as revocations are, with retries), and its holder gets the seat back."""
    locked = (
        Revocation.objects.select_for_update(of=("self",))
        .select_related("account__connector")
        .get(pk=revocation.pk)
    )
    deadline = undo_deadline(locked)
    if deadline is None or timezone.now() > deadline:
        raise ValidationError(
            _("This revocation can no longer be undone (only within %(days)s days of it).")
            % {"days": Revocation.UNDO_DAYS}
        )
    if (
        Revocation.objects.filter(undoes=locked)
        .exclude(status__in=[S.FAILED, S.CANCELLED])
        .exists()
    ):
        raise ValidationError(_("This revocation is already being undone."))
    try:
        with transaction.atomic():
            undo = Revocation.objects.create(
                account=locked.account, action=Revocation.Action.REACTIVATE, undoes=locked,
                source=Revocation.Source.HAND, requested_by=user, next_attempt_at=timezone.now(),
                reason=_("Undo of the revocation of %(date)s") % {
                    "date": timezone.localtime(locked.done_at).strftime("%Y-%m-%d %H:%M")},
            )  # fmt: skip
    except IntegrityError:
        raise ValidationError(_("Something is already waiting for this account.")) from None
    queue_run(locked.account.connector_id)
    return undo


def revocations_run(connector_id: int, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Try the connector's due revocations; how many were done, retried, failed."""
    counts: dict[str, int] = defaultdict(int)
    with keep_connections():  # one connection to the tool for the whole run
        while True:
            outcome = _try_one(connector_id, now or timezone.now())
            if outcome is None:
                return dict(counts)
            counts[outcome] += 1


def _try_one(connector_id: int, now: dt.datetime) -> str | None:
    """Claim the next due revocation (a short transaction: its attempt counted and leased, so no
    other worker takes it), ask the tool outside any transaction (its waits hold no lock), then
    record the answer. A worker killed meanwhile leaves it to be tried again after the lease."""
    with transaction.atomic():
        revocation = (
            Revocation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                account__connector_id=connector_id,
                status=Revocation.Status.PENDING,
                next_attempt_at__lte=now,
            )
            .select_related("account__connector")
            .order_by("next_attempt_at", "pk")
            .first()
        )
        if revocation is None:
            return None
        revocation.attempts += 1
        revocation.next_attempt_at = now + LEASE
        revocation.save(update_fields=["attempts", "next_attempt_at"])
    account, connector = revocation.account, revocation.account.connector
    if _used_since(revocation):
        return _record(revocation, now, error=_used_again(), give_up=True)
    try:
        _act(connector, revocation)
    except ConnectorError as exc:
        return _record(revocation, now, error=str(exc))
    outcome = _record(revocation, now)
    back = revocation.action == Revocation.Action.REACTIVATE
    Account.objects.filter(pk=account.pk).update(active=back, changed_at=now)
    with transaction.atomic():
        sync.follow_account(connector, account.pk, now)
    return outcome


def _used_again() -> str:
    return _("Not revoked: the holder used the tool again since the idle playbook asked for it.")


def _used_since(revocation: Revocation) -> bool:
    """An idle-playbook revocation whose account was used after it was asked for (it may have
    waited for IT's confirmation meanwhile): it is not done."""
    last = revocation.account.last_active_at
    return bool(
        revocation.source == Revocation.Source.IDLE
        and revocation.action == Revocation.Action.REVOKE
        and last is not None
        and last > revocation.created_at
    )


def _record(
    revocation: Revocation, now: dt.datetime, *, error: str | None = None, give_up: bool = False
) -> str:
    """Store the tool's answer: done (error None), or tried again after 1, 2, 4, 8 minutes,
    failed after MAX_ATTEMPTS (or at once, ``give_up``), cancelled when it must not be done."""
    fields = ["status", "last_error", "next_attempt_at", "done_at"]
    if error is None:
        revocation.status, revocation.done_at, revocation.last_error = S.DONE, timezone.now(), ""
        outcome = "done"
    elif give_up:
        revocation.status, revocation.last_error = S.CANCELLED, error
        outcome = "cancelled"
    elif revocation.attempts >= MAX_ATTEMPTS:
        revocation.status, revocation.last_error = S.FAILED, error
        outcome = "failed"
    else:
        revocation.last_error = error
        revocation.next_attempt_at = now + BACK_OFF * 2 ** (revocation.attempts - 1)
        outcome = "retried"
    Revocation.objects.filter(pk=revocation.pk).update(
        **{f: getattr(revocation, f) for f in fields}
    )
    return outcome


def _act(connector: Connector, revocation: Revocation) -> None:
    """Ask the tool to revoke (or bring back) the account; ConnectorError when it cannot."""
    kind = kind_of(connector)
    if revocation.action == Revocation.Action.REACTIVATE:
        if kind.reactivate is None:
            raise ConnectorError(_("This kind of connector cannot re-activate accounts."))
        kind.reactivate(connector, revocation.account.external_id)
    else:
        if kind.deprovision is None:
            raise ConnectorError(_("This kind of connector cannot revoke accounts."))
        kind.deprovision(connector, revocation.account.external_id)


def revocations_due() -> list[int]:
    """Enabled connectors with revocations due (the every-minute schedule queues their runs);
    a disabled connector's wait until IT turns it on again."""
    return list(
        Revocation.objects.filter(
            status=Revocation.Status.PENDING,
            next_attempt_at__lte=timezone.now(),
            account__connector__enabled=True,
        )  # fmt: skip
        .values_list("account__connector_id", flat=True)
        .distinct()
    )
