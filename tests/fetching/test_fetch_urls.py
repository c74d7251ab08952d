"""Strict URL parsing: what a SafeUrl accepts, how it normalises, what it refuses."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.fetching import BlockedSchemeError, InvalidUrlError, NonCanonicalHostError, SafeUrl


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("http://Example.COM", "http://example.com/"),
        ("HTTPS://example.com:443/a?b=c#frag", "https://example.com/a?b=c"),
        ("http://example.com:80/", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("  https://example.com/\n", "https://example.com/"),
        ("http://example.com./", "http://example.com/"),
        ("http://bücher.de/ä%20b", "http://xn--bcher-kva.de/%C3%A4%20b"),
        ("http://[2606:4700::1111]/", "http://[2606:4700::1111]/"),
        ("http://[2606:4700:0::1111]:8443/", "http://[2606:4700::1111]:8443/"),
        ("http://93.184.216.34/p", "http://93.184.216.34/p"),
        ("http://example.com/a\\b", "http://example.com/a%5Cb"),
        ("http://example.com/?q=%41", "http://example.com/?q=%41"),
        ("http://cdn_1.example.com/", "http://cdn_1.example.com/"),
    ],
)
def test_urls_are_normalised(text: str, canonical: str) -> None:
    assert str(SafeUrl.parse(text)) == canonical


def test_parts_feed_the_connection() -> None:
    url = SafeUrl.parse("https://[2606:4700::1111]:8443/x?y")
    assert url.host == "2606:4700::1111"
    assert url.ip == ipaddress.ip_address("2606:4700::1111")
    assert url.authority == "[2606:4700::1111]:8443"
    assert url.target == "/x?y"
    assert SafeUrl.parse("http://example.com").ip is None


@pytest.mark.parametrize(
    "text",
    [
        "file:///etc/passwd",
        "ftp://example.com/file",
        "gopher://example.com:70/_GET%20/",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "dict://127.0.0.1:11211/stat",
        "ws://example.com/",
    ],
)
def test_other_schemes_are_blocked(text: str) -> None:
    with pytest.raises(BlockedSchemeError, match="only http and https"):
        SafeUrl.parse(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("http://user:pass@example.com/", "user name or password"),
        ("http://example.com@127.0.0.1/", "user name or password"),
        ("http://@example.com/", "user name or password"),
        ("http:///path", "no host"),
        ("http:example.com", "no host"),
        ("http://", "no host"),
        ("example.com/path", "not an absolute URL"),
        ("//example.com/", "not an absolute URL"),
        ("http://exa mple.com/", "spaces or control"),
        ("http://exa\tmple.com/", "spaces or control"),
        ("http://example.com/\x00", "spaces or control"),
        ("http://example.com:0/", "out of range"),
        ("http://example.com:65536/", "out of range"),
        ("http://example.com:+80/", "malformed port"),
        ("http://example.com:8o/", "malformed port"),
        ("http://example.com:²/", "malformed port"),
        ("http://example.com:/", "malformed port"),
        ("http://[::1/", "malformed URL|unterminated"),
        ("http://[::1]x/", "malformed port"),
        ("http://[fe80::1%25eth0]/", "zone identifiers"),
        ("http://[not-v6]/", "not a valid IPv6|does not appear"),
        ("http://%31%32%37.0.0.1/", "percent-encoded"),
        ("http://exa$mple.com/", "not a valid host name"),
        ("http://" + "a" * 64 + ".com/", "not a valid host name"),
        ("http://example.com/" + "a" * 9000, "longer than"),
    ],
)
def test_malformed_urls_are_refused(text: str, why: str) -> None:
    with pytest.raises(InvalidUrlError, match=why):
        SafeUrl.parse(text)


@pytest.mark.parametrize(
    "host",
    [
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "127.1",
        "0x7f.1",
        "127.0.0.01",
        "0",
        "017700000001",
        "1.2.3.4.5",
        "example.0x",
        "example.123",
    ],
)
def test_non_canonical_numeric_hosts_are_refused(host: str) -> None:
    with pytest.raises(NonCanonicalHostError, match="non-standard form"):
        SafeUrl.parse(f"http://{host}/")


@pytest.mark.parametrize("host", ["１２７．０．０．１", "127。0。0。1", "１２７.0.0.1"])
def test_full_width_numeric_hosts_fold_to_the_address_they_mean(host: str) -> None:
    # UTS 46 folds full-width digits and ideographic full stops, so these become the
    # literal 127.0.0.1 and meet the address check (not a name lookup).
    assert SafeUrl.parse(f"http://{host}/").ip == ipaddress.ip_address("127.0.0.1")


def _alternative_spellings(address: ipaddress.IPv4Address) -> list[str]:
    value, octets = int(address), address.packed
    return [
        str(value),
        hex(value),
        "0" + oct(value)[2:],
        ".".join(f"0{b:o}" for b in octets),
        ".".join(hex(b) for b in octets),
        f"{octets[0]}.{int.from_bytes(octets[1:], 'big')}",
        f"{octets[0]}.{octets[1]}.{int.from_bytes(octets[2:], 'big')}",
    ]


@given(st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address))
def test_every_address_has_exactly_one_accepted_spelling(address: ipaddress.IPv4Address) -> None:
    assert SafeUrl.parse(f"http://{address}/").ip == address
    for spelling in _alternative_spellings(address):
        if spelling == str(address):
            continue  # e.g. 0.0.0.0 written with zero-valued parts
        with pytest.raises(NonCanonicalHostError):
            SafeUrl.parse(f"http://{spelling}/")


def test_non_canonical_message_says_what_it_means() -> None:
    with pytest.raises(NonCanonicalHostError, match=r"read as 127\.0\.0\.1"):
        SafeUrl.parse("http://0x7f000001/")


@pytest.mark.parametrize(
    ("base", "location", "expected"),
    [
        ("http://a.example/x/y", "z", "http://a.example/x/z"),
        ("http://a.example/x/y", "/z?q=1", "http://a.example/z?q=1"),
        ("http://a.example/x/y", "//b.example/p", "http://b.example/p"),
        ("https://a.example/x", "http://b.example/", "http://b.example/"),
        ("http://a.example:8080/x", "../up", "http://a.example:8080/up"),
    ],
)
def test_redirects_resolve_relative_locations(base: str, location: str, expected: str) -> None:
    assert str(SafeUrl.parse(base).join(location)) == expected


def test_redirect_locations_are_parsed_as_strictly() -> None:
    base = SafeUrl.parse("http://a.example/")
    with pytest.raises(BlockedSchemeError):
        base.join("file:///etc/passwd")
    with pytest.raises(InvalidUrlError, match="user name"):
        base.join("http://x@127.0.0.1/")
    with pytest.raises(InvalidUrlError, match="empty"):
        base.join("   ")
    with pytest.raises(InvalidUrlError, match="control"):
        base.join("/a\tb")
