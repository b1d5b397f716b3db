"""Who is at the other end of a request: the one address every door keys its limits on and
writes in its logs, and whether that client reached us over HTTPS.

By default the client is the connection's peer, and the forwarded headers are ignored: any
client can write them. Only when the peer is one of the proxies named in
``TRUSTED_PROXIES`` are they read. Each proxy appends the address it was reached from to
X-Forwarded-For, so the right-most entry that is not itself a trusted proxy is the client;
whatever stands to its left was written by that client and proves nothing.

uvicorn is told not to rewrite the peer itself (``api.serve.http_server``), so this is the
only place the headers are believed.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.requests import Request

from settings import Settings

Network = IPv4Network | IPv6Network
UNKNOWN = "unknown"  # a request without a peer (not over a socket)


def client_address(request: Request) -> str:
    """The client's address, as every door keys and logs it."""
    peer = request.client.host if request.client else None
    return resolve(peer, request.headers.getlist("x-forwarded-for"), _trusted(request))


def is_https(request: Request) -> bool:
    """Whether the client reached us over HTTPS, itself or through a trusted proxy."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else None
    if not _is_trusted(_address(peer), _trusted(request)):
        return False
    said = ",".join(request.headers.getlist("x-forwarded-proto")).split(",")
    return said[-1].strip().lower() == "https"  # the nearest proxy's word


def resolve(peer: str | None, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client, from the peer and the X-Forwarded-For header lines in their order."""
    if peer is None:
        return UNKNOWN
    peer_address = _address(peer)
    if not _is_trusted(peer_address, trusted):
        return str(peer_address or peer)
    hops = [hop.strip() for line in forwarded for hop in line.split(",")]
    nearest = str(peer_address)
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # not an address: the proxy's own entry is unreadable, so stop at the proxy
            # rather than believe anything further left
            return nearest
        if not _is_trusted(address, trusted):
            return str(address)
        nearest = str(address)
    return nearest  # every hop a trusted proxy: the farthest of them


def _trusted(request: Request) -> Sequence[Network]:
    settings: Settings = request.app.state.services.settings
    return settings.trusted_proxies


def _is_trusted(address: IPv4Address | IPv6Address | None, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)


def _address(text: str | None) -> IPv4Address | IPv6Address | None:
    """The address of a peer or an X-Forwarded-For entry (a port, brackets allowed)."""
    if not text:
        return None
    if text.startswith("["):  # [2001:db8::1]:4711
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:  # 192.0.2.1:4711
        text = text.split(":", 1)[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:192.0.2.1 is 192.0.2.1
    return address
