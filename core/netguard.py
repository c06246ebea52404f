"""Which IP addresses an outgoing request may reach: globally routable ones only.

``ipaddress``'s ``is_global`` is the base, but on its own it lets through IPv6 addresses that carry
an IPv4 address inside them, which a NAT64 gateway, a 6to4 relay, a Teredo relay or a dual-stack
socket turn back into that IPv4 address: ``64:ff9b::7f00:1`` is 127.0.0.1 through NAT64, and
``::ffff:10.0.0.1``, ``::10.0.0.1``, ``2002:0a00:0001::`` likewise reach the intranet. Every
embedded IPv4 address is therefore checked as well, and a few ranges that older Pythons still call
global (site-local ``fec0::/10``, local-use NAT64 ``64:ff9b:1::/48``, multicast) are refused by
name. Imports no app.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not globally reachable although some Python versions' ``is_global`` says so (IANA special-purpose
# registries; RFC 8215 local-use NAT64, RFC 3879 site-local, RFC 7526 6to4 relay anycast).
_NOT_GLOBAL_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in ("0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.88.99.0/24", "224.0.0.0/3")
)
_NOT_GLOBAL_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "64:ff9b:1::/48",  # local-use NAT64: its IPv4 part is not even at a fixed place
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo's embedded addresses checked below)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 segment identifiers
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated, still routed inside some networks)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix: IPv4 in the low 32
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291 IPv4-compatible (deprecated)
_V4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 SIIT IPv4-translated


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for (mapped, compatible, translated, NAT64,
    6to4, Teredo server and client); empty for an ordinary IPv6 address."""
    found: list[ipaddress.IPv4Address] = []
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip in _V4_COMPATIBLE or ip in _V4_TRANSLATED or ip in _NAT64:
        found.append(low32)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client), the client already de-obfuscated
    return found


def _v4_is_public(ip: ipaddress.IPv4Address) -> bool:
    return (
        ip.is_global
        and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)
        and not any(ip in net for net in _NOT_GLOBAL_V4)
    )


def is_public(ip: IPAddress) -> bool:
    """True if a connection to ``ip`` can only reach the public internet."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_is_public(ip)
    if ip.scope_id:  # fe80::1%eth0 and the like: an interface-scoped address
        return False
    inner = embedded_ipv4(ip)
    if inner:
        # The IPv6 form is only a wrapper: what is reached is the IPv4 address. Mapped and
        # compatible forms are refused outright; a public IPv4 address is written as itself.
        if ip.ipv4_mapped is not None or ip in _V4_COMPATIBLE or ip in _V4_TRANSLATED:
            return False
        return all(_v4_is_public(v4) for v4 in inner) and not any(
            ip in net for net in _NOT_GLOBAL_V6
        )
    return (
        ip.is_global
        and not (ip.is_multicast or ip.is_reserved or ip.is_site_local or ip.is_link_local)
        and not any(ip in net for net in _NOT_GLOBAL_V6)
    )


def ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a host name spells in any of the forms resolvers accept (``127.1``,
    ``2130706433``, ``0x7f.0.0.1``, ``0177.0.0.1``), or None when it is a name.

    A host whose last label is a number is never a DNS name (no top-level domain is numeric), so
    such a host is read the way ``inet_aton`` reads it, whatever its spelling; a malformed one
    raises ValueError.
    """
    last = host.rstrip(".").rsplit(".", 1)[-1].lower()
    if not last or not (last.isdigit() or (last.startswith("0x") and _is_hex(last[2:]))):
        return None
    import socket

    try:
        packed = socket.inet_aton(host.rstrip("."))
    except OSError as exc:
        raise ValueError(host) from exc
    return ipaddress.IPv4Address(packed)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)
