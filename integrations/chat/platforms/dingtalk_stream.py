"""DingTalk card clicks over Stream mode (钉钉 Stream 模式, #21): no public address, no inbound port.

An app whose ``mode`` is ``stream`` creates its cards with ``"callbackType": "STREAM"`` and no
callbackRouteKey (``dingtalk.py``); DingTalk then pushes every click on them down the app's own
outbound WebSocket, which ``manage.py chat_stream --app NAME`` keeps open with the official
``dingtalk-stream`` SDK (``DingTalkStreamClient``, authenticated with the app's AppKey /
AppSecret; console: 卡片回调 → Stream 模式). A click is a ``CallbackMessage`` on the topic
``/v1.0/card/instances/callback`` (``CallbackHandler.TOPIC_CARD_CALLBACK``) whose data is the
HTTP callback's body: ``{"type": "actionCallback", "outTrackId", "userId", "corpId", "content":
"<JSON string>", "extension": "<JSON string>"}`` (the SDK's ``CardCallbackMessage`` reads the
same names).

There is no signature: the connection itself is the app's, so only DingTalk can send on it. The
body is still not trusted alone: ``clicks.handle`` looks the card up under this app and checks
the nonce the button carried and that the clicker is the card's recipient, and it keys replays on
``event_id`` = the Stream message's ``messageId`` (a message DingTalk delivers again keeps it:
UNCONFIRMED on an official page, it is what the SDK acknowledges by).

The answer is the SDK's ack (``CallbackHandler.raw_process`` wraps what ``process`` returns as
``{"code": 200, "headers": {"messageId", …}, "data": "{\"response\": …}"}``) whose response is
the same card update the HTTP callback answers (``dingtalk.card_response``). A click refused
before the card could be shown is acknowledged too (else DingTalk would deliver it again and
again), with a response that only sets the toast (``toast_response``).

Documentation followed: https://open.dingtalk.com/document/development/event-callback-card,
https://open.dingtalk.com/document/orgapp/stream (Stream 模式), and the SDK's source
(``dingtalk_stream.frames``, ``handlers``, ``card_callback``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from integrations.chat.platform import CallbackRefused, Click
from integrations.chat.platforms.dingtalk import _click_params, _fit

TOPIC = "/v1.0/card/instances/callback"  # CallbackHandler.TOPIC_CARD_CALLBACK


def is_stream(app: Any) -> bool:
    """Whether the DingTalk chat app takes its card clicks over Stream mode."""
    return (app.config or {}).get("mode") == "stream"


def stream_click(message: Any) -> Click | None:
    """The click a card-callback ``CallbackMessage`` carries; None for a callback that is not a
    click (acknowledged, nothing done). Raises ``CallbackRefused`` (400) for one we cannot read."""
    headers = getattr(message, "headers", None)
    if getattr(headers, "topic", None) != TOPIC:
        raise CallbackRefused(400, _("The message is not a card callback."))
    message_id = getattr(headers, "message_id", None)
    if not (isinstance(message_id, str) and message_id):
        raise CallbackRefused(400, _("The message has no id."))
    data = getattr(message, "data", None)
    if not isinstance(data, dict):
        raise CallbackRefused(400, _("The callback is not a JSON object."))
    if data.get("type", "actionCallback") != "actionCallback":
        return None
    out_track_id, user_id = data.get("outTrackId"), data.get("userId")
    if not (isinstance(out_track_id, str) and out_track_id):
        raise CallbackRefused(400, _("The callback names no card."))
    if not (isinstance(user_id, str) and user_id):
        raise CallbackRefused(400, _("The callback names no person."))
    action, value, comment = _click_params(data.get("content"))
    return Click(
        event_id=message_id,
        user_ids=(user_id,),
        message_id=out_track_id,
        action=action,
        value=value,
        comment=comment,
        raw={"outTrackId": out_track_id, "userId": user_id,
             "corpId": str(data.get("corpId") or "")},
    )  # fmt: skip


def toast_response(toast: str) -> dict[str, Any]:
    """The answer to a refused click: only the toast changes on the card (by key)."""
    return {
        "cardData": {"cardParamMap": {"toast": _fit(toast), "toast_ok": "false"}},
        "cardUpdateOptions": {"updateCardDataByKey": True},
    }
