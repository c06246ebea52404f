"""Revoking a seat in the tool itself, not only here.

renewals knows seats; what can deactivate the account in the tool (integrations' usage
connectors, #20) sits above it and registers a ``Reclaimer`` here when the apps are ready
(integrations/apps.py). A clean-up decision or a revoke from a finding calls
``revoke_in_tools`` in its own transaction (the requests are written with the seat's revoke
or not at all); the pages show ``tool_accounts``: before the click, exactly which accounts will
be deactivated where; after it, each one's result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ToolAccount:
    """An account in a tool that revoking a seat deactivates (or did)."""

    seat_id: int
    tool: str  # where: the connector's name
    account: str  # the tool's user name or e-mail
    status: str = ""  # "", or the last request's: held, pending, done, failed, cancelled
    status_label: str = ""
    error: str = ""  # why the tool refused, translated
    can_revoke: bool = True  # False: the tool has no API for it (a file drop): by hand
    url: str = ""  # where the request and its result are shown


@dataclass(frozen=True)
class UnknownAccounts:
    """Active accounts a tool lists for a subscription that match nobody here."""

    subscription_id: int
    subscription: str
    tool: str
    count: int
    url: str  # where IT maps or revokes them (the connector's page)


@dataclass(frozen=True)
class AutomaticRevocation:
    """An account a playbook revoked in a tool (not a checklist decision)."""

    department_id: int
    subscription: str
    person: str
    tool: str
    account: str
    trigger: str  # what triggered it (idle or leaver playbook), translated
    reason: str
    status: str  # its result, translated
    at: Any  # when it was asked for


class Reclaimer(Protocol):
    def tool_accounts(self, seat_ids: list[int]) -> dict[int, list[ToolAccount]]: ...

    def unknown_accounts(self, subscriptions: Any) -> list[UnknownAccounts]: ...

    def automatic_revocations(
        self, *, since: Any, until: Any, department_ids: set[int]
    ) -> list[AutomaticRevocation]: ...

    def revoke(self, seat_ids: list[int], *, user: Any, source: str, reason: str) -> int: ...


_RECLAIMERS: list[Reclaimer] = []


def register(reclaimer: Reclaimer) -> None:
    if not any(type(r) is type(reclaimer) for r in _RECLAIMERS):
        _RECLAIMERS.append(reclaimer)


def tool_accounts(seat_ids: list[int]) -> dict[int, list[ToolAccount]]:
    """Seat id -> the accounts in tools its revoke deactivates (a fixed number of queries)."""
    found: dict[int, list[ToolAccount]] = {}
    if not seat_ids:
        return found
    for reclaimer in _RECLAIMERS:
        for seat_id, accounts in reclaimer.tool_accounts(list(seat_ids)).items():
            found.setdefault(seat_id, []).extend(accounts)
    return found


def unknown_accounts(subscriptions: Any) -> list[UnknownAccounts]:
    """Per tool, the unknown accounts of these subscriptions (a queryset or ids)."""
    return [u for r in _RECLAIMERS for u in r.unknown_accounts(subscriptions)]


def automatic_revocations(
    *, since: Any, until: Any, department_ids: set[int]
) -> list[AutomaticRevocation]:
    """What playbooks revoked in the tools between ``since`` and ``until`` (None: now), for
    subscriptions of these departments (a clean-up campaign's report lists them)."""
    found = [
        r
        for reclaimer in _RECLAIMERS
        for r in reclaimer.automatic_revocations(
            since=since, until=until, department_ids=department_ids
        )
    ]
    return sorted(found, key=lambda r: r.at)


def revoke_in_tools(seat_ids: list[int], *, user: Any, source: str, reason: str) -> int:
    """Ask every tool to deactivate these seats' accounts (``source``: campaign or seat);
    how many requests were made. Call it inside the transaction that revokes the seats."""
    return sum(
        r.revoke(list(seat_ids), user=user, source=source, reason=reason) for r in _RECLAIMERS
    )
