"""Turning a host name into addresses, once per fetch.

The fetcher asks the resolver exactly once per host name per fetch and connects only
to the addresses it checked from that one answer.  That is what defeats DNS
rebinding: a name that answers with a public address for the check and a private one
for the connection never gets the second question.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Protocol

from reclaim.fetching.addresses import IPAddress
from reclaim.fetching.errors import ResolutionError


class Resolver(Protocol):
    """Resolves a host name to the addresses a TCP connection to ``port`` could use."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        """Return at least one address, or raise :class:`ResolutionError`."""
        ...


class SystemResolver:
    """The operating system's resolver (``getaddrinfo``), run in a worker thread."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise ResolutionError(f"the host name {host!r} could not be resolved ({exc})") from None
        addresses: list[IPAddress] = []
        for family, _type, _proto, _name, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(sockaddr[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise ResolutionError(f"the host name {host!r} has no IP addresses")
        return addresses
