"""Which IP addresses the fetcher may connect to.

The rule is deny-by-default: an address is public only if it is globally routable
unicast *and* falls in none of the special-purpose ranges listed below.  Python's
``is_global`` is the base, but on its own it is not enough: on Python 3.11 it calls
``::ffff:127.0.0.1``, ``fec0::1`` and ``ff0e::1`` global, and it says nothing about
IPv4 addresses smuggled inside IPv6 ones (6to4, NAT64).  So IPv6 must also lie in
2000::/3 (the only global unicast space IANA has allocated) or in NAT64's well-known
prefix, and any embedded IPv4 address must itself be public.

The allow-list exists for tests and on-premises demos (a loopback server); it is
checked against the address exactly as resolved, so allow-listing 127.0.0.0/8 does
not also admit ``::ffff:127.0.0.1``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(*specs: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(net), reason) for net, reason in specs)


# Listed explicitly (even where is_global already agrees) so the policy reads in one
# place and does not shift with the Python version's idea of "global".
_BLOCKED_V4 = _nets(
    ("0.0.0.0/8", "the unspecified/'this network' range (0.0.0.0 reaches this machine)"),
    ("10.0.0.0/8", "a private address"),
    ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address (cloud metadata services live here)"),
    ("172.16.0.0/12", "a private address"),
    ("192.0.0.0/24", "an IETF protocol-assignment address"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a deprecated 6to4 relay address"),
    ("192.168.0.0/16", "a private address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved address"),
)

_BLOCKED_V6 = _nets(
    ("::/128", "the unspecified address"),
    ("::1/128", "a loopback address"),
    ("::ffff:0:0/96", "an IPv4-mapped IPv6 address"),
    ("::/96", "an IPv4-compatible IPv6 address"),
    ("64:ff9b:1::/48", "a local-use NAT64 address"),
    ("100::/64", "a discard-only address"),
    ("2001::/32", "a Teredo tunnel address"),
    ("2001:2::/48", "a benchmarking address"),
    ("2001:10::/28", "an ORCHID address"),
    ("2001:20::/28", "an ORCHID address"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
    ("fc00::/7", "a unique-local (private) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address"),
    ("ff00::/8", "a multicast address"),
)

_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")


def blocked_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination, or None if it is public."""
    if isinstance(address, ipaddress.IPv4Address):
        return _blocked_reason_v4(address)
    return _blocked_reason_v6(address)


def is_public(address: IPAddress) -> bool:
    return blocked_reason(address) is None


def _blocked_reason_v4(address: ipaddress.IPv4Address) -> str | None:
    for network, reason in _BLOCKED_V4:
        if address in network:
            return reason
    if not address.is_global:
        return "not a globally routable address"
    return None


def _blocked_reason_v6(address: ipaddress.IPv6Address) -> str | None:
    # A scope id (fe80::1%eth0) only ever accompanies link-local addresses, but
    # strip it so range membership is decided on the address alone.
    bare = ipaddress.IPv6Address(address.packed)
    for network, reason in _BLOCKED_V6:
        if bare in network:
            return reason
    embedded = _embedded_ipv4(bare)
    if embedded is not None:
        inner = _blocked_reason_v4(embedded)
        if inner is not None:
            return f"an IPv6 address embedding {embedded}, {inner}"
        return None
    if bare not in _GLOBAL_UNICAST_V6:
        return "outside IPv6 global unicast space"
    if not bare.is_global:
        return "not a globally routable address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a translation prefix carries, where routers would deliver it."""
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    if address in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(address.packed[-4:])
    return None


@dataclass(frozen=True, slots=True)
class AllowRule:
    """A network (and optionally only some ports) the fetcher may reach even if private."""

    network: IPNetwork
    ports: frozenset[int] | None = None

    def covers(self, address: IPAddress) -> bool:
        """Whether the address is in this rule's network (on any port)."""
        return address.version == self.network.version and address in self.network

    def permits(self, address: IPAddress, port: int) -> bool:
        return self.covers(address) and (self.ports is None or port in self.ports)

    def __str__(self) -> str:
        if self.ports is None:
            return str(self.network)
        return f"{self.network}:{','.join(str(p) for p in sorted(self.ports))}"


def parse_allow_rule(text: str) -> AllowRule:
    """Parse ``CIDR`` or ``CIDR:PORTS``, e.g. ``127.0.0.0/8`` or ``::1/128:8000,8100-8110``.

    The prefix length is required, which is what makes the port suffix unambiguous
    for IPv6 networks: the ports follow the colon after the slash.
    """
    spec = text.strip()
    address_part, slash, rest = spec.partition("/")
    if not slash:
        raise ValueError(f"allow-list entry {text!r} needs a prefix length, e.g. 10.0.0.0/8")
    prefix, colon, port_spec = rest.partition(":")
    try:
        network = ipaddress.ip_network(f"{address_part}/{prefix}", strict=True)
    except ValueError as exc:
        raise ValueError(f"allow-list entry {text!r} is not a network: {exc}") from None
    return AllowRule(network, _parse_ports(port_spec, text) if colon else None)


def _parse_ports(spec: str, text: str) -> frozenset[int]:
    ports: set[int] = set()
    for part in spec.split(","):
        low, dash, high = part.strip().partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise ValueError(f"allow-list entry {text!r} has a malformed port list")
        first, last = int(low), int(high) if dash else int(low)
        if not 1 <= first <= last <= 65535:
            raise ValueError(f"allow-list entry {text!r} has a port outside 1-65535")
        ports.update(range(first, last + 1))
    return frozenset(ports)


def parse_allowlist(entries: Iterable[str]) -> tuple[AllowRule, ...]:
    return tuple(parse_allow_rule(entry) for entry in entries)
