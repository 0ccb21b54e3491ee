"""The client's IP address, read the same way everywhere (rate limits, audit).

``REMOTE_ADDR`` is the peer of the TCP connection. Behind a reverse proxy that is the proxy,
and the client is in ``X-Forwarded-For``, but anyone can send that header: it is read only
when the peer is listed in ``GRASSROOTS_TRUSTED_PROXIES`` (addresses or networks). Even then
the first hop is not taken blindly: nginx's ``$proxy_add_x_forwarded_for`` *appends* the peer
to whatever the client sent, so the leftmost hop may be the client's own invention. The hops
are read from the right, skipping trusted proxies; the first one that is not a proxy is the
client (with a proxy that overwrites the header there is only one hop, and it is that one).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def trusted_proxy(address: str) -> bool:
    networks = _networks(tuple(getattr(settings, "GRASSROOTS_TRUSTED_PROXIES", ())))
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or the proxy's ``X-Forwarded-For`` hop when the peer is trusted."""
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    if not trusted_proxy(remote):
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "") or "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    for hop in reversed(hops):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:  # not an address (a proxy's "unknown", or a client's garbage): stop here
            return remote
        if not trusted_proxy(address):
            return address
    return hops[0]  # every hop is a proxy of ours: the request started inside
