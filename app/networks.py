"""IP addresses and networks as settings give them: parsing and membership, no I/O."""

from collections.abc import Sequence
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


@lru_cache(maxsize=32)
def parse_networks(text: str) -> tuple[Network, ...]:
    """'10.0.0.0/8, 127.0.0.1' -> networks. Raises ValueError naming a bad entry."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"'{item}' is not an IP address or network (e.g. 10.0.0.0/8)") from exc
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """An address from '203.0.113.7', '203.0.113.7:51234', '2001:db8::1' or '[2001:db8::1]:443';
    None when it is none of these."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


def in_networks(address: str, networks: Sequence[Network]) -> bool:
    """Whether `address` (text) lies in any of `networks`; False for an unparseable one."""
    parsed = parse_address(address)
    return parsed is not None and any(parsed in network for network in networks)
