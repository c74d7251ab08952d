"""The address classifier: which destinations are public, and the allow-list."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.fetching import AllowRule, blocked_reason, is_public, parse_allowlist
from reclaim.fetching.addresses import IPAddress

# Ranges that must never be reachable, whatever Python's is_global says.
_PRIVATE_V4 = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
]
_PRIVATE_V6 = [
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
    "2001:db8::/32",
    "100::/64",
    "2001::/32",
    "64:ff9b:1::/48",
    "3fff::/20",
]


def addresses_in(network: str) -> st.SearchStrategy[IPAddress]:
    net = ipaddress.ip_network(network)
    return st.integers(0, net.num_addresses - 1).map(lambda i: net[i])


private_v4 = st.sampled_from(_PRIVATE_V4).flatmap(addresses_in)
any_v4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


def mapped(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + v4.packed)


def six_to_four(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(b"\x20\x02" + v4.packed + b"\0" * 9 + b"\x01")


def nat64(v4: ipaddress.IPv4Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(ipaddress.IPv6Address("64:ff9b::").packed[:12] + v4.packed)


@given(private_v4)
def test_every_private_ipv4_address_is_blocked(address: ipaddress.IPv4Address) -> None:
    assert blocked_reason(address) is not None


@given(st.sampled_from(_PRIVATE_V6).flatmap(addresses_in))
def test_every_private_ipv6_address_is_blocked(address: ipaddress.IPv6Address) -> None:
    assert not is_public(address)


@given(any_v4)
def test_ipv4_mapped_and_compatible_forms_are_always_blocked(v4: ipaddress.IPv4Address) -> None:
    # Even a mapped public address: no legitimate DNS answer or link uses the form.
    assert "IPv4-mapped" in (blocked_reason(mapped(v4)) or "")
    compatible = ipaddress.IPv6Address(b"\0" * 12 + v4.packed)
    assert not is_public(compatible)


@given(any_v4)
def test_translation_prefixes_are_judged_by_the_ipv4_they_carry(v4: ipaddress.IPv4Address) -> None:
    assert is_public(six_to_four(v4)) == is_public(v4)
    assert is_public(nat64(v4)) == is_public(v4)


@given(any_v4)
def test_public_ipv4_is_always_globally_routable(v4: ipaddress.IPv4Address) -> None:
    # The slow, obvious twin: the explicit list only ever narrows Python's is_global.
    if is_public(v4):
        assert v4.is_global
        assert not any(v4 in ipaddress.ip_network(net) for net in _PRIVATE_V4)


@given(st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address))
def test_public_ipv6_is_global_unicast_or_carries_public_ipv4(v6: ipaddress.IPv6Address) -> None:
    if is_public(v6):
        in_global_unicast = v6 in ipaddress.ip_network("2000::/3")
        assert in_global_unicast or v6 in ipaddress.ip_network("64:ff9b::/96")
        assert not v6.is_multicast
        assert not v6.is_link_local
        assert not v6.is_loopback


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 -- an address to judge, not to bind
        ("255.255.255.255", "reserved"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "unique-local"),
        ("ff0e::1", "multicast"),
        ("fec0::1", "site-local"),
        ("2002:a00:1::1", "embedding 10.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "embedding 169.254.169.254"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("5f00::1", "outside IPv6 global unicast"),
    ],
)
def test_blocked_reasons_are_specific(address: str, reason: str) -> None:
    assert reason in (blocked_reason(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "2002:808:808::1", "64:ff9b::808:808"],
)
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_allowlist_parsing() -> None:
    rules = parse_allowlist(["127.0.0.0/8", "::1/128:8000,8100-8102", " 10.1.0.0/16:443 "])
    assert rules[0] == AllowRule(ipaddress.ip_network("127.0.0.0/8"))
    assert rules[1].ports == frozenset({8000, 8100, 8101, 8102})
    assert str(rules[2]) == "10.1.0.0/16:443"
    assert rules[1].permits(ipaddress.ip_address("::1"), 8101)
    assert not rules[1].permits(ipaddress.ip_address("::1"), 8103)
    # Version mismatch never matches: 127.0.0.0/8 does not admit ::ffff:127.0.0.1.
    assert not rules[0].permits(ipaddress.ip_address("::ffff:127.0.0.1"), 80)


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("127.0.0.1", "prefix length"),
        ("127.0.0.1/8", "not a network"),
        ("nonsense/8", "not a network"),
        ("127.0.0.0/8:0", "outside 1-65535"),
        ("127.0.0.0/8:9-1", "outside 1-65535"),
        ("127.0.0.0/8:http", "malformed port"),
        ("127.0.0.0/8:", "malformed port"),
    ],
)
def test_allowlist_errors_are_clear(entry: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_allowlist([entry])
