"""What each kind of connector can do: read the tool's accounts, revoke one, bring one back.

A kind is a module of this package (``scim``) or of ``vendors/`` with
``read(connector) -> list[ExternalAccount]`` (every account, or ``ConnectorError`` and
nothing), and where the tool allows it ``deprovision(connector, external_id)`` and
``reactivate(connector, external_id)`` (raise ``ConnectorError`` when the tool refuses).
``settings``: its ``Setting``s (integrations/setting.py): the keys of ``connector.config``
it reads and, ``secret=True``, the encrypted credentials it needs (write-only on the page).
Every kind reads ``timeout`` (seconds per request, default 30).
"""

from __future__ import annotations

from integrations.connectors import scim
from integrations.connectors.entries import ConnectorKind
from integrations.connectors.models import Connector
from integrations.connectors.vendors import atlassian, feishu, filedrop, github

K = Connector.Kind
KINDS: dict[str, ConnectorKind] = {
    K.SCIM: ConnectorKind(
        read=scim.read,
        deprovision=scim.deprovision,
        reactivate=scim.reactivate,
        settings=scim.SETTINGS,
    ),
    K.ATLASSIAN: atlassian.KIND,
    K.GITHUB: github.KIND,
    K.FEISHU: feishu.KIND,
    K.FILE: filedrop.KIND,
}


def kind_of(connector: Connector) -> ConnectorKind:
    return KINDS[Connector.Kind(connector.kind)]
