"""HTTP for the vendor connectors (Atlassian, GitHub, Feishu ...): one httpx client per read,
JSON answers, a 429 or 503 waited out after its Retry-After (at most ``RETRIES`` times, each
wait at most ``MAX_WAIT`` s), and every failure turned into a translated ``ConnectorError``
that never holds a credential (httpx never prints headers; nor do we).

    with VendorHttp(connector, base_url, headers={"Authorization": f"Bearer {token}"}) as api:
        page = api.json("GET", "/v1/orgs/ID/users", params={"cursor": cursor})

``api.last`` is the last ``httpx.Response`` (for a Link header or a rate-limit header).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any

import httpx
from django.utils.http import parse_http_date_safe
from django.utils.translation import gettext as _

from integrations.connectors.entries import ConnectorError

logger = logging.getLogger(__name__)

RETRIES, MAX_WAIT = 5, 60.0
# All the waits of one client together stay under this (well under django-q's Q_TIMEOUT).
TOTAL_WAIT = 150.0


def retry_after(value: str | None, attempt: int) -> float:
    """Seconds to wait: the header's (seconds, or an HTTP date), else 1, 2, 4 ... s."""
    seconds: float = 2.0**attempt
    if value:
        try:
            seconds = float(value)
        except ValueError:
            epoch = parse_http_date_safe(value)
            if epoch is not None:
                seconds = epoch - time.time()
    return min(max(seconds, 0.0), MAX_WAIT)


def connector_timeout(connector: Any) -> float:
    try:
        return min(max(float((connector.config or {}).get("timeout") or 30), 1.0), 300.0)
    except (TypeError, ValueError):
        raise ConnectorError(_("The connector has a setting that is not a number.")) from None


# Within ``keep_connections()``: one httpx.Client per (base URL, headers, time-out), reused.
_POOL: ContextVar[dict[tuple[object, ...], httpx.Client] | None] = ContextVar(
    "connector_http_pool", default=None
)


@contextmanager
def keep_connections() -> Iterator[None]:
    """Requests to one tool with one credential inside this block share one HTTP client (its
    keep-alive connection): the worker's run of many revocations, not one TCP and TLS
    handshake per account. The clients are closed at the end."""
    token = _POOL.set({})
    try:
        yield
    finally:
        for client in (_POOL.get() or {}).values():
            client.close()
        _POOL.reset(token)


@contextmanager
def client_for(base_url: str, headers: dict[str, str], timeout: float) -> Iterator[httpx.Client]:
    """An httpx.Client for the tool: the pooled one inside ``keep_connections()``, else a new
    one closed after the block. Redirects are never followed (a credential stays on its host)."""
    pool = _POOL.get()
    key = (base_url, tuple(sorted(headers.items())), timeout)
    if pool is not None and key in pool:
        yield pool[key]
        return
    client = httpx.Client(
        base_url=base_url, headers=headers, timeout=timeout, follow_redirects=False
    )
    if pool is not None:
        pool[key] = client
        yield client
        return
    with client:
        yield client


class Refused(ConnectorError):
    """The tool answered with an HTTP error status (``status``), after any retries."""

    def __init__(self, message: str, status: int, body: Any = None) -> None:
        super().__init__(message)
        self.status, self.body = status, body


class VendorHttp:
    """A vendor API's client for one read or one change (see the module docstring)."""

    def __init__(
        self,
        connector: Any,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        sleep: Any = time.sleep,
    ) -> None:
        self.connector, self.sleep = connector, sleep
        self._opened = client_for(
            base_url.rstrip("/"),
            {"Accept": "application/json", **(headers or {})},
            connector_timeout(connector),
        )
        self.client = self._opened.__enter__()
        self.waited = 0.0
        self.last: httpx.Response | None = None

    def __enter__(self) -> VendorHttp:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._opened.__exit__(kind, exc, tb)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The answer (2xx); a 429/503 retried; anything else (a redirect too: never followed,
        never taken for the tool's yes): ``ConnectorError``."""
        where = self.connector.base_url
        for attempt in range(RETRIES + 1):
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TimeoutException:
                raise ConnectorError(
                    _("%(url)s did not answer in time.") % {"url": where}
                ) from None
            except httpx.HTTPError as exc:
                logger.warning("connector %s: %s", getattr(self.connector, "pk", "?"), exc)
                raise ConnectorError(
                    _("%(url)s cannot be reached: %(detail)s")
                    % {"url": where, "detail": str(exc)[:200]}
                ) from None
            self.last = response
            wait = self.wait_for(response, attempt)
            if wait is None or attempt == RETRIES or self.waited + wait > TOTAL_WAIT:
                break
            self.waited += wait
            self.sleep(wait)
        if response.status_code >= 300:
            raise self.refused(response)
        return response

    def wait_for(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None to take the answer as it is. Here: a
        429 or 503 after its Retry-After; a vendor with its own rate-limit answer overrides it
        (GitHub's 403 with ``x-ratelimit-remaining: 0``, Feishu's code 99991400 ...)."""
        if response.status_code not in (429, 503):
            return None
        return retry_after(response.headers.get("Retry-After"), attempt)

    def json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.request(method, url, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                _("The tool's answer is not JSON (HTTP %(status)s).")
                % {"status": response.status_code}
            ) from None

    def refused(self, response: httpx.Response) -> Refused:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        logger.warning("connector %s: HTTP %s", getattr(self.connector, "pk", "?"), status)
        if status in (401, 403):
            text = _("The tool refused the connector's credentials (HTTP %(status)s).")
        elif status == 404:
            text = _("The tool has no such address or object (HTTP %(status)s).")
        elif status == 429:
            text = _("The tool kept asking to slow down (HTTP %(status)s).")
        else:
            text = _("The tool answered HTTP %(status)s.")
        return Refused(text % {"status": status}, status, body)
