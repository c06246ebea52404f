"""The GitHub organisation connector: the organisation's members, their Copilot seats and Copilot
activity, and a member removed from (or invited back to) the organisation. GitHub's REST API
(version 2022-11-28), on github.com or GitHub Enterprise Server.

``connector.base_url``: the API, ``https://api.github.com`` (GHES: ``https://HOST/api/v3``); the
secret ``token`` (a fine-grained or classic personal access token of an organisation owner) is
sent as ``Authorization: Bearer``. ``connector.config``: ``organization`` (its login),
``copilot`` (read the Copilot seats, default on), ``profile_lookups`` (at most this many
profiles read per sync, default 1,000), ``timeout``, ``max_accounts`` (200,000).

What it calls, as documented:
- ``GET /orgs/{org}/members?per_page=100``, then each ``Link: <...>; rel="next"`` (only one
  under ``base_url``: the token never leaves for another host) —
  https://docs.github.com/en/rest/orgs/members#list-organization-members,
  https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
- ``GET /users/{username}`` for the name, the *public* e-mail and, on GHES, ``suspended_at``
  (a suspended user: inactive), for at most ``profile_lookups`` members per sync. Most members
  have no public e-mail: they are unknown accounts until mapped by hand —
  https://docs.github.com/en/rest/users/users#get-a-user
- ``GET /orgs/{org}/copilot/billing/seats?per_page=100``: each seat's ``assignee`` and
  ``last_activity_at`` -> module "Copilot" and the account's last activity (404 or 422: the
  organisation has no Copilot Business/Enterprise: no modules) —
  https://docs.github.com/en/rest/copilot/copilot-user-management#list-all-copilot-seat-assignments-for-an-organization
  GitHub documents no last activity for plain organisation membership (the enterprise
  "dormant users" report is a download, not an API): only Copilot users have one here.
- Revoking: ``GET /user/{account_id}`` (the login from the stable id: logins change),
  ``GET /orgs/{org}/memberships/{username}`` (an owner is never removed: that is done on GitHub
  by hand; someone no longer a member: nothing to do), then
  ``DELETE /orgs/{org}/memberships/{username}`` (removes the member, with their Copilot seat,
  or cancels a pending invitation). Reactivating: ``PUT /orgs/{org}/memberships/{username}``
  ``{"role": "member"}``, an invitation the user must accept (pending until then). GitHub has
  no deactivation: the connector's "deactivate" and "delete" both remove the membership —
  https://docs.github.com/en/rest/users/users#get-a-user-using-their-id,
  https://docs.github.com/en/rest/orgs/members#get-organization-membership-for-a-user,
  https://docs.github.com/en/rest/orgs/members#remove-organization-membership-for-a-user,
  https://docs.github.com/en/rest/orgs/members#set-organization-membership-for-a-user
- Rate limits: a 403 or 429 with ``x-ratelimit-remaining: 0`` waits until the epoch in
  ``x-ratelimit-reset``; a secondary limit after its ``retry-after`` (else a minute); each wait
  at most ``http.MAX_WAIT`` s, ``http.RETRIES`` times —
  https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit

Pending invitations and outside collaborators are not read. Values are cleaned; a member without
a usable id is skipped (logged). Failures raise a translated ``ConnectorError``, nothing partial.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations.connectors.entries import (
    MAX_EMAIL,
    MAX_ID,
    MAX_NAME,
    MAX_TEXT,
    ConnectorError,
    ConnectorKind,
    ExternalAccount,
    clean_text,
    parse_stamp,
)
from integrations.connectors.http import MAX_WAIT, Refused, VendorHttp, retry_after
from integrations.setting import Setting

logger = logging.getLogger(__name__)

SETTINGS = (
    Setting("token", gettext_lazy("API token"), secret=True, required=True,
            help=gettext_lazy("A personal access token of an organisation owner (see the README).")),
    Setting("organization", gettext_lazy("Organisation login"), required=True,
            help=gettext_lazy("The organisation's login, as in https://github.com/LOGIN.")),
    Setting("copilot", gettext_lazy("Read Copilot seats"), kind="bool", default=True,
            help=gettext_lazy("Each Copilot seat's last activity, as the module Copilot.")),
    Setting("profile_lookups", gettext_lazy("Profiles read per sync"), kind="int", min_value=0,
            max_value=10_000, default=1000,
            help=gettext_lazy("Members' names and public e-mails: one request each.")),
    Setting("timeout", gettext_lazy("Time-out (seconds)"), kind="int", max_value=300, default=30),
    Setting("max_accounts", gettext_lazy("Most accounts"), kind="int", max_value=1_000_000,
            help=gettext_lazy("More than this is refused as a loop; default 200,000.")),
)  # fmt: skip

COPILOT = "Copilot"
PER_PAGE = 100
# A GitHub login (GHES and Enterprise Managed Users add "_shortcode"): anything else is never
# put in a path.
LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
           "User-Agent": "Renewal-Desk"}  # fmt: skip


class RateLimited(Refused):
    """GitHub's rate limit stayed used up through every retry."""


class GitHubHttp(VendorHttp):
    """VendorHttp waiting out GitHub's primary and secondary rate limits."""

    def wait_for(self, response: httpx.Response, attempt: int) -> float | None:
        if response.status_code not in (403, 429):
            return super().wait_for(response, attempt)
        headers = response.headers
        if headers.get("x-ratelimit-remaining") == "0":
            reset = headers.get("x-ratelimit-reset", "")
            if reset.isdigit():
                return min(max(int(reset) - time.time() + 1.0, 1.0), MAX_WAIT)  # 1 s: clocks
        if headers.get("retry-after"):
            return retry_after(headers["retry-after"], attempt)
        if _secondary(response):
            return MAX_WAIT  # the docs: no retry-after, wait at least a minute
        return retry_after(None, attempt) if response.status_code == 429 else None

    def refused(self, response: httpx.Response) -> Refused:
        status = response.status_code
        limited = response.headers.get("x-ratelimit-remaining") == "0" or _secondary(response)
        if status in (403, 429) and limited:
            text = _("GitHub's rate limit stayed used up (HTTP %(status)s): the next sync will try again.")  # fmt: skip
        elif status == 401:
            text = _("GitHub refused the token (HTTP %(status)s): it is wrong, expired or revoked.")
        elif status == 403:
            text = _("GitHub refused the request (HTTP %(status)s): the token lacks a permission it needs.")  # fmt: skip
        else:
            return super().refused(response)
        logger.warning("GitHub connector %s: HTTP %s", getattr(self.connector, "pk", "?"), status)
        kind = RateLimited if status in (403, 429) and limited else Refused
        return kind(text % {"status": status}, status)


def _secondary(response: httpx.Response) -> bool:
    """GitHub's documented answer to a secondary rate limit: its message says so."""
    if response.status_code == 429 or response.headers.get("retry-after"):
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    message = body.get("message") if isinstance(body, dict) else None
    return isinstance(message, str) and "rate limit" in message.lower()


@dataclass(frozen=True)
class _Options:
    org: str
    copilot: bool
    lookups: int
    most: int


def _options(connector: Any) -> tuple[str, _Options]:
    token = connector.secrets.get("token", "")
    if not token:
        raise ConnectorError(_("The connector has no API token."))
    config = connector.config or {}
    org = str(config.get("organization") or "").strip()
    if not LOGIN.fullmatch(org):
        raise ConnectorError(
            _("Set the GitHub organisation's login (letters, digits and hyphens).")
        )
    try:
        lookups = config.get("profile_lookups")
        lookups = min(max(int(1000 if lookups in (None, "") else lookups), 0), 10_000)
        most = max(int(config.get("max_accounts") or 200_000), 1)
    except (TypeError, ValueError):
        raise ConnectorError(_("The connector has a setting that is not a number.")) from None
    copilot = config.get("copilot", True) not in (False, 0, "0", "false", "False")
    return token, _Options(org, copilot, lookups, most)


def _api(connector: Any, token: str) -> GitHubHttp:
    return GitHubHttp(
        connector,
        connector.base_url,
        headers={**HEADERS, "Authorization": f"Bearer {token}"},
        sleep=lambda seconds: time.sleep(seconds),  # looked up per call: tests replace it
    )


def read(connector: Any) -> list[ExternalAccount]:
    """Every member of the organisation (a failure anywhere: ConnectorError, nothing)."""
    token, options = _options(connector)
    with _api(connector, token) as api:
        members = _members(api, options)
        seats = _copilot(api, options, members) if options.copilot else {}
        profiles = _profiles(api, options, members)
    return [_account(uid, m, profiles.get(uid, {}), seats) for uid, m in members.items()]


def _pages(api: VendorHttp, path: str, key: str | None = None) -> Iterator[list[Any]]:
    """Each page's items, following ``rel="next"`` until none, or one already read (a loop)."""
    url = str(api.client.build_request("GET", path, params={"per_page": PER_PAGE}).url)
    seen: set[str] = set()
    while True:
        seen.add(url)
        body = api.json("GET", url)
        items = body.get(key) if key and isinstance(body, dict) else body
        if not isinstance(items, list):
            raise ConnectorError(_("GitHub's answer is not the list its API documents (%(path)s).") % {"path": path})  # fmt: skip
        yield items
        response = api.last
        link = response.links.get("next", {}).get("url") if response is not None else None
        if not link:
            return
        if not _under(api.client.base_url, link):
            raise ConnectorError(
                _("GitHub's next page is not under %(url)s: not followed.")
                % {"url": api.connector.base_url}
            )
        if link in seen:
            logger.warning("GitHub connector %s: the pages loop", getattr(api.connector, "pk", "?"))
            return
        url = link


def _under(base: httpx.URL, link: str) -> bool:
    try:
        url = httpx.URL(link)
    except (httpx.InvalidURL, TypeError):
        return False
    return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port) and (
        url.path.startswith(base.path.rstrip("/") + "/")
    )


def _members(api: VendorHttp, options: _Options) -> dict[str, dict[str, Any]]:
    """The members by their id (as text), in GitHub's order."""
    members: dict[str, dict[str, Any]] = {}
    for page in _pages(api, f"/orgs/{options.org}/members"):
        new = 0
        for item in page:
            uid = _id(item)
            if uid is None:
                logger.warning("GitHub member skipped: no usable id")
            elif uid not in members:
                members[uid] = item
                new += 1
        if len(members) > options.most:
            raise ConnectorError(
                _("The tool lists more than %(most)d accounts: raise the connector's limit.")
                % {"most": options.most}
            )
        if new == 0:
            break  # nothing new: the end, or pages that repeat themselves
    return members


def _copilot(
    api: VendorHttp, options: _Options, members: dict[str, Any]
) -> dict[str, dt.datetime | None]:
    """Each member's Copilot seat: its last activity (None: a seat never used)."""
    seats: dict[str, dt.datetime | None] = {}
    try:
        for page in _pages(api, f"/orgs/{options.org}/copilot/billing/seats", key="seats"):
            new = 0
            for seat in page:
                assignee = seat.get("assignee") if isinstance(seat, dict) else None
                uid = _id(assignee)
                if uid is None or uid not in members or uid in seats:
                    continue  # a team's, an outsider's or a repeated seat
                seats[uid] = parse_stamp(seat.get("last_activity_at"))
                new += 1
            if new == 0:
                break
    except Refused as exc:
        if exc.status in (404, 422):  # no Copilot Business/Enterprise here
            logger.info(
                "GitHub connector %s: no Copilot seats (HTTP %s)", api.connector.pk, exc.status
            )
            return {}
        if exc.status in (401, 403) and not isinstance(exc, RateLimited):
            raise ConnectorError(
                _("GitHub refused to list the Copilot seats (HTTP %(status)s): give the token "
                  "the Copilot permission, or stop reading Copilot seats.") % {"status": exc.status}
            ) from None  # fmt: skip
        raise
    return seats


def _profiles(
    api: VendorHttp, options: _Options, members: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The profiles of the first ``lookups`` members (GET /users/{username})."""
    profiles: dict[str, dict[str, Any]] = {}
    for uid, member in members.items():
        if len(profiles) >= options.lookups:
            logger.info("GitHub connector %s: profile lookups stopped at %s", api.connector.pk, options.lookups)  # fmt: skip
            break
        login = member.get("login")
        if not isinstance(login, str) or not LOGIN.fullmatch(login):
            logger.warning("GitHub member %s: not a GitHub login, profile not read", uid)
            continue
        try:
            profile = api.json("GET", f"/users/{quote(login, safe='')}")
        except Refused as exc:
            if exc.status != 404:
                raise
            profile = None  # renamed or gone since the list was read
        profiles[uid] = profile if isinstance(profile, dict) else {}
    return profiles


def _account(
    uid: str, member: dict[str, Any], profile: dict[str, Any], seats: dict[str, Any]
) -> ExternalAccount:
    email = clean_text(profile.get("email") or member.get("email"), MAX_EMAIL + 1)
    if len(email) > MAX_EMAIL or "@" not in email or " " in email:
        email = ""
    return ExternalAccount(
        external_id=uid,
        user_name=clean_text(member.get("login"), MAX_TEXT),
        display_name=clean_text(profile.get("name") or member.get("name"), MAX_NAME),
        email=email,
        active=not profile.get("suspended_at"),  # GHES: a suspended user cannot sign in
        last_active_at=seats.get(uid),
        modules={COPILOT: seats[uid]} if uid in seats else {},
    )


def _id(item: object) -> str | None:
    """A user's numeric id as text, or None (not a user, or a hostile value)."""
    value = item.get("id") if isinstance(item, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    text = str(value)
    return text if len(text) <= MAX_ID else None


def deprovision(connector: Any, external_id: str) -> None:
    """Remove the member from the organisation (not an owner; not a member: nothing to do)."""
    token, options = _options(connector)
    with _api(connector, token) as api:
        login = _login_of(api, external_id)
        membership = _membership(api, options.org, login)
        if membership is None:
            return
        if membership.get("role") == "admin":
            raise ConnectorError(
                _("%(login)s is an owner of the GitHub organisation: remove owners on GitHub.")
                % {"login": login}
            )
        api.request("DELETE", f"/orgs/{options.org}/memberships/{login}")


def reactivate(connector: Any, external_id: str) -> None:
    """Invite the user back as a member (pending until they accept); a member already: nothing."""
    token, options = _options(connector)
    with _api(connector, token) as api:
        login = _login_of(api, external_id)
        if _membership(api, options.org, login) is None:
            api.json("PUT", f"/orgs/{options.org}/memberships/{login}", json={"role": "member"})


def _login_of(api: VendorHttp, external_id: str) -> str:
    """The user's login now (GET /user/{account_id}): the id is stable, the login is not."""
    if not external_id.isascii() or not external_id.isdigit() or len(external_id) > 20:
        raise ConnectorError(
            _("%(id)s is not a GitHub user id.") % {"id": clean_text(external_id, 40)}
        )
    try:
        user = api.json("GET", f"/user/{external_id}")
    except Refused as exc:
        if exc.status != 404:
            raise
        raise ConnectorError(_("GitHub has no user %(id)s.") % {"id": external_id}) from None
    login = user.get("login") if isinstance(user, dict) else None
    if not isinstance(login, str) or not LOGIN.fullmatch(login):
        raise ConnectorError(_("%(id)s is not a GitHub user id.") % {"id": external_id})
    return login


def _membership(api: VendorHttp, org: str, login: str) -> dict[str, Any] | None:
    """The user's membership of the organisation (active or pending), or None."""
    try:
        membership = api.json("GET", f"/orgs/{org}/memberships/{login}")
    except Refused as exc:
        if exc.status != 404:
            raise
        return None
    return membership if isinstance(membership, dict) else {}


KIND = ConnectorKind(read=read, deprovision=deprovision, reactivate=reactivate, settings=SETTINGS)
