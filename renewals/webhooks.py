"""Chat webhooks (DingTalk, Feishu/Lark, WeCom, Slack, generic JSON): payloads, signatures, and a
sender that cannot be pointed at the intranet.

Server-side request forgery is stopped three ways: only https (unless the host is named in
WEBHOOK_ALLOWED_HOSTS); the host must resolve only to public addresses (no private, loopback,
link-local, reserved or multicast ones, whatever way the address is written: 127.1, 2130706433,
0x7f000001 and [::1] all resolve to loopback); and the connection goes to the address that was
checked (no second DNS lookup to rebind) with redirects never followed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

TIMEOUT_SECONDS = 10


class UnsafeWebhook(ValueError):
    """The URL may not be called; the message says why (translated)."""


@dataclass(frozen=True)
class Target:
    url: urllib.parse.SplitResult
    address: str  # the checked IP address to connect to


def check_url(url: str) -> Target:
    """Validate a webhook URL and resolve it to an address that may be called."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError as exc:
        raise UnsafeWebhook(_("This is not a valid URL.")) from exc
    host = (parts.hostname or "").lower()
    allowed = host in {h.lower() for h in settings.WEBHOOK_ALLOWED_HOSTS}
    if parts.scheme != "https" and not (allowed and parts.scheme == "http"):
        raise UnsafeWebhook(_("Webhook URLs must use https."))
    if not host:
        raise UnsafeWebhook(_("This is not a valid URL."))
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeWebhook(_("Webhook URLs may not contain a user name or password."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise UnsafeWebhook(_("The host name could not be resolved.")) from exc
    addresses = [str(info[4][0]) for info in infos]
    if not allowed:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                raise UnsafeWebhook(
                    _("Webhook URLs may not point at private, loopback or link-local addresses.")
                )
    return Target(url=parts, address=addresses[0])


def neutralise(text: str) -> str:
    """User data in chat text: no @-mentions (@all, @所有人) and no markup."""
    return text.replace("@", "＠").replace("<", "‹").replace(">", "›")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk: base64(HMAC-SHA256(key=secret, msg="timestamp\\nsecret")), URL-encoded."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu/Lark: base64(HMAC-SHA256(key="timestamp\\nsecret", msg=empty))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def build_request(
    kind: str, url: str, secret: str, text: str, data: dict[str, Any], now: float | None = None
) -> tuple[str, bytes]:
    """The URL to post to and the JSON body for one message on one kind of channel."""
    now = time.time() if now is None else now
    if kind == "dingtalk":
        body: dict[str, Any] = {"msgtype": "text", "text": {"content": text}}
        if secret:
            ts = int(now * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={dingtalk_sign(secret, ts)}"
    elif kind == "feishu":
        body = {"msg_type": "text", "content": {"text": text}}
        if secret:
            ts = int(now)
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
    elif kind == "wecom":
        body = {"msgtype": "text", "text": {"content": text}}
    elif kind == "slack":
        body = {"text": text}
    else:
        body = {"event": "renewal_alert", "text": text, **data}
    return url, json.dumps(body, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool
    retry_after: float | None
    error: str


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the host name kept for SNI and certificate checks."""

    def __init__(self, host: str, address: str, port: int, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: bytes) -> Outcome:
    """POST once; says whether it worked and whether it is worth retrying."""
    try:
        target = check_url(url)
    except UnsafeWebhook as exc:
        return Outcome(False, False, None, str(exc))
    parts = target.url
    host = parts.hostname or ""
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPS(
            host,
            target.address,
            parts.port or 443,
            timeout=TIMEOUT_SECONDS,
            context=ssl.create_default_context(),
        )
    else:
        connection = _PinnedHTTP(host, target.address, parts.port or 80, timeout=TIMEOUT_SECONDS)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request(
            "POST", path, body=body, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        response = connection.getresponse()
        payload = response.read(65536)
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, True, None, f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
    status = response.status
    if status == 429 or status >= 500 or status == 408:
        retry_after = response.getheader("Retry-After")
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        return Outcome(False, True, seconds, f"HTTP {status}")
    if not 200 <= status < 300:
        # Redirects are not followed, and other client errors will not heal by retrying.
        return Outcome(False, False, None, f"HTTP {status}")
    try:
        answer = json.loads(payload or b"{}")
    except ValueError:
        answer = {}
    # DingTalk and WeCom answer 200 with errcode, Feishu with code, when they refuse a message.
    code = answer.get("errcode", answer.get("code", 0)) if isinstance(answer, dict) else 0
    if code not in (0, None):
        message = answer.get("errmsg") or answer.get("msg") or ""
        return Outcome(False, False, None, f"refused: {code} {message}"[:300])
    return Outcome(True, False, None, "")
