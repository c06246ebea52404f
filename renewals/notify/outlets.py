"""Personal chat cards (Feishu, DingTalk, WeCom apps: integrations.chat, #21), reached from here.

renewals tells people by the bell, e-mail and department robots; what can put a card in one
person's chat sits above it and registers an ``Outlet`` when the apps are ready
(integrations/apps.py). The request notices (a step waiting for its approvers, a request that
moved on) and the personal notices (a renewal alert, a leaver holding seats) call these; with
no outlet registered they do nothing. An outlet only queues (its own rows, its own worker): a
chat platform that is down never holds up a decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction


@dataclass(frozen=True)
class PersonalNotice:
    """A notice for one person, with a button to act on it. ``key``: unique per notice and
    person (the card is sent once for it). Texts in the person's language."""

    key: str
    user_id: int
    title: str
    text: str
    url: str  # where the button goes (absolute)
    action: str  # the button's label ("Start renewal request", "Open clean-up")
    subscription_id: int | None = None


class Outlet(Protocol):
    def asked(self, step: Any, approver_ids: list[int]) -> int: ...

    def moved(self, request_id: int) -> int: ...

    def notice(self, notice: PersonalNotice) -> int: ...


_OUTLETS: list[Outlet] = []


def register(outlet: Outlet) -> None:
    if not any(type(o) is type(outlet) for o in _OUTLETS):
        _OUTLETS.append(outlet)


def asked(step: Any, approver_ids: list[int]) -> int:
    """``step`` now waits for these people: a card for each who can get one."""
    return sum(outlet.asked(step, approver_ids) for outlet in _OUTLETS)


def moved(request_id: int) -> int:
    """Something happened to the request: cards of steps no longer waiting show the outcome,
    their to-dos close."""
    return sum(outlet.moved(request_id) for outlet in _OUTLETS)


def notice_on_commit(notice: PersonalNotice) -> None:
    """Queue the notice's card once the caller's transaction has committed."""

    def send() -> None:
        for outlet in _OUTLETS:
            outlet.notice(notice)

    transaction.on_commit(send)
