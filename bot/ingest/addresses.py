"""Which network addresses a feed added from chat may reach: public ones only."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 forms that carry an IPv4 address inside, reachable through translators and
# tunnels: NAT64 (well-known and local-use prefixes), 6to4, and the old IPv4-compatible form.
EMBEDDED_IPV4 = tuple(ipaddress.IPv6Network(net) for net in (
    "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::/96"))


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is a public unicast address: not private, loopback, link-local,
    multicast, unspecified, reserved or shared, and no IPv6 form of an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is not None:
            return is_public(mapped)
        if any(address in network for network in EMBEDDED_IPV4):
            return False
    return address.is_global and not address.is_multicast


def refusal(host: str, addresses: list[str],
            allowed: Callable[[IPAddress], bool] = is_public) -> str | None:
    """Why a connection to ``host`` at ``addresses`` is refused, or None when all are public
    (one private address among public ones is refused: it is how rebinding is done)."""
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            return f"{host} resolves to an address that cannot be checked"
        if not allowed(address):
            return f"{host} is a private or local address"
    if not addresses:
        return f"{host} has no address"
    return None


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host``, in its order, each once."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class AddressGuard:
    """How a guarded connection finds and judges addresses (tests swap both)."""

    resolve: Resolver = system_resolver
    allowed: Callable[[IPAddress], bool] = is_public

    async def checked(self, host: str, port: int) -> tuple[list[str], str | None]:
        """``host``'s addresses, and why they are refused (None: all may be reached)."""
        addresses = await self.resolve(host, port)
        return addresses, refusal(host, addresses, self.allowed)
