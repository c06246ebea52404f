"""Chat webhooks (DingTalk, Feishu/Lark, WeCom, Slack, generic JSON): payloads, signatures, and a
sender that cannot be pointed at the intranet.

Server-side request forgery is stopped four ways: only https (unless the host is named in
WEBHOOK_ALLOWED_HOSTS); only port 443 and the ports named in WEBHOOK_ALLOWED_PORTS; every address
the host resolves to must be globally routable, IPv4 addresses embedded in IPv6 ones (NAT64,
6to4, Teredo, IPv4-mapped/compatible) included (core/netguard.py), with the host read the way
browsers read it (IDNA UTS #46: full-width digits and dots, a trailing dot) and IPv4 addresses
accepted in dotted decimal only (2130706433, 0x7f.1 and 0177.0.0.1 are refused); and the check is
made again right before each send, whose connection goes to the very address that was checked
(pinned: no second DNS lookup that could rebind the name; TLS SNI, certificate check and Host
header still use the name), with redirects never followed.
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

import idna
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core import netguard
from core.netguard import IPAddress

TIMEOUT_SECONDS = 10


class UnsafeWebhook(ValueError):
    """The URL may not be called; the message says why (translated)."""


@dataclass(frozen=True)
class Target:
    url: urllib.parse.SplitResult
    host: str  # the host name in ASCII (IDNA), for the Host header, SNI and certificate check
    port: int
    address: str  # the checked IP address to connect to


def allowed_ports() -> list[int]:
    """443, plus the ports named in WEBHOOK_ALLOWED_PORTS."""
    return sorted({443, *settings.WEBHOOK_ALLOWED_PORTS})


def _ascii_host(host: str) -> str:
    """The host as it goes on the wire: IDNA (UTS #46, as browsers map it: full-width digits and
    dots, compatibility characters), lower case, without the one trailing dot DNS allows."""
    if host.endswith("."):
        host = host[:-1]
    try:
        return idna.encode(host, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        raise UnsafeWebhook(_("This is not a valid URL.")) from exc


def _allowed_hosts() -> set[str]:
    """WEBHOOK_ALLOWED_HOSTS spelled the way hosts are compared (IPv6 addresses as written)."""
    hosts = set()
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().strip("[]").lower()
        try:
            hosts.add(_ascii_host(entry) if ":" not in entry else entry)
        except UnsafeWebhook:
            hosts.add(entry)
    return hosts


def _literal(host: str) -> IPAddress | None:
    """The IP address a host is written as (any IPv6 form; IPv4 only in dotted decimal), or None
    for a name. Other IPv4 spellings (2130706433, 0x7f.1, 0177.0.0.1) are read differently by
    different resolvers, so they are refused rather than guessed."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise UnsafeWebhook(_("This is not a valid URL.")) from exc
    try:
        ip = netguard.ipv4_literal(host)
    except ValueError as exc:
        raise UnsafeWebhook(_("This is not a valid URL.")) from exc
    if ip is not None and str(ip) != host:
        raise UnsafeWebhook(_("Write an IP address as four decimal numbers, such as 203.0.113.5."))
    return ip


def _resolve(host: str, port: int) -> list[IPAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [ipaddress.ip_address(str(info[4][0])) for info in infos]
    except (OSError, ValueError, UnicodeError) as exc:
        raise UnsafeWebhook(_("The host name could not be resolved.")) from exc


def check_url(url: str) -> Target:
    """Validate a webhook URL and resolve it to an address that may be called.

    Called when a channel is saved and again right before every send (DNS may have changed in
    between); the sender connects to the address returned here, so no second lookup can rebind
    the name to another address.
    """
    try:
        parts = urllib.parse.urlsplit(url.strip())
        explicit_port = parts.port
    except ValueError as exc:
        raise UnsafeWebhook(_("This is not a valid URL.")) from exc
    if not parts.hostname:
        raise UnsafeWebhook(_("This is not a valid URL."))
    host = _ascii_host(parts.hostname) if ":" not in parts.hostname else parts.hostname
    allowed = host in _allowed_hosts()
    if parts.scheme != "https" and not (allowed and parts.scheme == "http"):
        raise UnsafeWebhook(_("Webhook URLs must use https."))
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeWebhook(_("Webhook URLs may not contain a user name or password."))
    port = explicit_port if explicit_port is not None else (443 if parts.scheme == "https" else 80)
    if port not in allowed_ports():
        raise UnsafeWebhook(
            _("Webhook URLs may only use port %(ports)s.")
            % {"ports": ", ".join(str(p) for p in allowed_ports())}
        )
    addresses = _resolve(host, port)
    if not allowed and not all(netguard.is_public(ip) for ip in addresses):
        raise UnsafeWebhook(
            _("Webhook URLs may not point at private, loopback or link-local addresses.")
        )
    return Target(url=parts, host=host, port=port, address=str(addresses[0]))


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


def post(url: str, body: bytes, *, headers: dict[str, str] | None = None) -> Outcome:
    """POST once (with extra ``headers``, e.g. an Idempotency-Key); says whether it worked and
    whether it is worth retrying."""
    try:
        target = check_url(url)
    except UnsafeWebhook as exc:
        return Outcome(False, False, None, str(exc))
    parts = target.url
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPS(
            target.host,
            target.address,
            target.port,
            timeout=TIMEOUT_SECONDS,
            context=ssl.create_default_context(),
        )
    else:
        connection = _PinnedHTTP(target.host, target.address, target.port, timeout=TIMEOUT_SECONDS)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={**(headers or {}), "Content-Type": "application/json; charset=utf-8"},
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
