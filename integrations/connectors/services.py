"""Writes to usage connectors: the pages and the command come through here."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from integrations.connectors import sync
from integrations.connectors.kinds import KINDS
from integrations.connectors.models import Account, Connector, ConnectorRun, Playbook
from org.models import Person
from renewals.inventory.models import Subscription


@transaction.atomic
def connector_save(
    *,
    connector: Connector | None,
    subscription: Subscription,
    kind: str,
    name: str,
    base_url: str,
    config: dict[str, Any],
    secrets: dict[str, str],
    deprovision: str = Connector.Deprovision.DEACTIVATE,
    enabled: bool = True,
    sync_every_minutes: int = 360,
) -> Connector:
    """Create or update a connector. Secrets given replace the stored ones; those left out stay
    (write-only), encrypted at rest (core/secrets.py). A new connector needs its token."""
    if connector is None:
        connector = Connector(kind=kind)
    elif connector.kind != kind:
        raise ValidationError(_("A connector's kind cannot change: add a new connector."))
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Give the connector a name.")})
    if Connector.objects.filter(name=name).exclude(pk=connector.pk).exists():
        raise ValidationError({"name": _("Another connector has this name.")})
    if subscription.archived_at is not None:
        raise ValidationError({"subscription": _("This subscription is archived.")})
    spec = KINDS[Connector.Kind(kind)]
    unknown = set(config) - {s.key for s in spec.settings if not s.secret}
    if unknown:
        raise ValidationError(
            _("Unknown settings: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    connector.name, connector.enabled, connector.subscription = name, enabled, subscription
    connector.base_url, connector.config = base_url.strip(), config
    connector.sync_every_minutes, connector.deprovision = sync_every_minutes, deprovision
    connector.set_secrets({k: v for k, v in secrets.items() if k in spec.secrets and v})
    needed = [s for s in spec.settings if s.required and not (
        connector.secrets.get(s.key) if s.secret else config.get(s.key) not in (None, ""))]  # fmt: skip
    missing = [str(s.label) for s in needed]
    if missing:
        raise ValidationError(
            _("The connector needs its %(names)s.") % {"names": ", ".join(missing)}
        )
    connector.full_clean()
    connector.save()
    return connector


@transaction.atomic
def connector_remove(*, connector: Connector) -> None:
    """Forget a connector: its settings, runs and accounts. The seats it kept stay (history is
    never deleted); nothing follows the tool any more."""
    connector.delete()


@transaction.atomic
def account_map(*, account: Account, person: Person) -> Account:
    """IT says whose an account is (an unknown one, or one matched wrongly): kept by later
    syncs, and the person's seat follows at once, as a sync would give it."""
    connector = Connector.objects.select_for_update().get(pk=account.connector_id)
    account = Account.objects.select_for_update().get(pk=account.pk)
    now = timezone.now()
    account.person, account.matched_by, account.changed_at = person, Account.MatchedBy.HAND, now
    account.save(update_fields=["person", "matched_by", "changed_at"])
    sync.follow_seats(connector, now, defaultdict(int))
    account.refresh_from_db()
    return account


@transaction.atomic
def playbook_save(*, subscription: Subscription, user: Any, values: dict[str, Any]) -> Playbook:
    """Set the subscription's reclamation playbook (``values``: a valid PlaybookForm's data);
    made on first save, one per subscription whatever the clicks (get_or_create, then locked)."""
    Playbook.objects.get_or_create(subscription=subscription)
    playbook = Playbook.objects.select_for_update().get(subscription=subscription)
    for field in ("idle_enabled", "idle_days", "grace_days", "leaver_enabled"):
        setattr(playbook, field, values[field])
    playbook.updated_by = user
    playbook.full_clean()
    playbook.save()
    return playbook


def connector_sync_queue(*, connector: Connector) -> str:
    """Queue a sync in the worker (the page's "Sync now"); returns the task id."""
    return str(
        async_task("integrations.tasks.connector_sync", connector.pk, ConnectorRun.Trigger.MANUAL)
    )
