"""The SSRF guard: webhook URLs must not reach the city's internal hosts by accident.

An address that is private, loopback, link-local, multicast, reserved or unspecified is refused
after DNS resolution, unless it falls in one of the allowed networks
(HOTLINE_WEBHOOK_ALLOWED_NETWORKS: units' systems sit on the city's private network).
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedAddress(Exception):
    """The URL is not one the relay may call; the message says why."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs; raises ValueError naming a bad one."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_address(address: str, allowed: tuple[Network, ...]) -> None:
    ip = ipaddress.ip_address(address)
    if _internal(ip) and not any(ip in net for net in allowed):
        raise RefusedAddress(
            f"{ip} is a private, loopback or link-local address; allow its network in "
            "HOTLINE_WEBHOOK_ALLOWED_NETWORKS if the receiver really lives there"
        )


def check_url_syntax(url: str) -> str | None:
    """Why the URL cannot be a webhook endpoint (no I/O), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "expected an http:// or https:// URL"
    if not parts.hostname:
        return "expected a host name in the URL"
    if parts.username or parts.password:
        return "credentials in the URL are not accepted; the signature authenticates us"
    return None


async def check_url(url: str, allowed: tuple[Network, ...]) -> None:
    """Resolve the URL's host and refuse it if any address is internal and not allowed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise RefusedAddress(f"cannot resolve {host}: {exc}") from exc
        addresses = sorted({info[4][0] for info in infos})
    for address in addresses:
        check_address(address, allowed)
