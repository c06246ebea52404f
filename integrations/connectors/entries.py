"""What a connector reads from a tool: its accounts, as plain values (the sync writes them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


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
