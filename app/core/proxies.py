"""Whom a request comes from when reverse proxies stand in front of the app (the load balancer of
DESIGN.md §3, nginx): each proxy appends to X-Forwarded-For the address it heard the request
from, so the client is the right-most address there that no trusted proxy wrote; whatever a
client puts further left is its own word and is not believed. Only proxies named in
`JINLIN_TRUSTED_PROXIES` (addresses or networks) are believed; without any, the header is
ignored and the peer's address is the client's."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache


@lru_cache(maxsize=8)
def _is_proxy(trusted: tuple[str, ...]) -> Callable[[str], bool]:
    names = frozenset(trusted)
    networks = []
    for entry in trusted:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            pass  # a name, such as a test client's: matched as written

    @lru_cache(maxsize=4096)
    def is_proxy(address: str) -> bool:
        if address in names:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    return is_proxy


def client_of(peer: str, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy and X-Forwarded-For
    says whom it heard (then the right-most address there not a trusted proxy's, or the first
    when all are)."""
    if not trusted or not forwarded_for:
        return peer
    is_proxy = _is_proxy(trusted)
    if not is_proxy(peer):
        return peer
    chain = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    for address in reversed(chain):
        if not is_proxy(address):
            return address[:64]
    return chain[0][:64] if chain else peer
