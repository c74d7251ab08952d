"""Hostile URLs: each one refused, for the right reason, before any connection.

Every fetcher here dials through the guard backend (see fetch_support), so the
``guard.attempts`` list is the proof that no connection was even tried; the loopback
servers' connection counters prove the same from the other side.
"""

from __future__ import annotations

import pytest

from reclaim.fetching import (
    BlockedAddressError,
    BlockedPortError,
    BlockedSchemeError,
    FetchPolicy,
    InvalidUrlError,
    NonCanonicalHostError,
    RedirectLoopError,
    ResolutionError,
    SafeFetcher,
    TooManyRedirectsError,
)
from tests.support.http import (
    FetcherFactory,
    LoopbackOnlyBackend,
    LoopbackServer,
    ScriptedResolver,
    redirect,
)

LOOPBACK = "127.0.0.0/8"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://127.0.0.1/", BlockedAddressError),
        ("http://[::1]/", BlockedAddressError),
        ("http://[::ffff:127.0.0.1]/", BlockedAddressError),
        ("http://0x7f000001/", NonCanonicalHostError),
        ("http://2130706433/", NonCanonicalHostError),
        ("http://0177.0.0.1/", NonCanonicalHostError),
        ("http://127.1/", NonCanonicalHostError),
        ("http://169.254.169.254/latest/meta-data/", BlockedAddressError),
        ("http://localhost/", BlockedAddressError),
        ("http://0.0.0.0/", BlockedAddressError),
        ("file:///etc/passwd", BlockedSchemeError),
        ("ftp://example.com/a.jpg", BlockedSchemeError),
        ("gopher://example.com/1", BlockedSchemeError),
        ("http://user:pass@example.com/", InvalidUrlError),
    ],
)
def test_the_classic_ssrf_urls_are_refused_with_the_system_defaults(
    url: str, error: type[Exception], resolver: ScriptedResolver, guard: LoopbackOnlyBackend
) -> None:
    # Default policy, no allow-list: what production runs with.
    resolver.set("localhost", ["127.0.0.1", "::1"])
    fetcher = SafeFetcher(FetchPolicy(), resolver=resolver, network_backend=guard)
    with pytest.raises(error):
        fetcher.fetch_sync(url)
    assert guard.attempts == []


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "IPv4-mapped"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 -- a hostile URL host, not a bind
        ("169.254.169.254", "link-local"),
        ("10.0.0.1", "private"),
        ("[fd00:ec2::254]", "unique-local"),
    ],
)
def test_private_address_literals_are_refused_without_connecting(
    host: str,
    reason: str,
    server: LoopbackServer,
    make_fetcher: FetcherFactory,
    guard: LoopbackOnlyBackend,
) -> None:
    fetcher = make_fetcher()
    with pytest.raises(BlockedAddressError, match=reason) as refused:
        fetcher.fetch_sync(server.url("/latest/meta-data/", host=host))
    assert refused.value.reason is not None
    assert reason in refused.value.reason
    assert guard.attempts == []
    assert server.connections == 0


def test_allow_listing_loopback_does_not_admit_its_ipv4_mapped_form(
    server: LoopbackServer, make_fetcher: FetcherFactory, guard: LoopbackOnlyBackend
) -> None:
    fetcher = make_fetcher(allow=[LOOPBACK])
    with pytest.raises(BlockedAddressError, match="IPv4-mapped"):
        fetcher.fetch_sync(server.url(host="[::ffff:127.0.0.1]"))
    with pytest.raises(BlockedAddressError, match="unspecified"):
        fetcher.fetch_sync(server.url(host="0.0.0.0"))  # noqa: S104 -- hostile URL host
    assert guard.attempts == []
    assert server.connections == 0


@pytest.mark.parametrize("host", ["0x7f000001", "2130706433", "0177.0.0.1", "127.1", "0x7f.1"])
def test_obfuscated_numeric_hosts_are_refused_even_when_loopback_is_allowed(
    host: str,
    server: LoopbackServer,
    make_fetcher: FetcherFactory,
    resolver: ScriptedResolver,
    guard: LoopbackOnlyBackend,
) -> None:
    # Refused for their form: not resolved, not interpreted, not connected.
    fetcher = make_fetcher(allow=[LOOPBACK])
    with pytest.raises(NonCanonicalHostError, match=r"read as 127\.0\.0\.1"):
        fetcher.fetch_sync(server.url(host=host))
    assert resolver.calls == []
    assert guard.attempts == []
    assert server.connections == 0


def test_localhost_is_refused_as_loopback(
    server: LoopbackServer,
    make_fetcher: FetcherFactory,
    resolver: ScriptedResolver,
    guard: LoopbackOnlyBackend,
) -> None:
    resolver.set("localhost", ["127.0.0.1", "::1"])
    with pytest.raises(BlockedAddressError, match=r"resolves to 127\.0\.0\.1, a loopback"):
        make_fetcher().fetch_sync(server.url(host="localhost"))
    assert guard.attempts == []
    assert server.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://ftp.example.com/pub/file.jpg",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "dict://127.0.0.1:11211/stats",
        "javascript:alert(document.domain)",
    ],
)
def test_non_http_schemes_are_refused(
    url: str, make_fetcher: FetcherFactory, guard: LoopbackOnlyBackend
) -> None:
    with pytest.raises(BlockedSchemeError):
        make_fetcher(allow=[LOOPBACK]).fetch_sync(url)
    assert guard.attempts == []


@pytest.mark.parametrize("netloc", ["user:pass@{host}", "{host}@127.0.0.1", "admin@{host}"])
def test_userinfo_urls_are_refused(
    netloc: str, server: LoopbackServer, make_fetcher: FetcherFactory, guard: LoopbackOnlyBackend
) -> None:
    url = f"http://{netloc.format(host=f'127.0.0.1:{server.port}')}/"
    with pytest.raises(InvalidUrlError, match="user name or password"):
        make_fetcher(allow=[LOOPBACK]).fetch_sync(url)
    assert guard.attempts == []
    assert server.connections == 0


def test_public_looking_name_resolving_to_private_is_refused_before_connecting(
    make_fetcher: FetcherFactory, resolver: ScriptedResolver, guard: LoopbackOnlyBackend
) -> None:
    resolver.set("images.example-cdn.com", ["10.0.0.1"])
    with pytest.raises(BlockedAddressError, match=r"resolves to 10\.0\.0\.1, a private") as refused:
        make_fetcher().fetch_sync("https://images.example-cdn.com/leak.jpg")
    assert str(refused.value.address) == "10.0.0.1"
    assert resolver.calls == ["images.example-cdn.com"]
    assert guard.attempts == []


@pytest.mark.parametrize(
    "answer",
    [["93.184.216.34", "10.0.0.1"], ["10.0.0.1", "93.184.216.34"], ["2606:4700::1", "::1"]],
)
def test_a_name_with_any_private_address_is_refused_entirely(
    answer: list[str],
    make_fetcher: FetcherFactory,
    resolver: ScriptedResolver,
    guard: LoopbackOnlyBackend,
) -> None:
    resolver.set("mixed.example.com", answer)
    with pytest.raises(BlockedAddressError):
        make_fetcher().fetch_sync("http://mixed.example.com/")
    # Not even the public address was dialled: refusal comes before any connection.
    assert guard.attempts == []


def test_unresolvable_names_are_a_resolution_error(make_fetcher: FetcherFactory) -> None:
    with pytest.raises(ResolutionError, match="no answer"):
        make_fetcher().fetch_sync("http://nowhere.example.com/")


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("http://10.0.0.1/admin", BlockedAddressError),
        ("http://169.254.169.254/latest/meta-data/iam/", BlockedAddressError),
        ("http://[::1]/", BlockedAddressError),
        ("http://internal.example.com/", BlockedAddressError),
        ("http://0x7f000001/", NonCanonicalHostError),
        ("file:///etc/passwd", BlockedSchemeError),
        ("gopher://127.0.0.1:6379/_", BlockedSchemeError),
    ],
)
def test_redirects_to_disallowed_destinations_are_refused(
    location: str,
    error: type[Exception],
    server: LoopbackServer,
    make_fetcher: FetcherFactory,
    resolver: ScriptedResolver,
) -> None:
    resolver.set("internal.example.com", ["192.168.1.10"])
    server.routes["/go"] = redirect(location)
    fetcher = make_fetcher(allow=[f"127.0.0.1/32:{server.port}"])
    with pytest.raises(error):
        fetcher.fetch_sync(server.url("/go"))
    # Only the allow-listed server was dialled, once (and the guard fixture fails the
    # test if anything off-loopback was even attempted).
    assert server.connections == 1


def test_redirect_to_a_loopback_port_outside_the_allow_list_is_refused(
    server: LoopbackServer,
    other_server: LoopbackServer,
    make_fetcher: FetcherFactory,
) -> None:
    server.routes["/go"] = redirect(other_server.url("/secret"))
    fetcher = make_fetcher(allow=[f"127.0.0.1/32:{server.port}"])
    with pytest.raises(BlockedPortError, match=f"not on port {other_server.port}"):
        fetcher.fetch_sync(server.url("/go"))
    assert server.connections == 1
    assert other_server.connections == 0


def test_an_endless_redirect_chain_stops_at_the_limit(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    for step in range(20):
        server.routes[f"/hop/{step}"] = redirect(f"/hop/{step + 1}")
    fetcher = make_fetcher(allow=[LOOPBACK], max_redirects=4)
    with pytest.raises(TooManyRedirectsError, match="after 4 redirects"):
        fetcher.fetch_sync(server.url("/hop/0"))
    assert [path for path, _ in server.requests] == [f"/hop/{i}" for i in range(5)]


def test_a_redirect_loop_is_refused_as_a_loop(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect(server.url("/a"), status=301)
    with pytest.raises(RedirectLoopError, match="redirect loop"):
        make_fetcher(allow=[LOOPBACK], max_redirects=10).fetch_sync(server.url("/a"))
    assert len(server.requests) == 2


def test_the_blocking_call_works_inside_a_running_event_loop(
    resolver: ScriptedResolver, guard: LoopbackOnlyBackend
) -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    fetcher = SafeFetcher(FetchPolicy(), resolver=resolver, network_backend=guard)

    async def caller() -> type[BaseException] | None:
        try:
            fetcher.fetch_sync("http://169.254.169.254/latest/meta-data/")
        except BlockedAddressError as exc:
            return type(exc)
        return None

    # A thread of its own: this test's thread may already run a loop (Playwright's).
    with ThreadPoolExecutor(max_workers=1) as pool:
        refused = pool.submit(asyncio.run, caller()).result()
    assert refused is BlockedAddressError
    assert guard.attempts == []
