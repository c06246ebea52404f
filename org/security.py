"""The client address that sign-in protection counts failures against."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies the address the outermost
    proxy received the request from: each proxy appends its peer to X-Forwarded-For, so that
    is the N-th entry from the right. Whatever a client writes into the header lands to the left
    of it and is never read; a header shorter than N (the request bypassed a proxy) or an entry
    that is not an IP address falls back to REMOTE_ADDR."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
