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

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from integrations.connectors import sync
from integrations.connectors.entries import ConnectorError
from integrations.connectors.kinds import kind_of
from integrations.connectors.models import Account, Connector, Revocation
from org.models import User

MAX_ATTEMPTS = 5
BACK_OFF = dt.timedelta(minutes=1)


def revocable(connector: Connector, account_ids: list[int]) -> list[Account]:
    """Of these accounts of the connector, those a revocation would deactivate (the preview):
    listed, active in the tool, with none waiting already."""
    return list(
        Account.objects.filter(connector=connector, pk__in=account_ids, present=True, active=True)
        .exclude(revocations__status=Revocation.Status.PENDING)
        .select_related("person")
        .order_by("user_name", "pk")
    )


def revocations_request(
    *, connector: Connector, account_ids: list[int], user: User | None, reason: str
) -> list[Revocation]:
    """Ask for these accounts to be revoked in the tool; the new revocations."""
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
                            next_attempt_at=now,
                        )  # fmt: skip
                    )
            except IntegrityError:  # asked for at the same moment by another request
                continue
        if made:
            transaction.on_commit(
                lambda: async_task("integrations.tasks.revocations_run", connector.pk)
            )
    return made


def revocations_run(connector_id: int, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Try the connector's due revocations; how many were done, retried, failed."""
    counts: dict[str, int] = defaultdict(int)
    while True:
        outcome = _try_one(connector_id, now or timezone.now())
        if outcome is None:
            return dict(counts)
        counts[outcome] += 1


def _try_one(connector_id: int, now: dt.datetime) -> str | None:
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
        account, connector = revocation.account, revocation.account.connector
        revocation.attempts += 1
        try:
            _act(connector, revocation)
        except ConnectorError as exc:
            revocation.last_error = str(exc)
            if revocation.attempts >= MAX_ATTEMPTS:
                revocation.status = Revocation.Status.FAILED
            else:
                revocation.next_attempt_at = now + BACK_OFF * 2 ** (revocation.attempts - 1)
            revocation.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return "failed" if revocation.status == Revocation.Status.FAILED else "retried"
        revocation.status, revocation.done_at, revocation.last_error = (
            Revocation.Status.DONE, timezone.now(), "",
        )  # fmt: skip
        revocation.save(update_fields=["attempts", "status", "done_at", "last_error"])
        Account.objects.filter(pk=account.pk).update(active=False, changed_at=now)
        sync.follow_seats(connector, now, defaultdict(int))
        return "done"


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
    """Connectors with revocations due (the every-minute schedule queues their runs)."""
    return list(
        Revocation.objects.filter(
            status=Revocation.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .values_list("account__connector_id", flat=True)
        .distinct()
    )
