"""The Atlassian organisation connector: an organisation's managed accounts, with their
last activity in each product (Jira Software, Confluence ...), read from Atlassian's admin
APIs; an account deactivated (or deleted) and activated again there.

Endpoints (``connector.base_url``: https://api.atlassian.com; the secret ``api_key`` is an
organisation API key, sent as ``Authorization: Bearer``):

- ``GET /admin/v1/orgs/{orgId}/users?cursor=`` "Get managed accounts in an organization":
  ``data`` [{account_id, account_status (active, inactive, closed), name, email,
  last_active, product_access [{key, name, url, last_active}]}], ``links.next`` the next
  page's URL (its ``cursor`` is read from it; the URL itself is never followed, so the key
  never leaves ``base_url``).
  https://developer.atlassian.com/cloud/admin/organization/rest/api-group-users/
- ``GET /admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates`` "User's last
  active dates": ``data.product_access`` [{id, key, last_active (yyyy-MM-dd),
  last_active_timestamp}], ``links.next`` a cursor. Asked only for an active account whose
  list entry has no ``product_access`` (one request per such account).
  https://developer.atlassian.com/cloud/admin/organization/rest/api-group-directory/
  https://developer.atlassian.com/cloud/admin/organization/user-last-active-dates/
- ``POST /users/{account_id}/manage/lifecycle/disable`` | ``enable`` (deprovision "deactivate")
  and ``delete`` | ``cancel-delete`` (deprovision "delete": deleted after a 14-day grace
  period, within which it can be cancelled), the user management API; managed accounts only
  (a verified domain), with the key's ``lifecycle.enablement`` / ``lifecycle.delete``.
  https://developer.atlassian.com/cloud/admin/user-management/rest/api-group-lifecycle/
- The key: admin.atlassian.com > Settings > API keys (an organisation admin; at most a year).
  https://support.atlassian.com/organization-administration/docs/manage-an-organization-with-the-admin-apis/

``connector.config``: ``org_id``; ``products`` (optional product keys or names, comma-
separated: only accounts with access to them are read, and only their activity counts, for a
subscription of one product); ``timeout``; ``max_accounts`` (200,000: more is refused as a
loop). A cursor seen twice ends the read. Values are cleaned (entries.clean_text); a record
without a usable account id is skipped with a log line. Failures raise a translated
``ConnectorError`` and nothing partial is returned.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations.connectors.entries import (
    MAX_EMAIL,
    MAX_MODULE_NAME,
    MAX_MODULES,
    MAX_NAME,
    ConnectorError,
    ConnectorKind,
    ExternalAccount,
    clean_text,
    parse_stamp,
)
from integrations.connectors.http import Refused, VendorHttp
from integrations.setting import Setting

logger = logging.getLogger(__name__)

SETTINGS = (
    Setting("api_key", gettext_lazy("API key"), secret=True, required=True,
            help=gettext_lazy("An organization API key (admin.atlassian.com > Settings > API keys). "
                    "Sent as Bearer.")),
    Setting("org_id", gettext_lazy("Organization ID"), required=True,
            help=gettext_lazy("Shown with the API key when it is created, and in the admin URL.")),
    Setting("products", gettext_lazy("Products"),
            help=gettext_lazy("Optional: product keys or names, comma-separated (jira-software, "
                    "confluence): only accounts with access to them are read.")),
    Setting("timeout", gettext_lazy("Time-out (seconds)"), kind="int", max_value=300, default=30),
    Setting("max_accounts", gettext_lazy("Most accounts"), kind="int", max_value=1_000_000,
            help=gettext_lazy("More than this is refused as a loop; default 200,000.")),
)  # fmt: skip

ACCOUNT_ID = re.compile(r"[A-Za-z0-9_|:-]{1,128}")  # the documented pattern of account_id
ORG_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_CURSOR = 2000
# Names of the product keys, for the last-active-dates answer (it gives keys only).
PRODUCT_NAMES = {
    "jira-software": "Jira Software",
    "jira-servicedesk": "Jira Service Management",
    "jira-service-desk": "Jira Service Management",
    "jira-core": "Jira Work Management",
    "jira-product-discovery": "Jira Product Discovery",
    "confluence": "Confluence",
    "opsgenie": "Opsgenie",
    "statuspage": "Statuspage",
    "trello": "Trello",
    "bitbucket": "Bitbucket",
}


class _NotUnderstood(Exception):
    """An answer not shaped as the documentation says (the detail names what)."""


@dataclass(frozen=True)
class _Options:
    org_id: str
    products: frozenset[str]  # lower-case keys or names; empty: every product
    max_accounts: int


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _settings(connector: Any) -> tuple[str, _Options]:
    key = connector.secrets.get("api_key", "")
    if not key:
        raise ConnectorError(_("The connector has no API key."))
    config = connector.config or {}
    org_id = str(config.get("org_id") or "").strip()
    if not ORG_ID.fullmatch(org_id):
        raise ConnectorError(_("The connector's organization ID is missing or not valid."))
    try:
        most = max(int(config.get("max_accounts") or 200_000), 1)
    except (TypeError, ValueError):
        raise ConnectorError(_("The connector has a setting that is not a number.")) from None
    wanted = str(config.get("products") or "").split(",")
    products = frozenset(clean_text(p, MAX_MODULE_NAME).lower() for p in wanted) - {""}
    return key, _Options(org_id, products, most)


@contextmanager
def _api(connector: Any, key: str, options: _Options) -> Iterator[VendorHttp]:
    """The API client; Atlassian's refusals and odd answers as translated errors."""
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with VendorHttp(connector, connector.base_url, headers=headers, sleep=_sleep) as api:
            yield api
    except Refused as exc:
        raise _refused(exc, options) from None
    except _NotUnderstood as exc:
        logger.warning("Atlassian connector %s: %s", getattr(connector, "pk", "?"), exc)
        raise ConnectorError(
            _("Atlassian's answer is not understood: %(detail)s") % {"detail": str(exc)[:200]}
        ) from None


def _refused(exc: Refused, options: _Options, account: str = "") -> ConnectorError:
    status = {"status": exc.status, "org": options.org_id, "id": account}
    if exc.status == 401 or (exc.status == 403 and not account):
        return ConnectorError(
            _("Atlassian refused the API key (HTTP %(status)s): check that it has not expired "
              "and is a key of organization %(org)s.") % status)  # fmt: skip
    if exc.status == 403:
        return ConnectorError(
            _("Atlassian refused to change account %(id)s (HTTP 403): only managed accounts "
              "(of a verified domain) can be changed, with an organization API key.") % status)  # fmt: skip
    if exc.status == 404 and account:
        return ConnectorError(_("Atlassian has no account %(id)s (HTTP 404).") % status)
    if exc.status == 404:
        return ConnectorError(
            _("Atlassian has no organization %(org)s (HTTP 404): check the organization ID.")
            % status
        )
    return ConnectorError(str(exc))


def read(connector: Any) -> list[ExternalAccount]:
    """Every managed account of the organisation (a failure anywhere: ConnectorError)."""
    key, options = _settings(connector)
    accounts: dict[str, ExternalAccount] = {}
    with _api(connector, key, options) as api:
        for record in _records(api, options):
            account = _account(record, options, api)
            if account is not None:
                accounts.setdefault(account.external_id, account)
    return list(accounts.values())


def deprovision(connector: Any, external_id: str) -> None:
    """Deactivate the account (or delete it, as the connector is set) in Atlassian."""
    _lifecycle(connector, external_id, "delete" if connector.deprovision == "delete" else "disable")


def reactivate(connector: Any, external_id: str) -> None:
    """Activate the account again (a deletion: cancelled, within Atlassian's 14 days)."""
    deleting = connector.deprovision == "delete"
    _lifecycle(connector, external_id, "cancel-delete" if deleting else "enable")


def _lifecycle(connector: Any, external_id: str, action: str) -> None:
    key, options = _settings(connector)
    if not isinstance(external_id, str) or not ACCOUNT_ID.fullmatch(external_id):
        raise ConnectorError(_("This is not an Atlassian account ID."))
    path = f"/users/{quote(external_id, safe=':')}/manage/lifecycle/{action}"
    with _api(connector, key, options) as api:
        try:  # disable takes an optional message: none, Atlassian's default is shown
            response = api.request("POST", path, json={} if action == "disable" else None)
        except Refused as exc:
            raise _refused(exc, options, external_id) from None
    if response.status_code >= 300:
        raise ConnectorError(
            _("The tool answered HTTP %(status)s.") % {"status": response.status_code}
        )
    logger.info("Atlassian connector %s: %s %s", getattr(connector, "pk", "?"), action, external_id)


def _records(api: VendorHttp, options: _Options) -> Iterator[object]:
    """Every user record of every page, until a page without ``links.next``."""
    path = f"/admin/v1/orgs/{options.org_id}/users"
    cursor: str | None = None
    seen: set[str] = set()
    rows = 0
    while True:
        page = api.json("GET", path, params={"cursor": cursor} if cursor else None)
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise _NotUnderstood("a page of users has no data list")
        data: list[object] = page["data"]
        rows += len(data)
        if rows > options.max_accounts:
            raise ConnectorError(
                _("The tool lists more than %(most)d accounts: raise the connector's limit.")
                % {"most": options.max_accounts}
            )
        yield from data
        cursor = _next_cursor(page)
        if not data or cursor is None:
            return
        if cursor in seen:
            logger.warning("Atlassian users: a cursor came back; the read ends there")
            return
        seen.add(cursor)


def _next_cursor(page: dict[str, Any]) -> str | None:
    """The next page's cursor: ``links.next`` is a URL with ``cursor=`` or the cursor."""
    links = page.get("links")
    value = links.get("next") if isinstance(links, dict) else None
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_CURSOR:
        raise _NotUnderstood("links.next is not a cursor")
    if "?" in value or "://" in value:
        found = parse_qs(urlsplit(value).query).get("cursor")
        if not found or not found[0]:
            raise _NotUnderstood("links.next has no cursor")
        return found[0]
    return value


def _account(record: object, options: _Options, api: VendorHttp) -> ExternalAccount | None:
    if not isinstance(record, dict):
        logger.warning("Atlassian account skipped: not an object")
        return None
    external_id = record.get("account_id")
    if not isinstance(external_id, str) or not ACCOUNT_ID.fullmatch(external_id):
        logger.warning("Atlassian account skipped: no usable account_id")
        return None
    active = record.get("account_status") == "active"
    listed = record.get("product_access")
    if isinstance(listed, list):
        modules = _modules(listed, options)
        if options.products and active and not modules:
            return None  # no access to this subscription's products: no seat of it
    elif active:  # the list does not say: ask the account's last active dates
        modules = _modules(_activity(api, options.org_id, external_id), options)
    else:
        modules = {}
    stamps: list[dt.datetime | None] = list(modules.values())
    if not options.products:
        stamps.append(parse_stamp(record.get("last_active")))
    email = clean_text(record.get("email"), MAX_EMAIL + 1)
    if len(email) > MAX_EMAIL or "@" not in email or " " in email:
        email = ""
    return ExternalAccount(
        external_id=external_id,
        user_name=email,
        display_name=clean_text(record.get("name"), MAX_NAME),
        email=email,
        active=active,
        last_active_at=max((s for s in stamps if s is not None), default=None),
        modules=modules,
    )


def _modules(entries: list[object], options: _Options) -> dict[str, dt.datetime | None]:
    """Product name -> last activity in it (None: access, no activity known)."""
    modules: dict[str, dt.datetime | None] = {}
    for entry in entries[: MAX_MODULES * 4]:
        if not isinstance(entry, dict):
            continue
        key = clean_text(entry.get("key"), MAX_MODULE_NAME).lower()
        name = clean_text(entry.get("name"), MAX_MODULE_NAME) or PRODUCT_NAMES.get(key, key)
        if not name:
            continue
        if options.products and not {key, name.lower()} & options.products:
            continue
        stamp = parse_stamp(entry.get("last_active_timestamp")) or parse_stamp(
            entry.get("last_active")
        )
        if name in modules:  # the same product on two sites: the latest use
            known = modules[name]
            modules[name] = max(known, stamp) if known and stamp else known or stamp
        elif len(modules) < MAX_MODULES:
            modules[name] = stamp
    return modules


def _activity(api: VendorHttp, org_id: str, account_id: str) -> list[object]:
    """The account's ``product_access`` from its last-active-dates, by pages."""
    path = (
        f"/admin/v1/orgs/{org_id}/directory/users/{quote(account_id, safe=':')}/last-active-dates"
    )
    entries: list[object] = []
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        try:
            page = api.json("GET", path, params={"cursor": cursor} if cursor else None)
        except Refused as exc:
            if exc.status == 404:  # the account left the directory since the list was read
                return entries
            raise
        data = page.get("data") if isinstance(page, dict) else None
        more = data.get("product_access") if isinstance(data, dict) else None
        if more is None and isinstance(data, dict):
            more = []  # "If the user has not accessed a product, the field will be empty"
        if not isinstance(more, list):
            raise _NotUnderstood("last-active-dates has no product_access list")
        entries.extend(more)
        cursor = _next_cursor(page)
        if not more or cursor is None or cursor in seen or len(entries) > MAX_MODULES * 4:
            return entries
        seen.add(cursor)


KIND = ConnectorKind(read=read, deprovision=deprovision, reactivate=reactivate, settings=SETTINGS)
