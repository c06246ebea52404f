"""Writes to directory sources: the pages, the command and the API come through here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from integrations.models import DirectorySource, SyncRun


@transaction.atomic
def source_save(
    *,
    source: DirectorySource | None,
    kind: str,
    name: str,
    config: dict[str, Any],
    secrets: dict[str, str],
    enabled: bool = True,
    sync_every_minutes: int = 60,
) -> DirectorySource:
    """Create or update a source. Secrets given replace the stored ones; those left out stay
    (write-only). The stored secrets are encrypted (core/secrets.py)."""
    if source is None:
        source = DirectorySource(kind=kind)
    elif source.kind != kind:
        raise ValidationError(_("A source's kind cannot change: add a new source."))
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Give the source a name.")})
    clash = DirectorySource.objects.filter(name=name).exclude(pk=source.pk).exists()
    if clash:
        raise ValidationError({"name": _("Another source has this name.")})
    source.name, source.enabled = name, enabled
    source.sync_every_minutes = 0 if kind == DirectorySource.Kind.SCIM else sync_every_minutes
    if config != source.config:
        source.cursor = ""  # another server or base: read everything again
    source.config = config
    source.set_secrets(secrets)
    source.full_clean()
    source.save()
    return source


@transaction.atomic
def source_remove(*, source: DirectorySource) -> None:
    """Forget a source: its settings, links, runs, events and tokens. The people and
    departments it brought stay (history is never deleted); nothing follows them any more."""
    source.delete()


def sync_queue(*, source: DirectorySource, full: bool | None = None) -> str:
    """Queue a sync in the worker (the page's "Sync now"); returns the task id."""
    if source.kind == DirectorySource.Kind.SCIM:
        raise ValidationError(_("A SCIM source is pushed to; there is nothing to pull."))
    return str(
        async_task("integrations.tasks.sync_source", source.pk, SyncRun.Trigger.MANUAL, full)
    )
