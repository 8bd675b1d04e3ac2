"""The SSRF guard: webhook URLs must not reach the city's internal hosts by accident.

An address that is private, loopback, link-local, multicast, reserved or unspecified is refused
after DNS resolution, unless it falls in one of the allowed networks
(HOTLINE_WEBHOOK_ALLOWED_NETWORKS: units' systems sit on the city's private network).
"""

import asyncio
import ipaddress
import math
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedAddress(Exception):
    """The URL is not one the relay may call; the message says why."""


class Unresolved(RefusedAddress):
    """The URL's host did not resolve (perhaps for a moment: never remembered)."""


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
            raise Unresolved(f"cannot resolve {host}: {exc}") from exc
        addresses = sorted({info[4][0] for info in infos})
    for address in addresses:
        check_address(address, allowed)


# How long a host name's verdict is trusted: aiohttp's own DNS cache (TCPConnector's
# ttl_dns_cache) keeps an answer for 10 s too, so the request uses the address checked.
NAME_TTL = 10.0
# Verdicts remembered at most; the relay meets one URL per subscription.
_MAX_REMEMBERED = 1000


class CheckedUrls:
    """check_url's verdicts remembered per (URL, allowed networks): a literal address's for
    good (it cannot change), a host name's for NAME_TTL seconds; a failed resolution never.
    The relay checks every attempt, and resolving and parsing addresses for each was about
    a tenth of its CPU per message (bench/relay_cpu.py)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._verdicts: dict[tuple[str, tuple[Network, ...]], tuple[float, str | None]] = {}

    async def check(self, url: str, allowed: tuple[Network, ...]) -> None:
        """As check_url: raises RefusedAddress when the URL may not be called."""
        key = (url, allowed)
        now = self.clock()
        known = self._verdicts.get(key)
        if known is None or known[0] <= now:
            try:
                await check_url(url, allowed)
                refused = None
            except Unresolved:
                raise
            except RefusedAddress as exc:
                refused = str(exc)
            if len(self._verdicts) >= _MAX_REMEMBERED:
                self._verdicts.clear()
            literal = _is_address(urlsplit(url).hostname or "")
            known = (math.inf if literal else now + NAME_TTL, refused)
            self._verdicts[key] = known
        if known[1] is not None:
            raise RefusedAddress(known[1])


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
