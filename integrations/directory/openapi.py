"""What the DingTalk and WeCom readers share. Their server APIs: JSON answers with ``errcode`` / ``errmsg``, an
access token asked for with the app's secret, codes that say the token is invalid or expired
(asked again once), and codes that say "too fast" or "busy" (a bounded back-off, then the run
fails and the next one tries again).

Nothing here logs or raises with a URL, a token or a secret in it: the token and the secret
travel in query strings, so a library's exception text (which quotes the URL) is never kept
(``raise ... from None``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import requests
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from integrations.directory.entries import ExternalDepartment, ExternalPerson, SourceError

if TYPE_CHECKING:
    from integrations.models import DirectorySource

StrOrPromise = str | Promise

# Waits between tries when the vendor says "too fast" / "busy": 3 more tries, 7 s at most.
BACKOFF_SECONDS: tuple[float, ...] = (1.0, 2.0, 4.0)
TIMEOUT = (5, 30)  # connect, read (seconds)
HTTP_BUSY = -429  # our own code for an HTTP 429 / 5xx answer without a JSON errcode


def sleep(seconds: float) -> None:  # a seam for tests
    time.sleep(seconds)


class ErrcodeApi:
    """One app's session with a vendor API. Subclasses say how the token is asked for and
    which codes mean what."""

    vendor: StrOrPromise = ""  # shown to IT in messages (a lazy translation)
    token_errors: frozenset[int] = frozenset()
    busy_errors: frozenset[int] = frozenset()
    permission_errors: frozenset[int] = frozenset()

    def __init__(self, base_url: str, *, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self._token: str | None = None

    # --- to override ---------------------------------------------------------------------

    def fetch_token(self) -> str:
        raise NotImplementedError

    def errcode(self, data: dict[str, Any]) -> int:
        try:
            return int(data.get("errcode", 0) or 0)
        except (TypeError, ValueError):
            return -1

    # --- the calls ----------------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            self._token = self.fetch_token()
        return self._token

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        accept: frozenset[int] = frozenset(),
    ) -> dict[str, Any]:
        """One API call with the token; ``accept``: error codes returned to the caller (e.g.
        "no such user") instead of raised."""
        refreshed = False
        waits = iter(BACKOFF_SECONDS)
        while True:
            query = {**(params or {}), "access_token": self.token()}
            data = self.send(method, path, params=query, body=body, waits=waits)
            code = self.errcode(data)
            if code == 0 or code in accept:
                return data
            if code in self.token_errors and not refreshed:
                self._token, refreshed = None, True
                continue
            if code in self.token_errors:
                raise SourceError(
                    _("%(vendor)s refused a fresh access token: check the app's credentials.")
                    % {"vendor": self.vendor}
                )
            raise self.failure(code, data)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any],
        body: dict[str, Any] | None = None,
        waits: Iterator[float] | None = None,
    ) -> dict[str, Any]:
        """The JSON answer, after waiting out "too fast" / "busy" answers (bounded)."""
        waits = waits if waits is not None else iter(BACKOFF_SECONDS)
        while True:
            data = self._send_once(method, path, params=params, body=body)
            code = self.errcode(data)
            if code not in self.busy_errors and code != HTTP_BUSY:
                return data
            wait = next(waits, None)
            if wait is None:
                raise SourceError(
                    _("%(vendor)s kept asking us to slow down; the next sync will try again.")
                    % {"vendor": self.vendor}
                )
            sleep(wait)

    def _send_once(
        self, method: str, path: str, *, params: dict[str, Any], body: dict[str, Any] | None
    ) -> dict[str, Any]:
        try:
            response = self.session.request(
                method, self.base_url + path, params=params, json=body, timeout=TIMEOUT
            )
        except requests.RequestException:
            raise SourceError(
                _("%(vendor)s could not be reached.") % {"vendor": self.vendor}
            ) from None
        if response.status_code == 429 or response.status_code >= 500:
            return {"errcode": HTTP_BUSY}
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise SourceError(
                _("%(vendor)s answered something that is not its API (HTTP %(status)s).")
                % {"vendor": self.vendor, "status": response.status_code}
            )
        return data

    def failure(self, code: int, data: dict[str, Any]) -> SourceError:
        if code in self.permission_errors:
            return SourceError(
                _(
                    "The app may not read this part of the %(vendor)s directory (error "
                    "%(code)s): check its permissions and visible range."
                )
                % {"vendor": self.vendor, "code": code}
            )
        message = str(data.get("errmsg") or data.get("sub_msg") or "")[:200]
        return SourceError(
            _("%(vendor)s answered with error %(code)s: %(message)s")
            % {"vendor": self.vendor, "code": code, "message": message}
        )


# --- the directory's root ------------------------------------------------------------------


def named_root(
    departments: list[ExternalDepartment], source: DirectorySource
) -> list[ExternalDepartment]:
    """The root (the company) under the name configured as ``root_department_name``, if any."""
    name = str(source.config.get("root_department_name") or "")
    return [
        ExternalDepartment(d.external_id, name, d.parent_id, d.code)
        if name and d.parent_id is None
        else d
        for d in departments
    ]


def without_empty_root(
    departments: list[ExternalDepartment], people: list[ExternalPerson], root: str
) -> list[ExternalDepartment]:
    """The root department (the company itself) only when someone is placed directly in it;
    otherwise its children are top-level departments here."""
    if any(p.department_id == root for p in people):
        return departments
    return [d for d in departments if d.external_id != root]
