"""manage.py chat_stream --app NAME: receive a DingTalk chat app's card clicks over Stream mode
(钉钉 Stream 模式), which needs no inbound port or public URL.

For a DingTalk chat app whose ``mode`` is ``stream`` (its cards are created with callbackType
STREAM). The process opens an outbound WebSocket to DingTalk with the app's AppKey / AppSecret
(the official ``dingtalk-stream`` SDK, ``DingTalkStreamClient``) and subscribes to the card
callback topic; each click becomes a ``Click`` (``integrations.chat.platforms.dingtalk_stream``)
and goes to ``integrations.chat.clicks.handle``, the same checks and decision as the HTTP
callback. It runs until stopped and reconnects by itself; run one per app, under the process
supervisor that runs the worker (systemd, a container restart policy), e.g.::

    manage.py chat_stream --app "钉钉审批"

In the DingTalk developer console: the app's card callback (卡片回调) mode is Stream 模式.

Every message is acknowledged OK, so DingTalk does not deliver it again and again: a decided
click with the card as it now is (``dingtalk.card_response``), a refused one (a replay, not one
of our cards, another person's card) with only its toast, an unreadable one with nothing; the
refusals are logged (app, message id, status, outcome: never a secret). A click that fails on an
error of ours (the database is down) is acknowledged with a failure and nothing recorded, so
DingTalk's redelivery is decided afresh.

Tested: the handler, with frames read by the SDK's own ``CallbackMessage.from_dict`` and
answered through its ``raw_process`` (tests/integrations/chat/test_dingtalk_stream.py). Not
tested here: the connection to DingTalk's cloud itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import dingtalk_stream
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from integrations.chat import clicks
from integrations.chat.models import ChatApp
from integrations.chat.platform import CallbackRefused
from integrations.chat.platforms.dingtalk import card_response
from integrations.chat.platforms.dingtalk_stream import is_stream, stream_click, toast_response

logger = logging.getLogger("integrations.chat_stream")

OK = dingtalk_stream.AckMessage.STATUS_OK


class CardClickHandler(dingtalk_stream.CallbackHandler):
    """Turns a chat app's card clicks into decisions; answers each with the card update."""

    def __init__(self, app_id: int) -> None:
        super().__init__()
        self.app_id = app_id

    def handle(self, message: dingtalk_stream.CallbackMessage) -> tuple[int, dict[str, Any]]:
        """(ack code, response) for one message; runs in a thread (the ORM is not async)."""
        message_id = str(getattr(message.headers, "message_id", "") or "")[:100]
        app = ChatApp.objects.filter(
            pk=self.app_id, kind=ChatApp.Kind.DINGTALK, enabled=True
        ).first()
        if app is None:
            logger.warning("chat app %s: disabled or removed; message %s not handled",
                           self.app_id, message_id)  # fmt: skip
            return OK, {}
        try:
            click = stream_click(message)
        except CallbackRefused as exc:
            logger.info("chat app %s: stream message %s refused (%s)", app.pk, message_id,
                        exc.status)  # fmt: skip
            return OK, {}
        if click is None:
            return OK, {}
        answer = clicks.handle(app, click)
        if answer.status != 200 or answer.card is None:
            logger.info("chat app %s: stream click %s refused (%s, %s)", app.pk, message_id,
                        answer.status, answer.outcome)  # fmt: skip
            return OK, toast_response(answer.toast)
        return OK, card_response(answer.card, answer.toast, answer.ok)

    def _run(self, message: dingtalk_stream.CallbackMessage) -> tuple[int, dict[str, Any]]:
        close_old_connections()
        try:
            return self.handle(message)
        except Exception as exc:  # an error of ours: nothing was recorded, DingTalk retries
            logger.error("chat app %s: stream message failed (%s)", self.app_id,
                         type(exc).__name__)  # fmt: skip
            return dingtalk_stream.AckMessage.STATUS_SYSTEM_EXCEPTION, {}
        finally:
            close_old_connections()

    async def process(self, message: dingtalk_stream.CallbackMessage) -> tuple[int, dict[str, Any]]:
        return await asyncio.to_thread(self._run, message)


class Command(BaseCommand):
    help = "Receive a DingTalk chat app's card clicks over Stream mode (runs until stopped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--app", required=True, help="the DingTalk chat app's name")

    def handle(self, *args: Any, app: str, **options: Any) -> None:
        found = ChatApp.objects.filter(name=app).first()
        if found is None or found.kind != ChatApp.Kind.DINGTALK:
            raise CommandError(f"No DingTalk chat app is named {app!r}.")
        if not found.enabled:
            raise CommandError(f"The chat app {app!r} is disabled.")
        if not is_stream(found):
            raise CommandError(
                f"The chat app {app!r} takes its clicks over HTTP: set its mode to Stream first."
            )
        app_key = str(found.config.get("app_key") or "")
        app_secret = found.secrets.get("app_secret", "")
        if not app_key or not app_secret:
            raise CommandError(f"The chat app {app!r} needs its AppKey and AppSecret.")
        client = dingtalk_stream.DingTalkStreamClient(
            dingtalk_stream.Credential(app_key, app_secret)
        )
        client.register_callback_handler(
            dingtalk_stream.CallbackHandler.TOPIC_CARD_CALLBACK, CardClickHandler(found.pk)
        )
        self.stdout.write(f"Receiving the card clicks of {found.name} over DingTalk Stream mode.")
        client.start_forever()
