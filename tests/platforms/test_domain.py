import pytest

from reclaim.platforms.domain import InvalidDomainError, normalise_domain, platform_for_host

DOMAINS = {"fbcdn.net": 1, "facebook.com": 1, "example.co.uk": 2, "sub.example.co.uk": 3}


@pytest.mark.parametrize(
    ("host", "owner"),
    [
        ("scontent.xx.fbcdn.net", 1),
        ("fbcdn.net", 1),
        ("www.facebook.com", 1),
        ("notfbcdn.net", None),  # a suffix must end on a label boundary
        ("fbcdn.net.evil.example", None),
        ("a.sub.example.co.uk", 3),  # the longest suffix wins
        ("other.example.co.uk", 2),
        ("co.uk", None),
    ],
)
def test_hosts_belong_to_the_longest_matching_domain(host: str, owner: int | None) -> None:
    assert platform_for_host(host, DOMAINS) == owner


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Example.COM", "example.com"),
        ("*.fbcdn.net", "fbcdn.net"),
        (".ptt.cc.", "ptt.cc"),
        ("巴哈.TW", "xn--qvr56s.tw"),
    ],
)
def test_domains_are_normalised(text: str, expected: str) -> None:
    assert normalise_domain(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "https://example.com",
        "example.com/path",
        "example.com:443",
        "localhost",
        "10.0.0.1",
        "exa mple.com",
        "-bad-.com",
        "a..b.com",
    ],
)
def test_what_is_not_a_domain_is_refused(text: str) -> None:
    with pytest.raises(InvalidDomainError):
        normalise_domain(text)
