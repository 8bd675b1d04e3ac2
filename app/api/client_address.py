"""The address of the client behind a request, believing X-Forwarded-For only from trusted proxies.

`client_address(request, trusted)` is the one place that answers "who is calling": sign-in
throttling counts by it, and logs may show it. Behind haproxy (or any load balancer) the TCP
peer is the proxy; the proxy appends the address it saw to `X-Forwarded-For`. Anyone can send
that header, so it is read only when the peer is a trusted proxy (setting
`HOTLINE_TRUSTED_PROXIES`, comma-separated addresses or CIDR networks; empty by default, when
the peer is always the client). The header is then walked from the right, skipping hops that
are trusted proxies themselves; the first other address is the client. Entries left of it were
written by the client and are ignored, so a client cannot choose its own address.

Returns the address as text (IPv4 or IPv6, compressed form), or "unknown" when the server gave
no peer (some test transports).
"""

from collections.abc import Sequence

from starlette.requests import HTTPConnection

from app.networks import Network, in_networks, parse_address

UNKNOWN = "unknown"


def client_address(connection: HTTPConnection, trusted_proxies: Sequence[Network]) -> str:
    """The client's address for this request (see the module docstring)."""
    peer = connection.client.host if connection.client else None
    if peer is None:
        return UNKNOWN
    if not trusted_proxies or not in_networks(peer, trusted_proxies):
        return peer
    hops = [h for value in connection.headers.getlist("x-forwarded-for") for h in value.split(",")]
    client = peer
    for hop in reversed(hops):
        parsed = parse_address(hop)
        if parsed is None:
            break  # garbage from the client's side: keep the last hop a proxy vouched for
        client = str(parsed)
        if not any(parsed in network for network in trusted_proxies):
            break
    return client
