"""PLACEHOLDER: being written; replaced before this lands."""

from __future__ import annotations

from typing import Any

from integrations.connectors.entries import ConnectorError, ConnectorKind, ExternalAccount


def read(connector: Any) -> list[ExternalAccount]:
    raise ConnectorError("not built yet")


KIND = ConnectorKind(read=read, deprovision=None, reactivate=None, settings=())
