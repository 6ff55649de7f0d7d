"""Network addresses of requests: the client behind trusted proxies, and its network.

Sign-in limits of staff and portal count attempts per client network, so both read the
client's address the same way.
"""

import ipaddress
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# An IPv6 customer is usually given a whole /64, so limits count that network as one.
IPV6_NETWORK_PREFIX = 64


@cache
def _trusted_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"O2C_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR range."
            ) from None
    return tuple(networks)


def _address(text: str | None) -> IPAddress | None:
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_ip(request) -> str | None:
    """Return the client's address: the direct peer, or the one a trusted proxy saw.

    When the peer is in O2C_TRUSTED_PROXIES, X-Forwarded-For is read from the right,
    skipping trusted proxies, and the first address that is not one is the client.
    Entries left of it can be forged by the client, so they are never used. A garbled
    entry stops the walk at the last address that a trusted proxy reported.
    """
    peer = _address(request.META.get("REMOTE_ADDR"))
    if peer is None:
        return None
    trusted = _trusted_networks(tuple(settings.O2C_TRUSTED_PROXIES))

    def is_trusted(address: IPAddress) -> bool:
        return any(address in network for network in trusted)

    client = peer
    if is_trusted(peer):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        for entry in reversed([part for part in forwarded if part.strip()]):
            address = _address(entry)
            if address is None:
                break
            client = address
            if not is_trusted(address):
                break
    return str(client)


def network_of(ip: str | None) -> str | None:
    """Return the network an address counts for in the rate limits (IPv4 /32, IPv6 /64)."""
    address = _address(ip)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        return str(
            ipaddress.ip_network(f"{address}/{IPV6_NETWORK_PREFIX}", strict=False).network_address
        )
    return str(address)
