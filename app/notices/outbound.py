"""Where the outgoing webhook may connect. An admin types the address, so the server must not be
talked into posting to itself or to its neighbours (a cloud's metadata service at 169.254.169.254,
a database on 10.0.0.5): every address the name resolves to must be public, checked when the
address is saved and again at each delivery (a name's DNS answer can change in between), and the
delivery connects to the address that was checked, not to whatever a second lookup says.

Loopback and private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) are allowed
only when the server's operator says so (`JINLIN_WEBHOOK_PRIVATE_TARGETS=1`: a gateway on the
premises, the tests' local receiver); link-local (169.254/16, fe80::/10), multicast, unspecified
and reserved addresses never are."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
DEFAULT_PORTS = {"http": 80, "https": 443}


class Refused(Exception):
    """The address may not be posted to: `reason` is `unresolved`, `bad_address`, or the kind of
    network one of its addresses is in (`loopback`, `private`, `link_local`, ...)."""

    def __init__(self, reason: str, address: str = "") -> None:
        self.reason = reason
        self.address = address
        super().__init__(f"{reason} {address}".strip())


def _unwrapped(ip: IPAddress) -> IPAddress:
    """An IPv6 address that carries an IPv4 one (::ffff:a.b.c.d, 6to4) is judged by that one."""
    if isinstance(ip, ipaddress.IPv6Address):
        return ip.ipv4_mapped or ip.sixtofour or ip
    return ip


def network_kind(ip: IPAddress) -> str | None:
    """The kind of network `ip` is in when it is not a public address, else None."""
    ip = _unwrapped(ip)
    if ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _THIS_NETWORK):
        return "unspecified"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_loopback:
        return "loopback"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or not ip.is_global:
        return "private"
    return None


# What the private-targets setting opens; the other kinds stay closed whatever it says.
PRIVATE_KINDS = ("loopback", "private")


def refusal(ip: IPAddress, *, allow_private: bool) -> str | None:
    kind = network_kind(ip)
    if kind is None or (allow_private and kind in PRIVATE_KINDS):
        return None
    return kind


async def lookup(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (a literal address is itself), in the resolver's order."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused("unresolved", host) from exc
    found: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # an IPv6 zone is not part of the address
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True)
class Target:
    """An address checked for a delivery: the name it was typed with and what it resolved to,
    every one of them allowed."""

    url: str
    host: str
    addresses: tuple[str, ...]


async def check(url: str, *, allow_private: bool) -> Target:
    """Resolves the address's host and refuses it when any of its addresses is not allowed (a
    name with one public and one private address is refused too: either may be the one used)."""
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError as exc:
        raise Refused("bad_address") from exc
    host = parts.hostname
    if parts.scheme not in DEFAULT_PORTS or not host:
        raise Refused("bad_address")
    addresses = await lookup(host, port)
    if not addresses:
        raise Refused("unresolved", host)
    for address in addresses:
        kind = refusal(ipaddress.ip_address(address), allow_private=allow_private)
        if kind is not None:
            raise Refused(kind, address)
    return Target(url, host, tuple(addresses))
