"""What every chat platform (Feishu, DingTalk, WeCom) does for Renewal Desk's personal cards,
and what the core (integrations.chat: outbox, clicks, services) hands it.

A platform module (``integrations/chat/platforms/<kind>.py``) defines one ``Platform`` and is
listed in ``integrations.chat.platforms.PLATFORMS``. The core decides *what* a card says
(``Card``) and *whether* a click is allowed; the platform only speaks its API:

- ``send``: a direct message card to one person (``Card.recipient_id``: the platform's user id)
  → the ids to update it later (``Sent``); sending the same ``Card.key`` again must not make a
  second card (Feishu ``uuid``, DingTalk ``outTrackId``, WeCom ``task_id``);
- ``update``: the card sent earlier, shown anew in place (buttons gone, the outcome shown);
- ``open_todo`` / ``close_todo``: the person's to-do (DingTalk 待办, Feishu task); a platform
  without one raises ``Unsupported`` (the core then skips to-dos for it);
- ``parse_callback``: an HTTP request from the platform → ``Challenge`` (a URL check to answer),
  ``Click`` (verified and decrypted) or ``Ignored`` (a verified event we do not act on); a
  request that fails verification raises ``CallbackRefused`` (its status and a translated
  reason) before anything is looked up;
- ``click_response``: the HTTP answer to a click, showing ``Card`` (what the card says now) and a
  short ``toast`` to the person who clicked.

Calls that fail raise ``RateLimited`` (wait ``seconds``, not counted as a failure), ``Retry``
(the platform is down or busy: back off) or ``Refused`` (the platform said no for good: a dead
letter with its reason). Messages never hold a secret or a token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.http import HttpRequest, HttpResponse


class ChatError(Exception):
    """A platform call failed; ``str()`` is translated and safe to show to IT admins."""


class RateLimited(ChatError):
    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


class Retry(ChatError):
    """Down, busy, a time-out, a 5xx: try again later."""


class Refused(ChatError):
    """The platform refused for good (bad credentials, unknown user, card too large)."""


class Unsupported(ChatError):
    """The platform has no such API (WeCom to-dos)."""


class CallbackRefused(Exception):
    """A callback we do not trust or cannot read: answered with ``status`` and the reason;
    nothing is changed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Button:
    """A button on a card. ``action``: approve, return, reject (a decision: comes back as a
    click carrying ``value``) or link (opens ``url``). Return and reject need a comment: the
    platform asks for it in the card (Feishu and DingTalk: a text input; WeCom, which has no
    input: ``Card.reasons``, one chosen as the comment)."""

    action: str
    label: str
    url: str = ""
    style: str = "default"  # primary, danger, default


@dataclass(frozen=True)
class Card:
    """What one person's card says, in their language (every text already translated).

    ``key``: unique per app, the platform's idempotency id (letters, digits, ``-``, ≤ 64).
    ``value``: what every decision button carries back (``{"c": card id, "n": nonce}``); the
    core checks it against its own record, never trusting it alone.
    """

    key: str
    recipient_id: str  # the platform user id the card goes to
    language: str  # "zh-hans" or "en"
    title: str
    # What else the platform calls the recipient: DingTalk "unionId" (its to-dos need it),
    # Feishu "open_id" / "union_id".
    other_ids: dict[str, str] = field(default_factory=dict)
    subtitle: str = ""
    fields: tuple[tuple[str, str], ...] = ()  # label, value: the figures
    text: str = ""  # a paragraph under the figures
    buttons: tuple[Button, ...] = ()
    reasons: tuple[tuple[str, str], ...] = ()  # id, label: preset comments (WeCom)
    comment_label: str = ""  # the comment input's placeholder
    outcome: str = ""  # after a decision: "Approved by 王磊 at 14:02" (no decision buttons)
    state: str = "open"  # open, decided, changed, info
    url: str = ""  # the request's (or the subject's) page
    value: dict[str, Any] = field(default_factory=dict)
    todo_title: str = ""  # the to-do's subject
    due: Any = None  # the to-do's due time (an aware datetime) or None


@dataclass(frozen=True)
class Sent:
    """Where the card went: the platform's message id (Feishu message_id, DingTalk outTrackId,
    WeCom task_id) and, for WeCom, the response code an update needs (the latest one wins)."""

    message_id: str
    response_code: str = ""


@dataclass(frozen=True)
class Challenge:
    """A URL check: answer it with ``response``."""

    response: HttpResponse


@dataclass(frozen=True)
class Ignored:
    """A verified callback that is not a card click (answered 200 with ``response``)."""

    response: HttpResponse


@dataclass(frozen=True)
class Click:
    """A verified, decrypted card click.

    ``event_id``: the platform's id of this delivery (Feishu header.event_id; DingTalk: the
    signature timestamp + outTrackId + user; WeCom: FromUserName + CreateTime): a second
    delivery with the same id is a replay. ``user_ids``: every id the platform gave for who
    clicked (user_id, open_id, union_id …), matched against the card's recipient.
    ``message_id``: the card's own id as the platform names it.
    """

    event_id: str
    user_ids: tuple[str, ...]
    message_id: str
    action: str  # approve, return, reject
    value: dict[str, Any]
    comment: str = ""
    response_code: str = ""  # WeCom: the code to update this person's card with
    raw: dict[str, Any] = field(default_factory=dict)  # for the platform's own answer


class Platform(Protocol):
    kind: str  # feishu, dingtalk, wecom

    def send(self, app: Any, card: Card) -> Sent: ...

    def update(self, app: Any, sent: Sent, card: Card) -> None: ...

    def open_todo(self, app: Any, card: Card) -> str: ...

    def close_todo(self, app: Any, todo_id: str, card: Card) -> None: ...

    def parse_callback(
        self, app: Any, request: HttpRequest, body: bytes
    ) -> Challenge | Ignored | Click: ...

    def click_response(
        self, app: Any, click: Click, card: Card | None, toast: str, ok: bool
    ) -> HttpResponse: ...
