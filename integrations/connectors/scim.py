"""The SCIM 2.0 connector: a tool's accounts listed from its SCIM service provider (RFC 7644),
and an account deprovisioned there (``PATCH active: false``, or DELETE where configured).

Most business SaaS expose SCIM for provisioning (Atlassian, Slack, GitHub Enterprise, Zoom,
Figma, Asana, Monday.com ...). The protocol is scim2-client's (request building, SCIM errors,
PatchOp) over httpx, with the User and enterprise User models of scim2-models.

``connector.base_url``: the SCIM base, e.g. ``https://api.atlassian.com/scim/directory/ID``;
the secret ``token`` is sent as ``Authorization: Bearer``. ``connector.config``:
- ``page_size`` (100, at most 1,000): ``count`` per page, read by ``startIndex``;
- ``timeout`` (30 s per request); ``max_accounts`` (200,000): more is refused as a loop;
- ``last_active_attribute``: a dotted path of the User naming its last activity (SCIM has
  none of its own), e.g. ``urn:ietf:params:scim:schemas:extension:slack:profile:2.0:User.
  lastLogin``; without it accounts have no last activity from this connector.

Pages are read tolerantly (as dicts, not validated models): vendors' SCIM departs from the
schema in small ways, and one odd attribute must not fail a sync of 20,000 accounts. A 429 or
503 is retried after its Retry-After (at most ``RETRIES`` times, each wait at most
``MAX_WAIT`` s, all of them at most ``TOTAL_WAIT`` s). Failures raise a translated ``ConnectorError``; nothing partial is returned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from scim2_client import SCIMClientException
from scim2_client.client import BaseSyncSCIMClient
from scim2_client.errors import RequestNetworkException
from scim2_models import (
    EnterpriseUser,
    PatchOp,
    PatchOperation,
    Path,
    ResourceType,
    SCIMException,
    ScimProvider,
    SearchRequest,
    User,
)

from integrations.connectors.entries import (
    MAX_EMAIL,
    MAX_EMPLOYEE_NO,
    MAX_ID,
    MAX_MOBILE,
    MAX_NAME,
    MAX_TEXT,
    ConnectorError,
    ExternalAccount,
    clean_text,
    parse_stamp,
)
from integrations.connectors.http import RETRIES, TOTAL_WAIT, client_for, retry_after
from integrations.setting import Setting

logger = logging.getLogger(__name__)

SETTINGS = (
    Setting("token", gettext_lazy("API token"), secret=True, required=True,
            help=gettext_lazy("A token of an admin account of the tool, for its SCIM API. Sent as Bearer.")),
    Setting("page_size", gettext_lazy("Accounts per page"), kind="int", max_value=1000, default=100),
    Setting("timeout", gettext_lazy("Time-out (seconds)"), kind="int", max_value=300, default=30),
    Setting("max_accounts", gettext_lazy("Most accounts"), kind="int", max_value=1_000_000,
            help=gettext_lazy("More than this is refused as a loop; default 200,000.")),
    Setting("last_active_attribute", gettext_lazy("Attribute of the last activity"),
            help=gettext_lazy("Optional: the SCIM attribute holding the last sign-in, if the tool has one.")),
)  # fmt: skip

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ScimUser = User[EnterpriseUser]
PROVIDER = ScimProvider(
    models=[User, EnterpriseUser], resource_types=[ResourceType.from_resource(ScimUser)]
)


class _HttpxEngine(BaseSyncSCIMClient):
    """scim2-client's synchronous client on an httpx.Client (its own engine is for httpx2),
    retrying a 429 or 503 after the Retry-After it gives."""

    def __init__(self, client: httpx.Client, **kwargs: Any) -> None:
        super().__init__(provider=PROVIDER, **kwargs)
        self.client = client
        self.waited = 0.0

    def _stays_under_base_url(self, endpoint: str) -> bool:
        url = self.client.build_request("GET", endpoint).url
        base = self.client.base_url
        return url.host == base.host and url.path.startswith(base.path.rstrip("/"))

    def _parse_json(self, response: Any) -> Any:
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(RETRIES + 1):
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                error = RequestNetworkException()
                error.add_note(str(exc))
                raise error from exc
            wait = retry_after(response.headers.get("Retry-After"), attempt)
            if (
                response.status_code not in (429, 503)
                or attempt == RETRIES
                or self.waited + wait > TOTAL_WAIT  # all waits stay well under Q_TIMEOUT
            ):
                if response.status_code >= 400:  # whatever the body (a proxy's page, an Error)
                    raise _Refused(response.status_code)
                return response
            self.waited += wait
            time.sleep(wait)
        raise AssertionError("unreachable")


class _Refused(SCIMClientException):
    """The tool answered with an HTTP error status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@dataclass(frozen=True)
class _Options:
    page_size: int
    timeout: float
    max_accounts: int
    last_active: str  # a dotted path, or ""


def _settings(connector: Any) -> tuple[str, str, _Options]:
    token = connector.secrets.get("token", "")
    if not token:
        raise ConnectorError(_("The connector has no API token."))
    config = connector.config or {}
    try:
        page = min(max(int(config.get("page_size") or 100), 1), 1000)
        timeout = min(max(float(config.get("timeout") or 30), 1.0), 300.0)
        most = max(int(config.get("max_accounts") or 200_000), 1)
    except (TypeError, ValueError):
        raise ConnectorError(_("The connector has a setting that is not a number.")) from None
    last_active = str(config.get("last_active_attribute") or "").strip()
    return connector.base_url.rstrip("/"), token, _Options(page, timeout, most, last_active)


@contextmanager
def _client(connector: Any) -> Iterator[tuple[_HttpxEngine, _Options]]:
    base, token, options = _settings(connector)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/scim+json"}
    try:
        with client_for(base, headers, options.timeout) as http:
            yield _HttpxEngine(http, check_response_content_type=False), options
    except (SCIMClientException, SCIMException, ValueError) as exc:
        raise _error(exc, connector) from None


def read(connector: Any) -> list[ExternalAccount]:
    """Every account of the tool, by pages (a failure anywhere: ConnectorError, nothing)."""
    accounts: dict[str, ExternalAccount] = {}
    with _client(connector) as (scim, options):
        start, size = 1, options.page_size
        while True:
            page = scim.query(
                ScimUser,
                query_parameters=SearchRequest(start_index=start, count=size),
                check_response_payload=False,
            )
            if not isinstance(page, dict):
                raise ValueError("not a ListResponse")
            resources = page.get("Resources") or []
            if not isinstance(resources, list):
                raise ValueError("Resources is not a list")
            new = 0
            for resource in resources:
                account = _account(resource, options.last_active)
                if account is not None and account.external_id not in accounts:
                    accounts[account.external_id] = account
                    new += 1
            if len(accounts) > options.max_accounts:
                raise ConnectorError(
                    _("The tool lists more than %(most)d accounts: raise the connector's limit.")
                    % {"most": options.max_accounts}
                )
            total = _int(page.get("totalResults"))
            start += len(resources)
            if not resources or new == 0 or (total is not None and start > total):
                break  # the end (or a page of accounts already read: the server loops)
    return list(accounts.values())


def deprovision(connector: Any, external_id: str) -> None:
    """Deactivate (or delete, as the connector is set) the account in the tool."""
    with _client(connector) as (scim, _options):
        if connector.deprovision == "delete":
            scim.delete(ScimUser, external_id)
            return
        operation = PatchOperation[ScimUser](
            op=PatchOperation.Op.replace_, path=Path[ScimUser]("active"), value=False
        )
        scim.modify(ScimUser, external_id, PatchOp[ScimUser](Operations=[operation]))


def reactivate(connector: Any, external_id: str) -> None:
    """Undo a deactivation: ``PATCH active: true`` (a deleted account cannot come back)."""
    if connector.deprovision == "delete":
        raise ConnectorError(_("This connector deletes accounts: a deleted one cannot come back."))
    with _client(connector) as (scim, _options):
        operation = PatchOperation[ScimUser](
            op=PatchOperation.Op.replace_, path=Path[ScimUser]("active"), value=True
        )
        scim.modify(ScimUser, external_id, PatchOp[ScimUser](Operations=[operation]))


def _account(resource: object, last_active: str) -> ExternalAccount | None:
    if not isinstance(resource, dict):
        return None
    external_id = clean_text(resource.get("id"), MAX_ID + 1)
    if not external_id or len(external_id) > MAX_ID:
        logger.warning("SCIM account skipped: no usable id")
        return None
    name = resource.get("name") if isinstance(resource.get("name"), dict) else {}
    display = clean_text(resource.get("displayName"), MAX_NAME) or clean_text(
        (name or {}).get("formatted"), MAX_NAME
    )
    enterprise = resource.get(ENTERPRISE) if isinstance(resource.get(ENTERPRISE), dict) else {}
    return ExternalAccount(
        external_id=external_id,
        user_name=clean_text(resource.get("userName"), MAX_TEXT),
        display_name=display,
        email=_primary(resource.get("emails"), MAX_EMAIL, email=True),
        employee_no=clean_text((enterprise or {}).get("employeeNumber"), MAX_EMPLOYEE_NO),
        mobile=_primary(resource.get("phoneNumbers"), MAX_MOBILE),
        active=resource.get("active") is not False,
        last_active_at=parse_stamp(_path(resource, last_active)) if last_active else None,
    )


def _primary(values: object, limit: int, *, email: bool = False) -> str:
    """The primary (else the first) value of a multi-valued attribute; "" when too long."""
    if not isinstance(values, list):
        return ""
    items = [v for v in values if isinstance(v, dict) and isinstance(v.get("value"), str)]
    items.sort(key=lambda v: v.get("primary") is not True)
    for item in items:
        text = clean_text(item["value"], limit + 1)
        if text and len(text) <= limit and (not email or ("@" in text and " " not in text)):
            return text
    return ""


def _path(resource: dict[str, Any], dotted: str) -> object:
    """The value at a dotted path; a schema URN (dots of its own) names the first part."""
    value: object = resource
    if dotted.startswith("urn:"):
        prefix, _colon, rest = dotted.rpartition(":")
        head, _dot, dotted = rest.partition(".")
        value = resource.get(f"{prefix}:{head}")
    for part in filter(None, dotted.split(".")):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _error(exc: BaseException, connector: Any) -> ConnectorError:
    """A translated ConnectorError (no token: httpx and scim2-client never print headers)."""
    source = getattr(exc, "source", None)
    status = getattr(exc, "status", None) or getattr(source, "status_code", None)
    status = status if isinstance(status, int) and status >= 400 else None
    where = connector.base_url
    logger.warning("SCIM connector %s: %s", getattr(connector, "pk", "?"), exc)
    if isinstance(exc, RequestNetworkException):
        notes = " ".join(getattr(exc, "__notes__", []))
        if "timed out" in notes.lower() or "timeout" in notes.lower():
            return ConnectorError(_("%(url)s did not answer in time.") % {"url": where})
        return ConnectorError(_("%(url)s cannot be reached: %(detail)s") % {
            "url": where, "detail": notes[:200]})  # fmt: skip
    if status in (401, 403):
        return ConnectorError(
            _("The tool refused the connector's token (HTTP %(status)s).") % {"status": status}
        )
    if status == 404:
        return ConnectorError(_("%(url)s has no SCIM Users here (HTTP 404).") % {"url": where})
    if status == 429:
        return ConnectorError(_("The tool kept asking to slow down (HTTP 429)."))
    if status:
        return ConnectorError(_("The tool answered HTTP %(status)s.") % {"status": status})
    return ConnectorError(
        _("The tool's answer is not SCIM: %(detail)s") % {"detail": str(exc)[:200]}
    )
