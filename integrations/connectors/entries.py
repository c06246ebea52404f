"""What a connector reads from a tool: its accounts, as plain values (the sync writes them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.dateparse import parse_datetime

from integrations.setting import Setting
from integrations.text import one_line

# What an account's values may hold (longer ones are cut, or dropped where a cut value would
# be wrong: an e-mail, a mobile).
MAX_ID, MAX_NAME, MAX_TEXT = 255, 200, 255
MAX_EMAIL, MAX_EMPLOYEE_NO, MAX_MOBILE = 254, 40, 30
MAX_MODULES, MAX_MODULE_NAME = 50, 100


class ConnectorError(Exception):
    """The tool could not be read or refused a change: a translated message for IT, never
    holding a credential. Nothing was applied."""


@dataclass(frozen=True)
class ExternalAccount:
    """One account of the tool. ``external_id`` is the tool's stable id (never the name)."""

    external_id: str
    user_name: str = ""
    display_name: str = ""
    email: str = ""
    employee_no: str = ""
    mobile: str = ""
    active: bool = True
    last_active_at: dt.datetime | None = None
    # Per module or product of the tool (Jira, Confluence ...), where its API tells: the
    # module's name -> the account's last activity in it (None: has access, never used).
    modules: dict[str, dt.datetime | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectorKind:
    """What a kind of connector can do (see integrations/connectors/kinds.py)."""

    read: Callable[[Any], list[ExternalAccount]]
    deprovision: Callable[[Any, str], None] | None
    reactivate: Callable[[Any, str], None] | None
    # The kind's settings and secrets (a secret: Setting(secret=True), encrypted at rest).
    settings: tuple[Setting, ...]

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.settings if s.secret)


def clean_text(value: object, limit: int) -> str:
    """Text without control characters and runs of whitespace, cut to ``limit``."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return ""
    return one_line(str(value)[: limit * 4])[:limit]


def parse_stamp(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        stamp = parse_datetime(value.strip())
    except ValueError:
        return None
    if stamp is not None and stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp
