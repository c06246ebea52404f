"""manage.py dingtalk_stream --source NAME: receive a DingTalk source's contact events over Stream
mode (钉钉 Stream 模式), which needs no inbound port or public URL.

The process opens an outbound WebSocket to DingTalk with the app's AppKey / AppSecret (the
official ``dingtalk-stream`` SDK, ``DingTalkStreamClient``), and applies each contact event as
the HTTP callback would (``integrations.directory.dingtalk.handle_stream_event``). It runs until
stopped and reconnects by itself; run one per source, under the process supervisor that runs
the worker (systemd, a container restart policy), e.g.::

    manage.py dingtalk_stream --source "DingTalk"

In the DingTalk developer console: the app's "事件订阅" push mode is "Stream 模式推送", and the
contact events (通讯录事件) are subscribed. An event that cannot be applied right now (DingTalk
cannot be read) is acknowledged with a failure, so DingTalk delivers it again; a redelivered
event changes nothing (its eventId is remembered).

Tested: the handler, with the SDK's own ``EventMessage`` (tests/integrations/directory/
test_dingtalk.py). Not tested here: the connection to DingTalk's cloud itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import dingtalk_stream
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from integrations.directory import dingtalk
from integrations.directory.entries import SourceError
from integrations.models import DirectorySource

logger = logging.getLogger("integrations.dingtalk_stream")


class DirectoryEventHandler(dingtalk_stream.EventHandler):
    """Applies a source's contact events; every other event is acknowledged and ignored."""

    def __init__(self, source_id: int) -> None:
        super().__init__()
        self.source_id = source_id
        self._api: dingtalk.DingTalkApi | None = None
        self._api_key: tuple[str, ...] = ()

    def api_for(self, source: DirectorySource) -> dingtalk.DingTalkApi:
        """One API session (and token) across events, renewed when the settings change."""
        key = (
            str(source.config.get("base_url") or ""),
            str(source.config.get("app_key") or ""),
            source.secrets.get("app_secret", ""),
        )
        if self._api is None or key != self._api_key:
            self._api, self._api_key = dingtalk.DingTalkApi.for_source(source), key
        return self._api

    def handle(self, event: dingtalk_stream.EventMessage) -> tuple[int, str]:
        """(ack code, message) for one event; runs in a thread (the ORM is not async)."""
        source = DirectorySource.objects.filter(
            pk=self.source_id, kind=DirectorySource.Kind.DINGTALK, enabled=True
        ).first()
        if source is None:
            return dingtalk_stream.AckMessage.STATUS_OK, "source disabled"
        try:
            outcomes = dingtalk.handle_stream_event(source, event, api=self.api_for(source))
        except SourceError as error:
            logger.warning("dingtalk source %s: event %s not applied: %s", source.pk,
                           event.headers.event_id, error)  # fmt: skip
            return dingtalk_stream.AckMessage.STATUS_SYSTEM_EXCEPTION, str(error)
        for outcome in outcomes:
            if outcome.status not in ("applied", "unchanged"):
                logger.info("dingtalk source %s: event %s %s", source.pk,
                            event.headers.event_id, outcome.status)  # fmt: skip
        return dingtalk_stream.AckMessage.STATUS_OK, "OK"

    def _run(self, event: dingtalk_stream.EventMessage) -> tuple[int, str]:
        close_old_connections()
        try:
            return self.handle(event)
        finally:
            close_old_connections()

    async def process(self, event: dingtalk_stream.EventMessage) -> tuple[int, str]:
        return await asyncio.to_thread(self._run, event)


class Command(BaseCommand):
    help = "Receive a DingTalk source's contact events over Stream mode (runs until stopped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, help="the DingTalk source's name")

    def handle(self, *args: Any, source: str, **options: Any) -> None:
        found = DirectorySource.objects.filter(name=source).first()
        if found is None or found.kind != DirectorySource.Kind.DINGTALK:
            raise CommandError(f"No DingTalk source is named {source!r}.")
        if not found.enabled:
            raise CommandError(f"The source {source!r} is disabled.")
        app_key = str(found.config.get("app_key") or "")
        app_secret = found.secrets.get("app_secret", "")
        if not app_key or not app_secret:
            raise CommandError(f"The source {source!r} needs its AppKey and AppSecret.")
        client = dingtalk_stream.DingTalkStreamClient(
            dingtalk_stream.Credential(app_key, app_secret)
        )
        client.register_all_event_handler(DirectoryEventHandler(found.pk))
        self.stdout.write(f"Receiving the events of {found.name} over DingTalk Stream mode.")
        client.start_forever()
